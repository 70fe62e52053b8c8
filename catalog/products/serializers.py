"""Input and output shapes of the product API and the product-facing batch endpoints."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.products.models import LOCALES, Product, ProductContent
from catalog.products.selectors import DEFAULT_LOCALE, locales_parse
from config.errors import DomainError

MAX_CATEGORY_LIMIT = 1000


class NamedRefSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.SlugField()


class ContentLocaleSerializer(serializers.Serializer):
    locale = serializers.CharField()
    is_fallback = serializers.BooleanField()


class ProductListSerializer(serializers.ModelSerializer):
    brand = NamedRefSerializer()
    category = NamedRefSerializer()
    content_locales = serializers.SerializerMethodField(
        help_text="Locales that have generated content, and whether each is the rule-based fallback."
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "slug",
            "brand",
            "category",
            "msrp_price",
            "processing_status",
            "processed_at",
            "content_locales",
        ]

    @extend_schema_field(ContentLocaleSerializer(many=True))
    def get_content_locales(self, product: Product) -> list[dict[str, Any]]:
        # `content_locales` is prefetched by products_list (to_attr): no query per product.
        return [{"locale": c.locale, "is_fallback": c.is_fallback} for c in getattr(product, "content_locales", [])]


class ProvenanceSerializer(serializers.Serializer):
    provider = serializers.CharField()
    model = serializers.CharField()
    task_version = serializers.IntegerField()
    is_fallback = serializers.BooleanField(help_text="True: rule-based text from the product's own fields.")
    generated_at = serializers.DateTimeField()
    llm_call_id = serializers.IntegerField(allow_null=True, help_text="The usage-ledger row of the call.")


class ProductContentSerializer(serializers.ModelSerializer):
    content = serializers.SerializerMethodField(
        help_text="The sections basic_info, technical_analysis, purchase_decision, usage_guidance, "
        "maintenance_care, professional_assessment, plus customer_reviews, content_metadata and qa."
    )
    provenance = serializers.SerializerMethodField()

    class Meta:
        model = ProductContent
        fields = ["locale", "content", "provenance"]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_content(self, row: ProductContent) -> dict[str, Any]:
        return row.content

    @extend_schema_field(ProvenanceSerializer)
    def get_provenance(self, row: ProductContent) -> dict[str, Any]:
        return ProvenanceSerializer(row).data


class ProductDetailSerializer(ProductListSerializer):
    locale = serializers.SerializerMethodField()
    content = serializers.SerializerMethodField(help_text="null when this locale has no content yet.")

    class Meta(ProductListSerializer.Meta):
        fields = [
            *ProductListSerializer.Meta.fields,
            "description",
            "url_source",
            "image_uri",
            "specs",
            "store_links",
            "images",
            "customer_reviews",
            "content_metadata",
            "qa",
            "batch_id",
            "error_message",
            "locale",
            "content",
        ]

    def get_locale(self, product: Product) -> str:
        return self.context["locale"]

    @extend_schema_field(ProductContentSerializer(allow_null=True))
    def get_content(self, product: Product) -> dict[str, Any] | None:
        row = next((c for c in getattr(product, "content_locales", []) if c.locale == self.context["locale"]), None)
        return ProductContentSerializer(row).data if row is not None else None


class ProductDocumentInputSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.SlugField()
    brand = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    msrp_price = serializers.FloatField(allow_null=True)
    url_source = serializers.CharField(allow_blank=True)
    image_uri = serializers.CharField(allow_blank=True)
    specs = serializers.JSONField()
    store_links = serializers.JSONField(help_text="store → {product_url, ref_id}")


class ProductDocumentSerializer(serializers.Serializer):
    """Seed 002's product document (the shape import_products reads)."""

    product_input = ProductDocumentInputSerializer()
    images = serializers.JSONField(help_text="front_view / back_view / official_image → {source, page_url, image_url}")
    ai_generated_content = serializers.JSONField(help_text="Every locale → its content sections ({} when none yet).")
    customer_reviews = serializers.JSONField()
    content_metadata = serializers.JSONField()
    qa = serializers.JSONField()


class ProductDetailQuerySerializer(serializers.Serializer):
    locale = serializers.ChoiceField(
        choices=list(LOCALES), default=DEFAULT_LOCALE, help_text="Which locale's content to return."
    )


def _validate_locales(value: str) -> list[str]:
    try:
        return locales_parse(value)
    except DomainError as exc:
        raise serializers.ValidationError(exc.message) from exc


class ProductBatchCreateQuerySerializer(serializers.Serializer):
    category_limit = serializers.IntegerField(
        default=3, min_value=1, max_value=MAX_CATEGORY_LIMIT, help_text="Products per category."
    )
    locales = serializers.CharField(
        required=False,
        default="",
        help_text=f"Comma-separated locales; default all seven ({', '.join(LOCALES)}).",
    )
    include_completed = serializers.BooleanField(
        default=False, help_text="Also take products whose content is complete (regenerate them)."
    )

    def validate_locales(self, value: str) -> list[str]:
        return _validate_locales(value)


class ProductBatchCreatedSerializer(serializers.Serializer):
    batch_id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    task_name = serializers.CharField()
    item_count = serializers.IntegerField(help_text="Lines: products × locales.")
    product_count = serializers.IntegerField()
    locales = serializers.ListField(child=serializers.CharField())


class CategoryStatusSerializer(serializers.Serializer):
    category = serializers.CharField()
    slug = serializers.SlugField()
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())


class ProductStatusReportSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    categories = CategoryStatusSerializer(many=True)
    contents = serializers.IntegerField(help_text="Stored (product, locale) contents.")
    fallback_contents = serializers.IntegerField(help_text="Of which rule-based fallbacks (to regenerate).")
