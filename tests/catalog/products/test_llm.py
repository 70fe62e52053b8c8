"""The product-content task: strict schema, honest fallback in every locale, prompts per locale, checks."""

import json

import pytest

from catalog.products.llm import (
    ITEM_MAX,
    PRODUCT_CONTENT,
    ProductContentOutput,
    check_language,
    check_text_lengths,
    output_texts,
)
from catalog.products.llm_locales import LOCALE_TEXTS, instrument_kind
from catalog.products.models import LOCALES, Product, ProductContent
from llm.models import LLMCall
from llm.runtime import run
from llm.simulator.schema_fill import strict_schema_problems
from llm.task import get_task
from tests.catalog.products_helpers import product_input
from tests.factories import ProductFactory

NON_ENGLISH = [locale for locale in LOCALES if not locale.startswith("en-")]


def test_task_is_registered_with_a_strict_schema_and_the_catalog_hooks():
    assert get_task("product_content") is PRODUCT_CONTENT
    # Strict mode: every object closed and fully required, so no free-form dict fields either.
    assert strict_schema_problems(PRODUCT_CONTENT.schema) == []
    assert PRODUCT_CONTENT.apply is not None
    assert PRODUCT_CONTENT.apply_many is not None
    assert PRODUCT_CONTENT.fail is not None
    assert PRODUCT_CONTENT.subject(product_input(product_id=42)) == ("catalog.product", 42)


@pytest.mark.parametrize("locale", LOCALES)
def test_fallback_validates_and_passes_every_check_in_each_locale(locale):
    task_input = product_input(locale)

    output = PRODUCT_CONTENT.fallback_output(task_input)

    assert isinstance(output, ProductContentOutput)
    assert PRODUCT_CONTENT.quality_problems(task_input, output) == []
    assert 3 <= len(output.qa) <= 5
    # Honest: no invented reviews or verdicts, only the listing's own facts.
    assert output.customer_reviews.typical_praise == []
    assert output.customer_reviews.typical_concerns == []
    assert output.professional_assessment.pros == output.professional_assessment.cons == []
    assert output.customer_reviews.summary == LOCALE_TEXTS[locale].t["reviews_none"]
    assert "Fender" in output.basic_info.overview
    assert "Body: Alder" in output.basic_info.key_features


def test_fallback_is_written_in_each_locales_own_words():
    overviews = {
        locale: PRODUCT_CONTENT.fallback_output(product_input(locale)).basic_info.overview for locale in LOCALES
    }

    assert "1.299,99 USD" in overviews["de-DE"]
    assert "unverbindliche Preisempfehlung" in overviews["de-DE"]
    assert "USD 1,299.99" in overviews["en-US"]
    assert "RRP" in overviews["en-GB"]
    assert "prix public conseillé" in overviews["fr-FR"]
    assert len({overviews[locale] for locale in NON_ENGLISH}) == len(NON_ENGLISH)
    for locale in NON_ENGLISH:
        assert overviews[locale] != overviews["en-US"]


def test_fallback_without_price_specs_or_description_says_so_instead_of_guessing():
    task_input = product_input("es-ES", msrp_price=None, specs={}, description="")

    output = PRODUCT_CONTENT.fallback_output(task_input)

    t = LOCALE_TEXTS["es-ES"].t
    assert t["no_price"] in output.basic_info.overview
    assert output.basic_info.key_features == [t["no_specs_item"]]
    assert output.qa[2].answer == t["a_no_price"]
    assert output.qa[3].answer == t["a_no_specs"]
    assert "USD" not in json.dumps(output.model_dump())


def test_fallback_gives_family_specific_care_advice():
    drums = PRODUCT_CONTENT.fallback_output(
        product_input("de-DE", category="Drums & Percussion", category_slug="drums")
    )
    unknown = PRODUCT_CONTENT.fallback_output(product_input("de-DE", category="Zubehör", category_slug="zubehor"))

    assert drums.maintenance_care.tips == [LOCALE_TEXTS["de-DE"].kind_care["drums"]]
    assert unknown.maintenance_care.tips == [LOCALE_TEXTS["de-DE"].kind_care["generic"]]
    assert instrument_kind(category_slug="amps-effects", category_name="Amps & Effects") == "electronics"
    assert instrument_kind(category_slug="basses", category_name="Basses") == "strings"


