"""Rule-based answers for the lead tasks and conversation turns: deterministic, honest, no model.

They read only the posting's own words and our offerings, say so ("Rule-based: ..."), and never
invent facts the posting does not state. English and Japanese postings are both handled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import cast

from catalog.leads.schemas import (
    AnalyzeOutput,
    ContactChannel,
    EmailDraft,
    EmploymentType,
    Level,
    OfferingBrief,
    PainPoint,
    PainPointsOutput,
    ParseOutput,
    PayPeriod,
    PostingInput,
    QualifyInput,
    QualifyOutput,
    RemoteMode,
    RoiEstimate,
    Seniority,
    ServiceSuggestion,
    ServiceSuggestions,
    Verdict,
)

PAIN_WORDS = {
    "manual": "Manual work that could be automated",
    "spreadsheet": "Work kept in spreadsheets",
    "excel": "Work kept in spreadsheets",
    "data entry": "Manual data entry",
    "repetitive": "Repetitive tasks",
    "backlog": "A backlog the team cannot clear",
    "legacy": "Legacy systems to maintain or replace",
    "migration": "A migration to carry out",
    "migrate": "A migration to carry out",
    "scale": "Growth the current setup must absorb",
    "scaling": "Growth the current setup must absorb",
    "growing": "Growth the current setup must absorb",
    "thousands of": "Volume the team must handle",
    "on-call": "Operational load (on-call, incidents)",
    "incident": "Operational load (on-call, incidents)",
    "reporting": "Reporting work",
    "reports": "Reporting work",
    "documentation": "Documentation to write and keep current",
    "tickets": "Support volume",
    "inquiries": "Support volume",
    "training": "People to train and onboard",
    "mentoring": "People to train and onboard",
    "testing": "Quality assurance workload",
    "automate": "Processes waiting to be automated",
    "automation": "Processes waiting to be automated",
    "手作業": "Manual work that could be automated",
    "効率化": "Processes to make more efficient",
    "自動化": "Processes waiting to be automated",
    "人手不足": "Not enough people for the work",
    "増員": "Not enough people for the work",
    "研修": "People to train and onboard",
}
URGENT_WORDS = ("urgent", "urgently", "asap", "immediately", "immediate start", "right away", "急募", "即日", "早急")
BUDGET_WORDS = ("funded", "series a", "series b", "series c", "venture", "budget", "bonus", "stock options", "上場")
DECISION_WORDS = (
    "report to",
    "reporting to",
    "cto",
    "ceo",
    "founder",
    "head of",
    "hiring manager",
    "engineering manager",
    "vp ",
)
AGENCY_WORDS = ("on behalf of our client", "recruitment agency", "staffing agency", "our client")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?:\+\d{1,3}[\s-]?)?(?:\(\d{2,4}\)[\s-]?)?\d{2,4}[\s-]\d{3,4}[\s-]\d{3,4}")
_SENTENCES = re.compile(r"(?<=[.!?。！？])\s*|\n+")
REASON_MAX = 200


def _text(posting: PostingInput) -> str:
    return "\n".join([posting.title, posting.description, " ".join(posting.skills)]).lower()


def _has(text: str, word: str) -> bool:
    word = word.lower()
    if word.isascii():
        return re.search(rf"(?<![a-z0-9]){re.escape(word.strip())}(?![a-z0-9])", text) is not None
    return word in text


def _found(text: str, words: Iterable[str]) -> list[str]:
    return [w.strip() for w in words if _has(text, w)]


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def offering_matches(
    posting: PostingInput, offerings: Iterable[OfferingBrief]
) -> list[tuple[OfferingBrief, list[str]]]:
    """Offerings whose keywords the posting mentions, most matches first (ties: name order)."""
    text = _text(posting)
    scored = [(offering, _found(text, offering.keywords)) for offering in offerings]
    return sorted([s for s in scored if s[1]], key=lambda s: (-len(s[1]), s[0].name))


def _pain_signals(posting: PostingInput) -> list[str]:
    text = _text(posting)
    return list(dict.fromkeys(PAIN_WORDS[w] for w in PAIN_WORDS if _has(text, w)))


def qualify_fallback(posting: QualifyInput) -> QualifyOutput:
    """Keyword fit with our offerings, plus pain signals; the verdict follows the score threshold."""
    matches = offering_matches(posting, posting.offerings)
    best, words = matches[0] if matches else (None, [])
    signals = _pain_signals(posting)
    score = 15 + 15 * min(len(words), 4) + 5 * min(len(signals), 3) + (5 if posting.company.strip() else 0)
    if len(posting.description.strip()) < 80:
        score -= 15  # too little to go on
    score = max(0, min(100, score))
    verdict: Verdict = "qualified" if score >= posting.min_score else "disqualified"
    if best is None:
        reason = "Rule-based: no offering's keywords appear in the posting."
    else:
        reason = f"Rule-based: fits {best.name} ({len(words)} keyword(s): {', '.join(words[:4])})"
        reason += f"; {len(signals)} pain signal(s)." if signals else "."
    return QualifyOutput(score=score, verdict=verdict, reason=_clip(reason, REASON_MAX))


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCES.split(text) if s and s.strip()]


def _sentences_with(text: str, words: Iterable[str]) -> list[str]:
    """The posting's own sentences that contain one of `words` (quoted, in order, once each)."""
    words = tuple(words)
    return list(dict.fromkeys(_clip(s, 200) for s in _sentences(text) if _found(s.lower(), words)))


