"""Multi-turn lead conversations (seed 003's eight methods) on the llm layer's conversations.

The llm layer persists every turn, chains through the Responses API (`previous_response_id`),
replays the history when the chain is gone (404, expiry) or the backend has no Responses API, and
writes one ledger row per turn with the input, cached and output tokens the provider reported. A
chained turn is billed for the whole prior context: the summary adds up what was billed and
claims no savings.

The posting is untrusted: it is sent once, in the first user message, inside the delimited block
(`catalog.leads.llm.posting_block`); the instructions say to treat it as data. Drafts are stored on
the lead and never sent from here: a person approves and sends them from the emails admin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from catalog.leads.fallbacks import (
    analyze_fallback,
    email_fallback,
    pain_points_fallback,
    roi_fallback,
    services_fallback,
)
from catalog.leads.llm import POSTING_CLOSE, POSTING_OPEN, UNTRUSTED_RULE, posting_block
from catalog.leads.models import Lead
from catalog.leads.schemas import (
    AnalyzeOutput,
    EmailDraft,
    OfferingBrief,
    PainPointsOutput,
    PostingInput,
    RoiEstimate,
    ServiceSuggestions,
)
from catalog.leads.selectors import conversation_totals, conversation_turns, lead_get, offering_briefs, posting_input
from catalog.leads.services import (
    lead_analysis_apply,
    lead_conversation_attach,
    lead_draft_apply,
    lead_pain_points_apply,
    lead_roi_apply,
    lead_services_apply,
)
from config.errors import ConflictError, DomainError
from llm.conversations import conversation_reply, conversation_start
from llm.errors import ErrorKind, LLMError
from llm.models import Conversation, ConversationTurn
from llm.task import Provenance

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

CONVERSATION_TASK = "lead_conversation"
QUESTION_MAX = 2000
INSTRUCTIONS = (
    "You are a sales analyst for a services company that sells the offerings listed in the questions. "
    "You study one job posting as a sales lead over several questions: the company's need, its pain "
    "points, the return on our services, which of our offerings fit, and a short outreach email draft. "
    "Answer each question in the format it asks for, concretely, and say 'not stated' rather than "
    "guess. Figures are estimates: always give the assumptions they rest on. Drafts are reviewed by a "
    f"person before anything is sent; never claim that anything was sent.\n\n{UNTRUSTED_RULE}"
)
START_ASK = (
    "Analyse this posting as a sales lead for our services: the company's need, how urgent it is, "
    "budget signals, hints about who decides, and the risks of pursuing it."
)
PAIN_POINTS_ASK = (
    "List the business pain points the posting reveals (at most 8), each with a short phrase quoted "
    "word for word from the posting as evidence, and its severity."
)
EMAIL_ASK = (
    "Write a short outreach email draft to this company: plain text, at most 150 words, friendly and "
    "specific to the pain points above, suggesting one of our offerings and a short call. No links "
    "other than the posting's, no claims we cannot back."
)


@dataclass(frozen=True)
class TurnResult:
    """One conversation step: the stored turn and its output (structured, or text for questions)."""

    lead: Lead
    turn: ConversationTurn
    output: dict[str, Any] | str

    @property
    def is_fallback(self) -> bool:
        return self.turn.is_fallback


def _offerings_text(offerings: list[OfferingBrief]) -> str:
    if not offerings:
        return "- (no offerings configured)"
    return "\n".join(
        f"- {o.name}: {o.solves} Price {o.price_min:g}–{o.price_max:g} {o.currency}; "
        f"typically saves {o.hours_saved_per_week:g} h a week."
        for o in offerings
    )


def _provenance(conversation: Conversation, turn: ConversationTurn, step: str) -> Provenance:
    reason = ""
    if turn.is_fallback:
        reason = turn.call.error_class if turn.call_id and turn.call else "unavailable"
    return Provenance(
        task=f"lead_{step}",
        task_version=1,
        provider="fallback" if turn.is_fallback else conversation.provider,
        model="rule-based" if turn.is_fallback else conversation.model,
        is_fallback=turn.is_fallback,
        generated_at=turn.created_at,
        call_id=turn.call_id,
        fallback_reason=reason,
    )


def _reply(
    conversation: Conversation,
    message: str,
    *,
    output_model: type[BaseModel] | None,
    fallback: Callable[[], BaseModel | str],
    max_output_tokens: int,
) -> ConversationTurn:
    turn = conversation_reply(
        conversation=conversation,
        message=message,
        fallback=lambda _conversation, _message: fallback(),
        output_model=output_model,
        task_name=CONVERSATION_TASK,
        max_output_tokens=max_output_tokens,
    )
    return ConversationTurn.objects.select_related("call").get(pk=turn.pk)


def _output(turn: ConversationTurn) -> dict[str, Any] | str:
    return turn.output_json if turn.output_json is not None else turn.output_text


def _json(turn: ConversationTurn) -> dict[str, Any]:
    """A turn asked with an output model has a JSON output (the model's answer or the fallback's)."""
    if turn.output_json is None:
        raise LLMError(ErrorKind.SCHEMA, f"Conversation turn {turn.pk} has no structured output.")
    return turn.output_json


def lead_conversation_start(*, lead: Lead, user: User | AnonymousUser | None = None) -> TurnResult:
    """A new conversation about the lead's posting, opened with the analysis (stored on the lead)."""
    lead = lead_get(lead_id=lead.pk)
    posting = posting_input(lead=lead)
    conversation = conversation_start(
        title=f"Lead #{lead.pk}: {lead.job.title}"[:200],
        instructions=INSTRUCTIONS,
        subject=("catalog.lead", lead.pk),
        user_id=user.pk if user is not None and user.is_authenticated else None,
    )
    lead = lead_conversation_attach(lead=lead, conversation_id=conversation.pk, user=user)
    turn = _reply(
        conversation,
        f"{posting_block(posting)}\n\n{START_ASK}",
        output_model=AnalyzeOutput,
        fallback=lambda: analyze_fallback(posting),
        max_output_tokens=700,
    )
    lead_analysis_apply(
        lead_id=lead.pk, output=_json(turn), provenance=_provenance(conversation, turn, "analyze"), advance=False
    )
    return TurnResult(lead=lead_get(lead_id=lead.pk), turn=turn, output=_output(turn))


