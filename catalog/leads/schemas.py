"""Inputs and outputs of the lead tasks and conversation turns (pydantic; outputs are strict schemas).

Outputs have no defaults and no dicts: every field is required, as strict structured outputs want.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Level = Literal["low", "medium", "high"]
Verdict = Literal["qualified", "disqualified"]
Seniority = Literal["intern", "entry", "mid", "senior", "lead", "unknown"]
RemoteMode = Literal["remote", "hybrid", "onsite", "unknown"]
PayPeriod = Literal["year", "month", "day", "hour", "unknown"]
EmploymentType = Literal["full_time", "part_time", "contract", "internship", "unknown"]


class OfferingBrief(BaseModel):
    """An offering as the prompts and fallbacks see it (copied into the input: batches rebuild from it)."""

    id: int
    name: str
    solves: str
    keywords: list[str] = Field(default_factory=list)
    hours_saved_per_week: float = 0.0
    price_min: float = 0.0
    price_max: float = 0.0
    currency: str = "USD"


class PostingInput(BaseModel):
    """One lead's posting: the listing's own fields, as text for the prompt and the fallback."""

    lead_id: int
    job_id: int
    title: str
    company: str = ""
    location: str = ""
    remote: bool = False
    pay: str = ""
    pay_min: float | None = None
    pay_max: float | None = None
    pay_currency: str = ""
    pay_period: str = ""
    url: str = ""
    skills: list[str] = Field(default_factory=list)
    language: str = ""
    description: str = ""


class QualifyInput(PostingInput):
    offerings: list[OfferingBrief] = Field(default_factory=list)
    min_score: int = 60


# --- task outputs ----------------------------------------------------------------------------------


class QualifyOutput(BaseModel):
    score: int = Field(ge=0, le=100, description="Fit with our offerings, 0 (none) to 100 (perfect).")
    verdict: Verdict
    reason: str = Field(description="One line, at most 200 characters, naming the offering that fits.")


class AnalyzeOutput(BaseModel):
    company_need: str = Field(description="What the company needs, in one or two sentences.")
    urgency: Level
    urgency_evidence: str = Field(description="The words of the posting that show the urgency, or 'not stated'.")
    budget_signals: list[str] = Field(max_length=5)
    decision_maker_hints: list[str] = Field(max_length=5)
    risks: list[str] = Field(max_length=5)
    summary: str = Field(description="Two sentences a salesperson can read first.")


class PainPoint(BaseModel):
    pain: str
    evidence: str = Field(description="A short phrase quoted word for word from the posting.")
    severity: Level


class PainPointsOutput(BaseModel):
    pain_points: list[PainPoint] = Field(max_length=8)


class ContactChannel(BaseModel):
    kind: Literal["email", "url", "phone", "form", "none"]
    value: str = Field(description="As it appears in the posting; empty when kind is none.")


class ParseOutput(BaseModel):
    role: str
    seniority: Seniority
    skills: list[str] = Field(max_length=20)
    location: str
    remote: RemoteMode
    pay_min: float | None
    pay_max: float | None
    pay_currency: str = Field(description="ISO 4217 code, or empty when no pay is stated.")
    pay_period: PayPeriod
    employment_type: EmploymentType
    contact: ContactChannel


# --- conversation turn outputs ---------------------------------------------------------------------


class RoiEstimate(BaseModel):
    currency: str
    hours_saved_per_week: float = Field(ge=0)
    hourly_cost: float = Field(ge=0, description="What an hour of the work costs the company.")
    annual_savings: float = Field(ge=0)
    our_price: float = Field(ge=0)
    payback_months: float = Field(ge=0)
    assumptions: list[str] = Field(min_length=1, max_length=8, description="What each figure rests on.")


class ServiceSuggestion(BaseModel):
    offering: str = Field(description="The exact name of one of our offerings.")
    why: str


class ServiceSuggestions(BaseModel):
    suggestions: list[ServiceSuggestion] = Field(max_length=3)


class EmailDraft(BaseModel):
    subject: str = Field(description="At most 120 characters.")
    body: str = Field(description="Plain text, at most 1200 characters, no links other than the posting's.")