def pain_points_fallback(posting: PostingInput) -> PainPointsOutput:
    """One pain per signal word, its evidence the posting's own sentence (quoted, clipped)."""
    points: list[PainPoint] = []
    seen: set[str] = set()
    for sentence in _sentences(posting.description):
        lowered = sentence.lower()
        for word, pain in PAIN_WORDS.items():
            if pain in seen or not _has(lowered, word):
                continue
            seen.add(pain)
            severity: Level = "high" if _found(lowered, URGENT_WORDS) else "medium"
            points.append(PainPoint(pain=pain, evidence=_clip(sentence, 280), severity=severity))
            break
        if len(points) >= 8:
            break
    return PainPointsOutput(pain_points=points)


def _role(posting: PostingInput) -> str:
    title = posting.title
    if posting.company and f" at {posting.company}" in title:
        title = title.replace(f" at {posting.company}", "")
    return _clip(title, 200) or "not stated"


def analyze_fallback(posting: PostingInput) -> AnalyzeOutput:
    text = _text(posting)
    role = _role(posting)
    company = posting.company.strip() or "The company"
    urgent = _found(text, URGENT_WORDS)
    signals = _pain_signals(posting)
    budget = [f"Pay stated: {posting.pay}"] if posting.pay else []
    budget += _sentences_with(posting.description, BUDGET_WORDS)
    decision = _sentences_with(posting.description, DECISION_WORDS)
    risks = []
    if not posting.company.strip():
        risks.append("The posting does not name the company.")
    if len(posting.description.strip()) < 200:
        risks.append("The posting is short: little to go on.")
    if _found(text, AGENCY_WORDS):
        risks.append("Posted by an agency: the buyer is one step removed.")
    if _found(text, ("intern", "internship", "new grad", "graduate", "新卒")):
        risks.append("An entry-level hire: the budget for outside help may be small.")
    need = f"{company} is hiring a {role}"
    need += f"; the posting points to: {', '.join(s.lower() for s in signals[:3])}." if signals else "."
    return AnalyzeOutput(
        company_need=_clip(need, 500),
        urgency="high" if urgent else ("medium" if signals else "low"),
        urgency_evidence=_clip(", ".join(urgent), 200) if urgent else "not stated",
        budget_signals=[_clip(b, 200) for b in budget[:5]],
        decision_maker_hints=[_clip(d, 200) for d in decision[:5]],
        risks=risks[:5],
        summary=_clip(f"Rule-based: {need} Urgency {'high' if urgent else 'not stated'}.", 500),
    )


def _seniority(title: str) -> Seniority:
    lowered = title.lower()
    if _found(lowered, ("intern", "internship", "インターン")):
        return "intern"
    if _found(
        lowered, ("junior", "graduate", "new grad", "entry level", "entry-level", "early career", "新卒", "未経験")
    ):
        return "entry"
    if _found(lowered, ("lead", "principal", "staff", "head of")):
        return "lead"
    if _found(lowered, ("senior", "sr.", "シニア")):
        return "senior"
    return "unknown"


def _contact(posting: PostingInput) -> ContactChannel:
    if email := _EMAIL.search(posting.description):
        return ContactChannel(kind="email", value=email.group(0))
    if phone := _PHONE.search(posting.description):
        return ContactChannel(kind="phone", value=phone.group(0).strip())
    if posting.url:
        return ContactChannel(kind="url", value=posting.url)
    return ContactChannel(kind="none", value="")


