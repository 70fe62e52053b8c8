"""The usage ledger (one row per LLM call, whatever its outcome) and Responses API conversations."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q


class LLMCall(models.Model):
    """One LLM call: cached, fallback and failed ones too. Metrics, costs and the admin read this."""

    class Mode(models.TextChoices):
        NOW = "now", "now"
        BULK = "bulk", "bulk"
        BATCH = "batch", "batch"
        CONVERSATION = "conversation", "conversation"

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "succeeded"
        CACHED = "cached", "cached"
        FALLBACK = "fallback", "fallback"
        FAILED = "failed", "failed"
        # Background work that met an unavailable provider: nothing applied, the item stays pending.
        DEFERRED = "deferred", "deferred"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    task = models.CharField(max_length=100)
    task_version = models.PositiveIntegerField()
    provider = models.CharField(max_length=20)
    model = models.CharField(max_length=100)
    mode = models.CharField(max_length=20, choices=Mode.choices)
    status = models.CharField(max_length=20, choices=Status.choices)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Provider requests made (0 for cache hits).")
    tokens_in = models.PositiveIntegerField(default=0, help_text="Input tokens billed, summed over every attempt.")
    tokens_cached = models.PositiveIntegerField(
        default=0, help_text="Of the input tokens, those the provider served from its prompt cache."
    )
    tokens_out = models.PositiveIntegerField(default=0, help_text="Output tokens billed, summed over every attempt.")
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    rate_limit_errors = models.PositiveSmallIntegerField(default=0)
    timeout_errors = models.PositiveSmallIntegerField(default=0)
    api_errors = models.PositiveSmallIntegerField(default=0)
    error_class = models.CharField(max_length=40, blank=True, help_text="Why the call failed or fell back.")
    error_message = models.CharField(max_length=500, blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    cache_key = models.CharField(max_length=64, blank=True)
    subject_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject_id = models.CharField(max_length=64, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="llm_calls"
    )

    class Meta:
        verbose_name = "LLM call"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["task", "created_at"]),
            models.Index(fields=["subject_type", "subject_id"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["succeeded", "cached", "fallback", "failed", "deferred"]),
                name="llmcall_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(mode__in=["now", "bulk", "batch", "conversation"]), name="llmcall_mode_valid"
            ),
            models.CheckConstraint(condition=Q(cost_usd__gte=0), name="llmcall_cost_non_negative"),
            models.CheckConstraint(condition=Q(tokens_cached__lte=F("tokens_in")), name="llmcall_cached_within_input"),
            # A failure or fallback always says why.
            models.CheckConstraint(
                condition=Q(status__in=["succeeded", "cached"]) | ~Q(error_class=""), name="llmcall_failure_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} v{self.task_version} {self.status} ({self.model})"


class Conversation(models.Model):
    """A multi-turn exchange over the Responses API, chained by `previous_response_id`."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    provider = models.CharField(max_length=20)
    model = models.CharField(max_length=100)
    last_response_id = models.CharField(max_length=100, blank=True)
    subject_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject_id = models.CharField(max_length=64, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="llm_conversations"
    )

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title


class ConversationTurn(models.Model):
    """One user message and the model's answer. Tokens are what the provider billed for the turn."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    index = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    user_input = models.TextField()
    output_text = models.TextField(blank=True)
    output_json = models.JSONField(null=True, blank=True)
    response_id = models.CharField(max_length=100, blank=True)
    previous_response_id = models.CharField(max_length=100, blank=True)
    replayed = models.BooleanField(default=False, help_text="History was replayed instead of chained.")
    is_fallback = models.BooleanField(default=False)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    call = models.ForeignKey(LLMCall, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["conversation", "index"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "index"], name="conversation_turn_unique_index"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.index}"


class TaskRevision(models.Model):
    """Staff's prompt-version bumps of one LLM task (admin → LLM tasks), on top of its code version.

    A bump clears the task's cached answers and asks its domain to mark the results made so far as
    stale (`LLMTask.mark_stale`), so the regeneration that follows goes back to the model.
    """

    task = models.CharField(max_length=100, unique=True)
    revision = models.PositiveIntegerField(default=0)
    bumped_at = models.DateTimeField(null=True, blank=True)
    bumped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True, help_text="Why it was bumped.")

    class Meta:
        ordering = ["task"]

    def __str__(self) -> str:
        return f"{self.task} r{self.revision}"
