"""Input and output shapes of the leads, conversation and lead-batch API (staff or service key).

Model output (analysis, pain points, drafts, turn text) is untrusted data: returned as JSON, never
rendered as HTML here.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.leads.funnel import TASK_TYPES
from catalog.leads.models import Lead, LeadSource, LeadStage, LeadVerdict
from config.api.fields import DB_BIGINT_MAX
from llm.models import ConversationTurn

MAX_JOB_IDS = 5000
MAX_POSTINGS = 1000


class LeadQuerySerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=LeadStage.choices, required=False)
    verdict = serializers.ChoiceField(choices=LeadVerdict.choices, required=False)
    source = serializers.ChoiceField(choices=LeadSource.choices, required=False)  # type: ignore[assignment]
    min_score = serializers.IntegerField(required=False, min_value=0, max_value=100)
    max_score = serializers.IntegerField(required=False, min_value=0, max_value=100)
    q = serializers.CharField(required=False, default="", max_length=200, help_text="Words in title or company.")


class LeadJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    company = serializers.CharField()
    location = serializers.CharField()
    url = serializers.CharField()
    posted_at = serializers.DateTimeField(allow_null=True)


class LeadListSerializer(serializers.ModelSerializer):
    job = LeadJobSerializer(read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "job",
            "source",
            "stage",
            "stage_changed_at",
            "score",
            "verdict",
            "reason",
            "qualified_at",
            "analyzed_at",
            "conversation",
            "draft_generated_at",
            "created_at",
        ]
        read_only_fields = fields


class StageChangeSerializer(serializers.Serializer):
    from_stage = serializers.CharField()
    to_stage = serializers.CharField()
    changed_at = serializers.DateTimeField()
    note = serializers.CharField()


class LeadDetailSerializer(LeadListSerializer):
    stage_changes = StageChangeSerializer(many=True, read_only=True)
    analysis = serializers.JSONField(read_only=True)
    pain_points = serializers.JSONField(read_only=True)
    parsed = serializers.JSONField(read_only=True)
    suggested_offerings = serializers.JSONField(read_only=True)
    roi_estimate = serializers.JSONField(read_only=True)
    roi_assumptions = serializers.JSONField(read_only=True)
    provenance = serializers.JSONField(read_only=True, help_text="Per task: provider, model, fallback or not, when.")

    class Meta(LeadListSerializer.Meta):
        fields = [
            *LeadListSerializer.Meta.fields,
            "analysis",
            "pain_points",
            "parsed",
            "suggested_offerings",
            "roi_estimate",
            "roi_assumptions",
            "draft_subject",
            "draft_body",
            "draft_is_fallback",
            "contacted_at",
            "provenance",
            "failures",
            "last_error",
            "stage_changes",
        ]
        read_only_fields = fields


# --- conversations ---------------------------------------------------------------------------------


class ConversationJobSerializer(serializers.Serializer):
    job_id = serializers.IntegerField(
        min_value=1, max_value=DB_BIGINT_MAX, help_text="The job listing (its lead is made if missing)."
    )


class ConversationAskSerializer(ConversationJobSerializer):
    question = serializers.CharField(max_length=2000, help_text="A follow-up question about this lead.")


class TurnSerializer(serializers.ModelSerializer):
    output = serializers.SerializerMethodField(help_text="The structured output, or the text of a free answer.")
    tokens_in = serializers.SerializerMethodField(help_text="Input tokens billed (the whole prior context).")
    tokens_cached = serializers.SerializerMethodField(help_text="Of those, served from the provider's prompt cache.")
    tokens_out = serializers.SerializerMethodField()
    cost_usd = serializers.SerializerMethodField()

    class Meta:
        model = ConversationTurn
        fields = [
            "index",
            "created_at",
            "output",
            "replayed",
            "is_fallback",
            "tokens_in",
            "tokens_cached",
            "tokens_out",
            "cost_usd",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.ANY)
    def get_output(self, turn: ConversationTurn) -> Any:
        return turn.output_json if turn.output_json is not None else turn.output_text

    def get_tokens_in(self, turn: ConversationTurn) -> int:
        return turn.call.tokens_in if turn.call else turn.tokens_in

    def get_tokens_cached(self, turn: ConversationTurn) -> int:
        return turn.call.tokens_cached if turn.call else 0

    def get_tokens_out(self, turn: ConversationTurn) -> int:
        return turn.call.tokens_out if turn.call else turn.tokens_out

    def get_cost_usd(self, turn: ConversationTurn) -> str:
        return str(turn.call.cost_usd) if turn.call else "0"


class TurnResultSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField(source="lead.pk")
    job_id = serializers.IntegerField(source="lead.job_id")
    stage = serializers.CharField(source="lead.stage")
    conversation_id = serializers.IntegerField(source="turn.conversation_id")
    turn = TurnSerializer()


class ConversationTurnFullSerializer(TurnSerializer):
    asked = serializers.CharField(source="user_input", help_text="The message sent (the posting block included).")

    class Meta(TurnSerializer.Meta):
        fields = ["index", "asked", *TurnSerializer.Meta.fields[1:]]
        read_only_fields = fields


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    lead_id = serializers.IntegerField()
    job_id = serializers.IntegerField()
    provider = serializers.CharField()
    model = serializers.CharField()
    created_at = serializers.DateTimeField()
    turns = ConversationTurnFullSerializer(many=True)
    totals = serializers.DictField(help_text="Billed tokens and cost summed over the turns (usage ledger).")


class SummarySerializer(serializers.Serializer):
    """Shape of the summary (the JSON the services return)."""

    lead_id = serializers.IntegerField()
    job_id = serializers.IntegerField()
    stage = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)
    conversation_id = serializers.IntegerField(allow_null=True)
    turns = serializers.ListField(child=serializers.DictField())
    totals = serializers.DictField(allow_null=True)
    analysis = serializers.DictField()
    pain_points = serializers.ListField(child=serializers.DictField())
    roi_estimate = serializers.DictField()
    roi_assumptions = serializers.ListField(child=serializers.CharField())
    suggested_offerings = serializers.ListField(child=serializers.DictField())
    draft = serializers.DictField()
    note = serializers.CharField()


# --- batches ---------------------------------------------------------------------------------------


class LeadBatchCreateSerializer(serializers.Serializer):
    task_type = serializers.ChoiceField(choices=list(TASK_TYPES))
    job_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=DB_BIGINT_MAX),
        required=False,
        allow_empty=False,
        max_length=MAX_JOB_IDS,
        help_text="The jobs to process (leads are made for them). Without it, the filter below selects leads.",
    )
    stage = serializers.ChoiceField(choices=LeadStage.choices, required=False)
    verdict = serializers.ChoiceField(choices=LeadVerdict.choices, required=False)
    source = serializers.ChoiceField(choices=LeadSource.choices, required=False)  # type: ignore[assignment]
    min_score = serializers.IntegerField(required=False, min_value=0, max_value=100)
    max_score = serializers.IntegerField(required=False, min_value=0, max_value=100)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_JOB_IDS)

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "getlist") and "job_ids" in data:  # query string: job_ids=1,2,3 or repeated
            data = data.copy()
            raw = ",".join(str(part) for part in data.getlist("job_ids"))
            data.setlist("job_ids", [part for part in raw.split(",") if part.strip()])
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        filters = ("stage", "verdict", "source", "min_score", "max_score")
        if "job_ids" not in attrs and not any(name in attrs for name in filters):
            raise serializers.ValidationError(
                "Give job_ids or a filter (stage, verdict, source, min_score, max_score)."
            )
        return attrs


class LeadBatchCreatedSerializer(serializers.Serializer):
    batch_id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    task_name = serializers.CharField()
    task_type = serializers.CharField()
    item_count = serializers.IntegerField(help_text="Lines: one per lead.")
    lead_count = serializers.IntegerField()


class ScrapedPostingSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    url = serializers.URLField(max_length=1000, required=False, allow_blank=True, default="")
    location = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ProcessScrapedSerializer(serializers.Serializer):
    jobs = ScrapedPostingSerializer(many=True, allow_empty=False, max_length=MAX_POSTINGS)  # type: ignore[call-arg]
    task_type = serializers.ChoiceField(choices=list(TASK_TYPES), default="analyze")
    wait_for_completion = serializers.BooleanField(default=False)
    model = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class BatchRunSerializer(serializers.Serializer):
    batch_id = serializers.CharField()
    task_type = serializers.CharField()
    task_name = serializers.CharField()
    status = serializers.CharField()
    item_count = serializers.IntegerField()
    applied = serializers.IntegerField()
    failed = serializers.IntegerField()
    fallbacks = serializers.IntegerField(help_text="Applied items answered by the rule-based fallback (offline).")
    waited = serializers.BooleanField(help_text="True: the batch ran to the end during this call.")
    note = serializers.CharField(allow_blank=True)
    job_ids = serializers.ListField(child=serializers.IntegerField(), help_text="The listings, in request order.")