def _ongoing(lead: Lead, user: User | AnonymousUser | None) -> tuple[Lead, Conversation, PostingInput]:
    """The lead's conversation, started first when it has none (as the seed's methods do)."""
    lead = lead_get(lead_id=lead.pk)
    if lead.conversation is None:
        lead = lead_conversation_start(lead=lead, user=user).lead
    if lead.conversation is None:  # lead_conversation_start attaches one
        raise ConflictError(f"Lead {lead.pk} has no conversation.")
    return lead, lead.conversation, posting_input(lead=lead)


def lead_conversation_ask(*, lead: Lead, question: str, user: User | AnonymousUser | None = None) -> TurnResult:
    """A free follow-up question from staff, answered with the whole conversation as context."""
    question = question.strip()
    if not question:
        raise DomainError("Ask a question.", code="empty_question")
    lead, conversation, _ = _ongoing(lead, user)
    turn = _reply(
        conversation,
        question[:QUESTION_MAX],
        output_model=None,
        fallback=lambda: "No model is available right now, so this question has no answer yet; ask again later.",
        max_output_tokens=600,
    )
    return TurnResult(lead=lead, turn=turn, output=_output(turn))


def lead_conversation_roi(*, lead: Lead, user: User | AnonymousUser | None = None) -> TurnResult:
    """An ROI estimate for our best-fitting offering, with its assumptions (stored on the lead)."""
    lead, conversation, posting = _ongoing(lead, user)
    offerings = offering_briefs()
    ask = (
        f"Our offerings:\n{_offerings_text(offerings)}\n\nEstimate the return on investment of our best-fitting "
        "offering for this company: hours saved a week, what an hour costs them, annual savings, our price and "
        "the payback in months, with every assumption the figures rest on."
    )
    turn = _reply(
        conversation,
        ask,
        output_model=RoiEstimate,
        fallback=lambda: roi_fallback(posting, offerings),
        max_output_tokens=500,
    )
    lead_roi_apply(lead_id=lead.pk, roi=_json(turn), provenance=_provenance(conversation, turn, "roi"))
    return TurnResult(lead=lead_get(lead_id=lead.pk), turn=turn, output=_output(turn))


def lead_conversation_pain_points(*, lead: Lead, user: User | AnonymousUser | None = None) -> TurnResult:
    """Pain points with quoted evidence (stored on the lead, each marked found in the posting or not)."""
    lead, conversation, posting = _ongoing(lead, user)
    turn = _reply(
        conversation,
        PAIN_POINTS_ASK,
        output_model=PainPointsOutput,
        fallback=lambda: pain_points_fallback(posting),
        max_output_tokens=600,
    )
    lead_pain_points_apply(
        lead_id=lead.pk,
        pain_points=_json(turn)["pain_points"],
        posting_text=posting.description,
        provenance=_provenance(conversation, turn, "extract_pain_points"),
    )
    return TurnResult(lead=lead_get(lead_id=lead.pk), turn=turn, output=_output(turn))


