"""Configuration of the OpenAI-compatible simulator.

All fault rates are probabilities in ``[0, 1]`` drawn once per live
chat/responses call from a ``random.Random(seed)`` (a single uniform draw
against the cumulative rates, so rates add up and must total at most 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

DEFAULT_MODELS: tuple[str, ...] = (
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-5-mini",
    "o4-mini",
)

#: Order in which random fault rates are laid out on the unit interval.
FAULT_RATE_FIELDS: tuple[str, ...] = (
    "fail_5xx",
    "hang",
    "rate_limit",
    "insufficient_quota",
    "truncate",
    "invalid_json",
    "refusal",
    "content_filter",
)


@dataclass(kw_only=True)
class SimulatorConfig:
    """Behaviour knobs of :class:`llm.simulator.core.Simulator`.

    Contract:
        * ``rpm``/``tpm`` of ``None`` disable the shared sliding-window limiter.
        * ``require_api_key`` of ``None`` accepts any (or no) key; otherwise any
          other ``Authorization: Bearer``/``api-key`` value gets a 401.
        * ``responses_api=False`` makes ``/responses`` answer 404.
        * ``models`` only drives ``GET /models``; unknown models are accepted.
        * Azure-style paths (``/openai/...?api-version=...``) always need an ``api-key``
          header (401 without one); ``azure_deployments`` of ``None`` serves any
          deployment name, otherwise others answer 404 ``DeploymentNotFound`` (live
          calls) or fail batch validation (lines naming them as the model).
        * ``files_dir=None`` stores files in a private temporary directory.
    """

    seed: int = 0
    latency_ms: int = 0
    rpm: int | None = None
    tpm: int | None = None
    #: Seconds over which rpm/tpm are enforced (scaled): 60 lets a minute's quota burst,
    #: 1 spreads it evenly like OpenAI's quantized limits (600 RPM = 10 per second).
    rate_window_s: float = 60.0

    fail_5xx: float = 0.0
    hang: float = 0.0
    rate_limit: float = 0.0
    insufficient_quota: float = 0.0
    truncate: float = 0.0
    invalid_json: float = 0.0
    refusal: float = 0.0
    content_filter: float = 0.0

    hang_seconds: float = 30.0
    retry_after_ms: int = 1000
    require_api_key: str | None = None
    responses_api: bool = True
    validate_strict_schemas: bool = True
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    azure_deployments: tuple[str, ...] | None = None

    batch_polls_per_stage: int = 1
    batch_expire: bool = False
    batch_expire_fraction: float = 0.5
    batch_cancel_fraction: float = 0.5
    batch_line_error_rate: float = 0.0
    batch_shuffle: bool = True
    batch_shuffle_chunk: int = 1000
    batch_create_token_limit_exceeded: int = 0

    files_dir: str | None = None
    max_recorded_calls: int = 1000
    max_stored_responses: int = 10_000

    def __post_init__(self) -> None:
        """Validate ranges so that misconfiguration fails loudly and early."""
        for name in (*FAULT_RATE_FIELDS, "batch_expire_fraction", "batch_cancel_fraction", "batch_line_error_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value!r}")
        total = sum(getattr(self, name) for name in FAULT_RATE_FIELDS)
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {total:.3f} > 1")
        for name in ("rpm", "tpm"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None")
        if self.latency_ms < 0 or self.hang_seconds < 0 or self.retry_after_ms < 0:
            raise ValueError("latency_ms, hang_seconds and retry_after_ms must be >= 0")
        if self.batch_polls_per_stage < 0 or self.batch_shuffle_chunk < 1:
            raise ValueError("batch_polls_per_stage must be >= 0 and batch_shuffle_chunk >= 1")

    @classmethod
    def field_names(cls) -> frozenset[str]:
        """Names accepted as keyword arguments (handy for CLI adapters)."""
        return frozenset(f.name for f in fields(cls))
