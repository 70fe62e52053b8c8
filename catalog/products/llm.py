"""The product-content LLM task: content for one product in one locale (seed 002's sections).

The input carries the product's own fields, so a batch stores it as JSON and can rebuild the
prompt, the fallback and the apply long after the product row changed. The prompt is written in
the target locale's language; the fallback writes honest text from the same fields in all seven
locales (catalog/products/llm_locales.py).
"""

from __future__ import annotations

import operator
import re
from decimal import Decimal
from typing import Literal, get_args

from pydantic import BaseModel, Field

from catalog.products.llm_locales import LOCALE_TEXTS, LocaleText, instrument_kind
from catalog.products.models import LOCALES
from catalog.products.services.content import (
    product_content_apply,
    product_content_fail,
    product_contents_apply_many,
    product_contents_mark_stale,
)
from llm.task import LLMTask, Message, Provenance, register

Locale = Literal["en-US", "en-GB", "es-ES", "fr-FR", "de-DE", "it-IT", "pt-PT"]
assert set(get_args(Locale)) == set(LOCALES)  # noqa: S101 - the Literal must follow the model's locales

TEXT_MAX = 700  # characters per paragraph field
ITEM_MAX = 240  # characters per list item
SEO_TITLE_MAX = 90
META_DESCRIPTION_MAX = 200
DESCRIPTION_PROMPT_MAX = 2000  # the product description is cut here in the prompt
SPECS_PROMPT_MAX = 25


class ProductInput(BaseModel):
    """One (product, locale) pair with the product fields the prompt and the fallback need."""

    product_id: int
    locale: Locale
    name: str
    brand: str
    category: str
    category_slug: str = ""
    description: str = ""
    msrp_price: Decimal | None = None
    specs: dict[str, str] = Field(default_factory=dict)


# --- output: every field required, no dicts (strict structured outputs) ---------------------------


class BasicInfo(BaseModel):
    overview: str = Field(description="Two or three sentences introducing the product.")
    key_features: list[str] = Field(min_length=1, max_length=5, description="Short feature bullet points.")
    ideal_for: list[str] = Field(min_length=1, max_length=3, description="Kinds of players it suits.")


class TechnicalAnalysis(BaseModel):
    summary: str = Field(description="What the specifications mean in practice, in two or three sentences.")
    notable_specs: list[str] = Field(min_length=1, max_length=6, description="Specifications worth knowing.")
    considerations: list[str] = Field(max_length=4, description="Technical points to check before buying.")


class PurchaseDecision(BaseModel):
    value_summary: str = Field(description="How the price relates to what the product offers.")
    buy_if: list[str] = Field(min_length=1, max_length=4)
    think_twice_if: list[str] = Field(max_length=4)


class UsageGuidance(BaseModel):
    getting_started: str
    tips: list[str] = Field(min_length=1, max_length=5)


class MaintenanceCare(BaseModel):
    routine: str
    tips: list[str] = Field(min_length=1, max_length=5)


class ProfessionalAssessment(BaseModel):
    verdict: str
    pros: list[str] = Field(max_length=5)
    cons: list[str] = Field(max_length=5)


class CustomerReviews(BaseModel):
    summary: str = Field(
        description="Not real reviews: what buyers of this kind of product typically value and worry about."
    )
    typical_praise: list[str] = Field(max_length=4)
    typical_concerns: list[str] = Field(max_length=4)


class ContentMetadata(BaseModel):
    seo_title: str = Field(description="At most 70 characters.")
    meta_description: str = Field(description="At most 160 characters.")
    keywords: list[str] = Field(min_length=3, max_length=8)


class QAItem(BaseModel):
    question: str
    answer: str


class ProductContentOutput(BaseModel):
    basic_info: BasicInfo
    technical_analysis: TechnicalAnalysis
    purchase_decision: PurchaseDecision
    usage_guidance: UsageGuidance
    maintenance_care: MaintenanceCare
    professional_assessment: ProfessionalAssessment
    customer_reviews: CustomerReviews
    content_metadata: ContentMetadata
    qa: list[QAItem] = Field(min_length=3, max_length=5)


# --- prompt ---------------------------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def build_messages(product: ProductInput) -> list[Message]:
    """A system prompt and the product facts, both in the target locale's language."""
    lt = LOCALE_TEXTS[product.locale]
    labels = lt.labels
    specs = [f"- {key}: {value}" for key, value in list(product.specs.items())[:SPECS_PROMPT_MAX]]
    facts = [
        f"{labels['name']}: {product.name}",
        f"{labels['brand']}: {product.brand}",
        f"{labels['category']}: {product.category}",
        f"{labels['price']}: {lt.price(product.msrp_price) or labels['none']}",
        f"{labels['description']}: {_clip(product.description, DESCRIPTION_PROMPT_MAX) or labels['none']}",
        f"{labels['specs']}:",
        *(specs or [f"- {labels['none']}"]),
    ]
    return [
        {"role": "system", "content": lt.system},
        {"role": "user", "content": "\n".join(facts) + "\n\n" + lt.instructions},
    ]