def lead_conversation_services(*, lead: Lead, user: User | AnonymousUser | None = None) -> TurnResult:
    """Which of our offerings fit (only our real offerings are kept on the lead)."""
    lead, conversation, posting = _ongoing(lead, user)
    offerings = offering_briefs()
    ask = (
        f"Our offerings:\n{_offerings_text(offerings)}\n\nWhich of these offerings (their exact names) fit this "
        "company best, and why? At most three, best first; none if none fits."
    )
    turn = _reply(
        conversation,
        ask,
        output_model=ServiceSuggestions,
        fallback=lambda: services_fallback(posting, offerings),
        max_output_tokens=400,
    )
    lead_services_apply(
        lead_id=lead.pk,
        suggestions=_json(turn)["suggestions"],
        provenance=_provenance(conversation, turn, "services"),
    )
    return TurnResult(lead=lead_get(lead_id=lead.pk), turn=turn, output=_output(turn))


def lead_conversation_email_draft(*, lead: Lead, user: User | AnonymousUser | None = None) -> TurnResult:
    """An outreach draft (subject, body) stored on the lead, which becomes draft_ready. Never sent here."""
    lead, conversation, posting = _ongoing(lead, user)
    offering_names = [s["offering"] for s in lead.suggested_offerings]
    pains = [p["pain"] for p in lead.pain_points]
    turn = _reply(
        conversation,
        EMAIL_ASK,
        output_model=EmailDraft,
        fallback=lambda: email_fallback(posting, offering_names=offering_names, pains=pains),
        max_output_tokens=500,
    )
    lead_draft_apply(
        lead_id=lead.pk,
        subject=_json(turn)["subject"],
        body=_json(turn)["body"],
        provenance=_provenance(conversation, turn, "email"),
        user=user,
    )
    return TurnResult(lead=lead_get(lead_id=lead.pk), turn=turn, output=_output(turn))


def _asked(text: str) -> str:
    """What a turn asked, without the posting block (shown as [posting])."""
    if text.startswith(POSTING_OPEN) and POSTING_CLOSE in text:
        text = "[posting] " + text.split(POSTING_CLOSE, 1)[1].strip()
    text = " ".join(text.split())
    return text if len(text) <= 160 else text[:159] + "…"


def lead_conversation_summary(*, lead: Lead) -> dict[str, Any]:
    """The conversation's recap: each turn with its billed tokens, the cumulative cost, and what the
    lead now stores. No model call."""
    lead = lead_get(lead_id=lead.pk)
    conversation = lead.conversation
    turns = conversation_turns(conversation=conversation) if conversation is not None else []
    totals = conversation_totals(conversation=conversation) if conversation is not None else None
    return {
        "lead_id": lead.pk,
        "job_id": lead.job_id,
        "stage": lead.stage,
        "score": lead.score,
        "conversation_id": conversation.pk if conversation is not None else None,
        "turns": [
            {
                "index": turn.index,
                "asked": _asked(turn.user_input),
                "replayed": turn.replayed,
                "is_fallback": turn.is_fallback,
                "tokens_in": turn.call.tokens_in if turn.call else turn.tokens_in,
                "tokens_cached": turn.call.tokens_cached if turn.call else 0,
                "tokens_out": turn.call.tokens_out if turn.call else turn.tokens_out,
                "cost_usd": str(turn.call.cost_usd) if turn.call else "0",
            }
            for turn in turns
        ],
        "totals": {**totals, "cost_usd": str(totals["cost_usd"])} if totals else None,
        "analysis": lead.analysis,
        "pain_points": lead.pain_points,
        "roi_estimate": lead.roi_estimate,
        "roi_assumptions": lead.roi_assumptions,
        "suggested_offerings": lead.suggested_offerings,
        "draft": {
            "subject": lead.draft_subject,
            "body": lead.draft_body,
            "is_fallback": lead.draft_is_fallback,
            "generated_at": lead.draft_generated_at.isoformat() if lead.draft_generated_at else None,
        },
        "note": (
            "Tokens are what the provider billed per turn: a chained turn pays input tokens for the whole "
            "prior context (cached ones at the cached rate)."
        ),
    }


def lead_analyze_conversationally(*, lead: Lead, user: User | AnonymousUser | None = None) -> dict[str, Any]:
    """The whole workflow in one conversation: analysis → pain points → ROI → offerings → draft."""
    lead_conversation_start(lead=lead, user=user)
    lead_conversation_pain_points(lead=lead, user=user)
    lead_conversation_roi(lead=lead, user=user)
    lead_conversation_services(lead=lead, user=user)
    lead_conversation_email_draft(lead=lead, user=user)
    return lead_conversation_summary(lead=lead)