def parse_fallback(posting: PostingInput) -> ParseOutput:
    text = _text(posting)
    remote: RemoteMode
    if posting.remote:
        remote = "remote"
    elif _found(text, ("hybrid", "ハイブリッド")):
        remote = "hybrid"
    elif _found(text, ("on-site", "onsite", "in office", "出社")):
        remote = "onsite"
    else:
        remote = "unknown"
    seniority = _seniority(posting.title)
    employment: EmploymentType
    if seniority == "intern":
        employment = "internship"
    elif _found(text, ("part-time", "part time", "パート", "アルバイト")):
        employment = "part_time"
    elif _found(text, ("contract", "freelance", "業務委託")):
        employment = "contract"
    elif _found(text, ("full-time", "full time", "正社員")):
        employment = "full_time"
    else:
        employment = "unknown"
    known_period = posting.pay_period in ("year", "month", "day", "hour")
    period: PayPeriod = cast(PayPeriod, posting.pay_period) if known_period else "unknown"
    has_pay = posting.pay_min is not None or posting.pay_max is not None
    return ParseOutput(
        role=_role(posting),
        seniority=seniority,
        skills=posting.skills[:20],
        location=_clip(posting.location, 200) or "not stated",
        remote=remote,
        pay_min=posting.pay_min,
        pay_max=posting.pay_max,
        pay_currency=posting.pay_currency if has_pay else "",
        pay_period=period if has_pay else "unknown",
        employment_type=employment,
        contact=_contact(posting),
    )


# --- conversation turns ----------------------------------------------------------------------------

HOURLY_COST_BY_CURRENCY = {"JPY": 3000.0, "USD": 40.0, "GBP": 30.0, "EUR": 35.0}
WORK_HOURS_PER_YEAR = 2000
WEEKS_PER_YEAR = 48


def roi_fallback(posting: PostingInput, offerings: list[OfferingBrief]) -> RoiEstimate:
    """Figures from the best-matching offering and the posting's pay, every assumption written down."""
    matches = offering_matches(posting, offerings)
    offering = matches[0][0] if matches else (offerings[0] if offerings else None)
    currency = offering.currency if offering else "USD"
    assumptions = []
    if posting.pay_max and posting.pay_period == "year" and posting.pay_currency == currency:
        hourly = round(posting.pay_max / WORK_HOURS_PER_YEAR, 2)
        assumptions.append(f"An hour costs {hourly} {currency}: the posting's top pay over {WORK_HOURS_PER_YEAR} h.")
    else:
        hourly = HOURLY_COST_BY_CURRENCY.get(currency, 40.0)
        assumptions.append(f"An hour costs {hourly} {currency}: a typical loaded rate (the posting gives none usable).")
    hours = offering.hours_saved_per_week if offering else 0.0
    price = (offering.price_min + offering.price_max) / 2 if offering else 0.0
    annual = round(hours * WEEKS_PER_YEAR * hourly, 2)
    payback = round(price / (annual / 12), 1) if annual > 0 else 0.0
    if offering:
        assumptions.append(f"{offering.name} saves about {hours} h a week (our typical figure, not this client's).")
        assumptions.append(f"Our price is the middle of the offering's range: {price} {currency}.")
    else:
        assumptions.append("No offering is configured: no savings can be estimated.")
    assumptions.append(f"{WEEKS_PER_YEAR} working weeks a year. Rule-based estimate: check with the client.")
    return RoiEstimate(
        currency=currency,
        hours_saved_per_week=hours,
        hourly_cost=hourly,
        annual_savings=annual,
        our_price=price,
        payback_months=payback,
        assumptions=assumptions,
    )


def services_fallback(posting: PostingInput, offerings: list[OfferingBrief]) -> ServiceSuggestions:
    return ServiceSuggestions(
        suggestions=[
            ServiceSuggestion(
                offering=offering.name,
                why=_clip(f"Rule-based: the posting mentions {', '.join(words[:4])}; {offering.solves}", 300),
            )
            for offering, words in offering_matches(posting, offerings)[:3]
        ]
    )


def email_fallback(posting: PostingInput, *, offering_names: list[str], pains: list[str]) -> EmailDraft:
    company = posting.company.strip() or "your team"
    role = _role(posting)
    lines = [
        f"Hello {company} team,",
        "",
        f"I saw that you are hiring a {role}.",
    ]
    if pains:
        lines.append(f"Postings like yours often come with {pains[0].lower()}.")
    if offering_names:
        lines.append(f"Our {offering_names[0]} service takes that work off a team while the hire settles in.")
    lines += ["", "Would a 20-minute call next week be useful?", "", "Best regards"]
    return EmailDraft(subject=_clip(f"Your {role} opening", 120), body="\n".join(lines))