# --- fallback -------------------------------------------------------------------------------------


def _spec_items(product: ProductInput, limit: int) -> list[str]:
    return [_clip(f"{key}: {value}", ITEM_MAX) for key, value in list(product.specs.items())[:limit]]


def _fmt(template: str, product: ProductInput, lt: LocaleText, **extra: object) -> str:
    return template.format(
        name=product.name,
        brand=product.brand,
        category=product.category,
        price=lt.price(product.msrp_price) or "",
        source_note=lt.english_source_note,
        **extra,
    )


def _overview(product: ProductInput, lt: LocaleText) -> str:
    """The fallback's overview paragraph (the language check compares against the English one)."""
    t = lt.t
    price_sentence = _fmt(t["price"] if product.msrp_price is not None else t["no_price"], product, lt)
    overview = f"{_fmt(t['overview'], product, lt)} {price_sentence}"
    if product.description.strip():
        description = _clip(product.description, max(80, TEXT_MAX - len(overview) - 60))
        overview = _clip(f"{overview} {_fmt(t['description'], product, lt, description=description)}", TEXT_MAX)
    return overview


def fallback(product: ProductInput) -> ProductContentOutput:
    """Honest rule-based content from the product's own fields, in the input's locale."""
    lt = LOCALE_TEXTS[product.locale]
    t = lt.t
    kind = instrument_kind(category_slug=product.category_slug, category_name=product.category)
    has_price = product.msrp_price is not None
    overview = _overview(product, lt)
    specs = _spec_items(product, 5)
    keywords = list(dict.fromkeys(k for k in (product.name, product.brand, product.category) if k))
    keywords += [key for key in product.specs if key not in keywords][: max(0, 3 - len(keywords))]
    while len(keywords) < 3:  # strict schema: at least three, and the listing gave fewer distinct terms
        keywords.append(f"{product.brand} {product.category}")
    qa = [
        QAItem(question=_fmt(t["q_brand"], product, lt), answer=_fmt(t["a_brand"], product, lt)),
        QAItem(question=_fmt(t["q_category"], product, lt), answer=_fmt(t["a_category"], product, lt)),
        QAItem(
            question=_fmt(t["q_price"], product, lt),
            answer=_fmt(t["a_price"] if has_price else t["a_no_price"], product, lt),
        ),
        QAItem(
            question=_fmt(t["q_specs"], product, lt),
            answer=_clip("; ".join(_spec_items(product, 6)), TEXT_MAX) if specs else t["a_no_specs"],
        ),
    ]
    return ProductContentOutput(
        basic_info=BasicInfo(
            overview=overview,
            key_features=specs or [t["no_specs_item"]],
            ideal_for=[_fmt(t["ideal_for"], product, lt)],
        ),
        technical_analysis=TechnicalAnalysis(
            summary=_fmt(t["tech_specs"], product, lt, count=len(product.specs)) if specs else t["tech_none"],
            notable_specs=_spec_items(product, 6) or [t["no_specs_item"]],
            considerations=[t["verify"]],
        ),
        purchase_decision=PurchaseDecision(
            value_summary=_fmt(t["value_price"] if has_price else t["value_none"], product, lt),
            buy_if=[_fmt(t["buy_if"], product, lt)],
            think_twice_if=[t["think_twice"]],
        ),
        usage_guidance=UsageGuidance(getting_started=t["getting_started"], tips=[lt.kind_usage[kind], t["try_first"]]),
        maintenance_care=MaintenanceCare(routine=t["care_routine"], tips=[lt.kind_care[kind]]),
        professional_assessment=ProfessionalAssessment(verdict=t["verdict"], pros=[], cons=[]),
        customer_reviews=CustomerReviews(summary=t["reviews_none"], typical_praise=[], typical_concerns=[]),
        content_metadata=ContentMetadata(
            seo_title=_clip(f"{product.name} – {product.brand}", SEO_TITLE_MAX),
            meta_description=_clip(overview, META_DESCRIPTION_MAX),
            keywords=[_clip(k, ITEM_MAX) for k in keywords[:8]],
        ),
        qa=qa,
    )


# --- quality checks -------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


_SHORT_LIMITS = {"seo_title": SEO_TITLE_MAX, "meta_description": META_DESCRIPTION_MAX}


def output_texts(output: ProductContentOutput) -> list[tuple[str, str, int]]:
    """(path, text, limit) for every text in an output, so checks and tests walk one list."""
    texts: list[tuple[str, str, int]] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, BaseModel):
            for name in type(node).model_fields:
                walk(getattr(node, name), f"{path}.{name}" if path else name)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                limit_path = f"{path}[{index}]"
                if isinstance(item, str):
                    texts.append((limit_path, item, ITEM_MAX))
                else:
                    walk(item, limit_path)
        elif isinstance(node, str):
            texts.append((path, node, _SHORT_LIMITS.get(path.rsplit(".", 1)[-1], TEXT_MAX)))

    walk(output, "")
    return texts