def test_fallback_stays_within_limits_for_huge_fields():
    task_input = product_input(
        "it-IT", name="N" * 255, description="word " * 5000, specs={f"k{i}": "v" * 500 for i in range(40)}
    )

    output = PRODUCT_CONTENT.fallback_output(task_input)

    assert check_text_lengths(task_input, output) == []
    assert all(len(text) <= ITEM_MAX for path, text, _ in output_texts(output) if path.endswith("]"))


@pytest.mark.parametrize(
    ("locale", "instruction"),
    [
        ("de-DE", "Schreibe auf Deutsch"),
        ("fr-FR", "Écrivez en français"),
        ("es-ES", "Escribe en español"),
        ("it-IT", "Scrivi in italiano"),
        ("pt-PT", "português europeu"),
        ("en-GB", "British English"),
        ("en-US", "American English"),
    ],
)
def test_prompt_is_written_in_the_target_language(locale, instruction):
    messages = PRODUCT_CONTENT.build_messages(product_input(locale))

    assert [m["role"] for m in messages] == ["system", "user"]
    assert instruction in messages[0]["content"]
    labels = LOCALE_TEXTS[locale].labels
    assert f"{labels['brand']}: Fender" in messages[1]["content"]
    assert "- Body: Alder" in messages[1]["content"]


def test_german_prompt_uses_german_labels_and_number_format():
    user = PRODUCT_CONTENT.build_messages(product_input("de-DE"))[1]["content"]

    assert "Marke: Fender" in user
    assert "Unverbindliche Preisempfehlung (UVP): 1.299,99 USD" in user
    assert "Technische Daten:" in user


def test_language_check_rejects_english_text_for_a_german_locale():
    task_input = product_input("de-DE")
    english = PRODUCT_CONTENT.fallback_output(product_input("en-US"))
    german = PRODUCT_CONTENT.fallback_output(task_input)

    assert check_language(task_input, english)
    assert check_language(task_input, german) == []
    assert check_language(product_input("en-US"), english) == []


def test_length_check_names_the_empty_and_the_too_long_fields():
    task_input = product_input("en-US")
    output = PRODUCT_CONTENT.fallback_output(task_input)
    output.basic_info.overview = " "
    output.usage_guidance.tips = ["x" * (ITEM_MAX + 1)]

    problems = check_text_lengths(task_input, output)

    assert "basic_info.overview is empty" in problems
    assert any(p.startswith("usage_guidance.tips[0] is") for p in problems)


@pytest.mark.django_db
def test_run_through_the_simulator_applies_model_content_with_provenance(sim):
    product = ProductFactory()
    task_input = product_input("de-DE", product_id=product.pk)

    result = run(PRODUCT_CONTENT, task_input)

    assert not result.is_fallback
    row = ProductContent.objects.get(product=product, locale="de-DE")
    assert (row.provider, row.model, row.is_fallback, row.task_version) == ("openai", "gpt-4o-mini", False, 1)
    assert row.llm_call_id == LLMCall.objects.get().pk
    ProductContentOutput.model_validate(row.content)
    request = next(c for c in sim.calls if c.endpoint == "chat.completions")
    assert "Schreibe auf Deutsch" in request.json["messages"][0]["content"]
    assert request.json["response_format"]["json_schema"]["strict"] is True
    # One locale of seven from a model: more to generate.
    assert Product.objects.get(pk=product.pk).processing_status == "pending"


@pytest.mark.django_db
def test_offline_run_stores_the_flagged_fallback(settings):
    settings.LLM_PROVIDER = ""
    settings.OPENAI_API_KEY = ""
    product = ProductFactory()

    result = run(PRODUCT_CONTENT, product_input("pt-PT", product_id=product.pk))

    assert result.is_fallback
    row = ProductContent.objects.get(product=product)
    assert (row.provider, row.model, row.is_fallback) == ("fallback", "rule-based", True)
    assert Product.objects.get(pk=product.pk).processing_status == "fallback"
