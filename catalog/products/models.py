"""Products: brands, categories, products and their generated content per locale (app label `catalog`)."""

from django.db import models
from django.db.models import Q

LOCALES = ("en-US", "en-GB", "es-ES", "fr-FR", "de-DE", "it-IT", "pt-PT")
LOCALE_CHOICES = [(code, code) for code in LOCALES]
CONTENT_SECTIONS = (
    "basic_info",
    "technical_analysis",
    "purchase_decision",
    "usage_guidance",
    "maintenance_care",
    "professional_assessment",
)


class Brand(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=140, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=140, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A catalog product (seed 002's fields) and where its AI content stands."""

    class ProcessingStatus(models.TextChoices):
        PENDING = "pending", "pending"
        QUEUED = "queued", "queued in a batch"
        COMPLETED = "completed", "completed"
        FALLBACK = "fallback", "fallback content (regenerate later)"
        FAILED = "failed", "failed"

    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255, unique=True)
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    description = models.TextField(blank=True)
    msrp_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    url_source = models.URLField(max_length=500, blank=True)
    image_uri = models.URLField(max_length=500, blank=True)
    specs = models.JSONField(default=dict, blank=True)
    # Seed 002's shapes (catalog/products/document.py): {store: {product_url, ref_id}} and
    # {front_view | back_view | official_image: {source, page_url, image_url}}.
    store_links = models.JSONField(default=dict, blank=True)
    images = models.JSONField(default=dict, blank=True)
    # The product document's other top-level parts, kept as given so an export gives them back.
    customer_reviews = models.JSONField(default=dict, blank=True)
    content_metadata = models.JSONField(default=dict, blank=True)
    qa = models.JSONField(default=dict, blank=True)
    processing_status = models.CharField(
        max_length=20, choices=ProcessingStatus.choices, default=ProcessingStatus.PENDING, db_index=True
    )
    batch_id = models.CharField(max_length=100, blank=True, help_text="Public id of the batch that last took it.")
    processed_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["category", "processing_status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(msrp_price__isnull=True) | Q(msrp_price__gte=0), name="product_msrp_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(processing_status__in=["pending", "queued", "completed", "fallback", "failed"]),
                name="product_processing_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProductContent(models.Model):
    """Generated content of one product in one locale, with its provenance (one row per pair)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="contents")
    locale = models.CharField(max_length=5, choices=LOCALE_CHOICES)
    # The six sections, customer_reviews, content_metadata and qa, as validated by the task schema.
    content = models.JSONField()
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=100)
    task_version = models.PositiveIntegerField()
    is_fallback = models.BooleanField(default=False, db_index=True)
    generated_at = models.DateTimeField()
    llm_call_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["product", "locale"]
        constraints = [
            models.UniqueConstraint(fields=["product", "locale"], name="product_content_unique_locale"),
            models.CheckConstraint(condition=Q(locale__in=list(LOCALES)), name="product_content_locale_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.locale}"