def _texts(output: ProductContentOutput) -> tuple[list[str], list[int]]:
    """Every text and its limit (two parallel lists), without paths: the checks run on every line of
    a batch ingest (hundreds of thousands), so they walk the fields' values and name paths only when
    they complain. An exact `str` (what pydantic builds) takes the short way."""
    texts: list[str] = []
    limits: list[int] = []
    stack: list[tuple[str, object]] = list(output.__dict__.items())
    while stack:
        key, node = stack.pop()
        if type(node) is str:
            texts.append(node)
            limits.append(_SHORT_LIMITS.get(key, TEXT_MAX))
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, str):
                    texts.append(item)
                    limits.append(ITEM_MAX)
                else:
                    stack.append((key, item))
        elif isinstance(node, str):
            texts.append(node)
            limits.append(_SHORT_LIMITS.get(key, TEXT_MAX))
        elif isinstance(node, BaseModel):
            stack.extend(node.__dict__.items())
    return texts, limits


def _length_problems(texts: tuple[list[str], list[int]], output: ProductContentOutput) -> list[str]:
    values, limits = texts
    if all(map(str.strip, values)) and all(map(operator.le, map(len, values), limits)):
        return []
    problems = []
    for path, text, limit in output_texts(output):
        if not text.strip():
            problems.append(f"{path} is empty")
        elif len(text) > limit:
            problems.append(f"{path} is {len(text)} characters long; at most {limit}")
    return problems[:10]


def _words(text: str) -> list[str]:
    """`_WORD.findall(text)`, a third faster: whitespace-separated tokens made only of letters (most
    of them) are words as they are; the regex runs on the rest."""
    words: list[str] = []
    for token in text.split():
        if token.isalpha():
            words.append(token)
        else:
            words.extend(_WORD.findall(token))
    return words


# Per locale: English common words that are not also the locale's own (the check counts both).
_ENGLISH_ONLY = {locale: LOCALE_TEXTS["en-US"].words - texts.words for locale, texts in LOCALE_TEXTS.items()}


def _language_problems(
    product: ProductInput, texts: tuple[list[str], list[int]], output: ProductContentOutput
) -> list[str]:
    if product.locale.startswith("en-"):
        return []
    lt = LOCALE_TEXTS[product.locale]
    words = _words(" ".join(texts[0]).lower())
    english = sum(map(_ENGLISH_ONLY[product.locale].__contains__, words))
    local = sum(map(lt.words.__contains__, words))
    if english >= 12 and english > 3 * local:
        return [f"the text is in English; write it in {lt.language} ({product.locale})"]
    english_overview = _overview(product.model_copy(update={"locale": "en-US"}), LOCALE_TEXTS["en-US"])
    if output.basic_info.overview.strip() == english_overview.strip():
        return [f"basic_info.overview is the untranslated English text; write it in {lt.language}"]
    return []


def check_text_lengths(product: ProductInput, output: ProductContentOutput) -> list[str]:
    """No text empty or longer than its limit."""
    return _length_problems(_texts(output), output)


def check_language(product: ProductInput, output: ProductContentOutput) -> list[str]:
    """A non-English locale must not come back in English (common words decide, so any text passes
    that has too few of them to judge)."""
    return _language_problems(product, _texts(output), output)


def check_texts(product: ProductInput, output: ProductContentOutput) -> list[str]:
    """Both checks above over one walk of the output (the task's check: it runs on every batch line)."""
    texts = _texts(output)
    return _length_problems(texts, output) + _language_problems(product, texts, output)


# --- wiring to the catalog services ---------------------------------------------------------------


def apply(product: ProductInput, output: ProductContentOutput, provenance: Provenance) -> None:
    product_content_apply(
        product_id=product.product_id,
        locale=product.locale,
        content=output.model_dump(mode="json"),
        provenance=provenance,
    )


def apply_many(items: list[tuple[ProductInput, ProductContentOutput, Provenance]]) -> None:
    product_contents_apply_many(
        items=[
            (product.product_id, product.locale, output.model_dump_json(), provenance)
            for product, output, provenance in items
        ]
    )


def fail(product: ProductInput, reason: str) -> None:
    product_content_fail(product_id=product.product_id, locale=product.locale, reason=reason)


PRODUCT_CONTENT: LLMTask[ProductInput, ProductContentOutput] = register(
    LLMTask(
        name="product_content",
        version=1,
        input_model=ProductInput,
        output_model=ProductContentOutput,
        build_messages=build_messages,
        fallback=fallback,
        checks=(check_texts,),
        apply=apply,
        apply_many=apply_many,
        fail=fail,
        subject=lambda product: ("catalog.product", product.product_id),
        mark_stale=product_contents_mark_stale,
        max_output_tokens=1600,
        temperature=0.4,
        description="Multi-locale product content: six sections, reviews summary, metadata and Q&A.",
    )
)
