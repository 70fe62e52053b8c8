"""Catalog reads (products side): lists with their joins, a product's content, generation picks, counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import BigIntegerField, Case, Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When, Window
from django.db.models.functions import Cast, RowNumber

from catalog.products.models import LOCALES, Category, Product, ProductContent
from config.errors import DomainError, NotFoundError

Status = Product.ProcessingStatus
DEFAULT_LOCALE = "en-US"


def locale_validate(locale: str) -> str:
    """The locale if we generate content in it; DomainError (400) naming the valid ones otherwise."""
    if locale not in LOCALES:
        raise DomainError(f"Unknown locale {locale!r}.", code="invalid_locale", detail={"valid_locales": list(LOCALES)})
    return locale


def locales_parse(raw: str | Sequence[str] | None) -> list[str]:
    """ "de-DE,fr-FR" or a list → validated locales in LOCALES order; nothing given → all of them."""
    if raw is None or raw == "" or raw == []:
        return list(LOCALES)
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    wanted = {locale_validate(item.strip()) for item in items if item.strip()}
    return [locale for locale in LOCALES if locale in wanted] or list(LOCALES)


def products_list(
    *, category: str | None = None, brand: str | None = None, processing_status: str | None = None
) -> QuerySet[Product]:
    """Products with brand, category and their content locales (constant queries for any page)."""
    queryset = Product.objects.select_related("brand", "category").prefetch_related(
        Prefetch(
            "contents",
            queryset=ProductContent.objects.only("id", "product_id", "locale", "is_fallback").order_by("locale"),
            to_attr="content_locales",
        )
    )
    if category:
        queryset = queryset.filter(category__slug=category)
    if brand:
        queryset = queryset.filter(brand__slug=brand)
    if processing_status:
        queryset = queryset.filter(processing_status=processing_status)
    return queryset.order_by("name", "id")


def product_get(*, slug: str) -> Product:
    """A product with brand, category and every locale's content (as `content_locales`)."""
    queryset = Product.objects.select_related("brand", "category").prefetch_related(
        Prefetch("contents", queryset=ProductContent.objects.order_by("locale"), to_attr="content_locales")
    )
    try:
        return queryset.get(slug=slug)
    except Product.DoesNotExist:
        raise NotFoundError(f"No product with slug {slug!r}.") from None


def products_for_documents(*, slugs: Sequence[str] | None = None) -> QuerySet[Product]:
    """Products (all, or these slugs) with brand, category and every locale's content, by slug."""
    queryset = Product.objects.select_related("brand", "category").prefetch_related(
        Prefetch("contents", queryset=ProductContent.objects.order_by("locale"), to_attr="content_locales")
    )
    if slugs:
        queryset = queryset.filter(slug__in=list(slugs))
    return queryset.order_by("slug")


def product_contents_for(*, product_id: int) -> list[ProductContent]:
    return list(ProductContent.objects.filter(product_id=product_id).order_by("locale"))


def products_for_generation(
    *, per_category: int, category_slugs: Sequence[str] | None = None, include_completed: bool = False
) -> QuerySet[Product]:
    """Up to N products per category, those that most need content first (then oldest first).

    One query: a window numbers products inside each category.
    """
    need = Case(
        When(processing_status=Status.PENDING, then=Value(0)),
        When(processing_status=Status.FAILED, then=Value(1)),
        When(processing_status=Status.FALLBACK, then=Value(2)),
        When(processing_status=Status.QUEUED, then=Value(3)),
        default=Value(4),
        output_field=IntegerField(),
    )
    queryset = Product.objects.all()
    if category_slugs:
        queryset = queryset.filter(category__slug__in=list(category_slugs))
    if not include_completed:
        queryset = queryset.exclude(processing_status__in=[Status.COMPLETED, Status.QUEUED])
    ranked = queryset.annotate(
        need=need,
        rank=Window(RowNumber(), partition_by=[F("category_id")], order_by=[need.asc(), F("id").asc()]),
    )
    return ranked.filter(rank__lte=per_category).select_related("brand", "category").order_by("category__name", "rank")


def products_for_inputs(*, product_ids: Sequence[int]) -> QuerySet[Product]:
    return Product.objects.filter(pk__in=list(product_ids)).select_related("brand", "category").order_by("id")


def product_fallback_locales(*, product_ids: Sequence[int]) -> dict[int, list[str]]:
    """product id → the locales whose stored content is the rule-based fallback."""
    pairs = ProductContent.objects.filter(product_id__in=list(product_ids), is_fallback=True).values_list(
        "product_id", "locale"
    )
    result: dict[int, list[str]] = {}
    for product_id, locale in pairs.order_by("product_id", "locale"):
        result.setdefault(product_id, []).append(locale)
    return result


def products_in_open_batches() -> QuerySet:
    """Ids (a subquery) of the products with a content line still waiting in a batch (pending or submitted)."""
    from batches.models import BatchItem
    from catalog.products.llm import PRODUCT_CONTENT  # the task module imports the content services

    waiting = (BatchItem.Status.PENDING, BatchItem.Status.SUBMITTED)
    return (
        BatchItem.objects.filter(
            subject_type=ContentType.objects.get_for_model(Product),
            status__in=waiting,
            batch__task_name=PRODUCT_CONTENT.name,
        )
        .annotate(product_id=Cast("subject_id", BigIntegerField()))
        .values("product_id")
    )


def product_fallback_pairs(*, product_ids: Sequence[int] | None = None) -> tuple[list[tuple[int, str]], int]:
    """(product id, locale) of the stored fallbacks to regenerate, by product then locale, and how many
    more are left out because their product waits in an open batch (never batched twice)."""
    fallbacks = ProductContent.objects.filter(is_fallback=True)
    if product_ids is not None:
        fallbacks = fallbacks.filter(product_id__in=list(product_ids))
    in_batches = Q(product_id__in=products_in_open_batches())
    pairs = list(fallbacks.exclude(in_batches).order_by("product_id", "locale").values_list("product_id", "locale"))
    return pairs, fallbacks.filter(in_batches).count()


@dataclass
class CategoryStatusCounts:
    category: str
    slug: str
    total: int
    by_status: dict[str, int] = field(default_factory=dict)


@dataclass
class ProductStatusReport:
    total: int
    by_status: dict[str, int]
    categories: list[CategoryStatusCounts]
    contents: int
    fallback_contents: int


def products_status_report() -> ProductStatusReport:
    """Counts of products by processing status, overall and per category (three queries)."""
    statuses = [choice.value for choice in Status]
    per_status = {s: Count("products", filter=Q(products__processing_status=s)) for s in statuses}
    rows = Category.objects.annotate(total=Count("products"), **{f"n_{s}": c for s, c in per_status.items()})
    categories = [
        CategoryStatusCounts(
            category=row.name,
            slug=row.slug,
            total=row.total,
            by_status={s: getattr(row, f"n_{s}") for s in statuses},
        )
        for row in rows.order_by("name")
    ]
    totals = Product.objects.aggregate(
        total=Count("id"), **{s: Count("id", filter=Q(processing_status=s)) for s in statuses}
    )
    contents = ProductContent.objects.aggregate(n=Count("id"), fallback=Count("id", filter=Q(is_fallback=True)))
    return ProductStatusReport(
        total=totals["total"],
        by_status={s: totals[s] for s in statuses},
        categories=categories,
        contents=contents["n"],
        fallback_contents=contents["fallback"],
    )
