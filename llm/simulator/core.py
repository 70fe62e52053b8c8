"""The simulator: one ``handle(request) -> response`` entry for every endpoint.

Contract: :meth:`Simulator.handle` is thread-safe and never raises except
``httpx2.ReadTimeout`` for a simulated hang on the in-process transport.
Live chat/responses calls go through, in order: scripted/random fault choice,
request validation (400/404), HTTP faults, the shared RPM/TPM limiter, the
configured latency, then the (possibly content-faulted) answer.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, OrderedDict, defaultdict, deque
from dataclasses import dataclass, replace
from typing import Any

import httpx2

from llm.simulator import faults as fault_mod
from llm.simulator.batches import BatchManager
from llm.simulator.completions import Built, Prior, build_chat, build_response, chain_prior, new_id
from llm.simulator.config import SimulatorConfig
from llm.simulator.errors import (
    SimError,
    azure_deployment_not_found,
    azure_resource_not_found,
    azure_unauthorized,
    bad_request,
    insufficient_quota,
    invalid_api_key,
    invalid_url,
    not_found,
    rate_limited,
    server_error,
)
from llm.simulator.faults import Fault, FaultSpec
from llm.simulator.files import FileStore
from llm.simulator.limiter import RateLimited, RateLimiter
from llm.simulator.paths import Route, parse_route
from llm.simulator.uploads import upload_file


@dataclass(frozen=True)
class RecordedCall:
    """One request as seen by the simulator (``json`` is None for non-JSON bodies)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    endpoint: str
    status: int | None
    outcome: str


@dataclass
class _Call:
    request: httpx2.Request
    route: Route
    query: dict[str, str]
    payload: Any
    outcome: str = "ok"


class Simulator:
    """An OpenAI-compatible fake provider; see the package docstring for usage."""

    def __init__(self, config: SimulatorConfig | None = None, **overrides: Any) -> None:
        base = config or SimulatorConfig()
        self.config = replace(base, **overrides) if overrides else base
        self._lock = threading.Lock()
        self._rng = random.Random(self.config.seed)
        self._script: deque[Fault] = deque()
        self._stats: defaultdict[str, Counter[str]] = defaultdict(Counter)
        # Tokens billed for every live answer served (content faults too), as its `usage` says.
        self._usage: Counter[str] = Counter()
        self._calls: deque[RecordedCall] = deque(maxlen=self.config.max_recorded_calls)
        self._responses: OrderedDict[str, tuple[Prior, dict[str, Any]]] = OrderedDict()
        self.limiter = RateLimiter(self.config.rpm, self.config.tpm, window=self.config.rate_window_s)
        self.files = FileStore(self.config.files_dir)
        self.batches = BatchManager(self.config, self.files, self._render_line)

    # -- public helpers --------------------------------------------------
    def transport(self) -> httpx2.MockTransport:
        """In-process transport for ``httpx2.Client(transport=...)``."""
        return httpx2.MockTransport(self.handle)

    def script(self, *specs: FaultSpec) -> None:
        """Queue faults for the next live chat/responses calls, in order.

        Each spec is a name (``"429"``, ``"5xx"``, ``"503"``, ``"hang"``, ``"401"``,
        ``"400"``, ``"insufficient_quota"``, ``"truncate"``, ``"invalid_json"``,
        ``"refusal"``, ``"content_filter"``, ``"ok"``), a ``(name, {options})``
        tuple or a :class:`~llm.simulator.faults.Fault`.
        """
        parsed = [fault_mod.coerce(spec) for spec in specs]
        with self._lock:
            self._script.extend(parsed)

    @property
    def pending_faults(self) -> int:
        """Scripted faults not yet consumed."""
        with self._lock:
            return len(self._script)

    @property
    def stats(self) -> defaultdict[str, Counter[str]]:
        """Snapshot ``{endpoint: Counter({outcome: n})}`` (missing keys read as empty/0).

        Endpoints: ``chat.completions``, ``responses``, ``files``, ``batches``, ``models``,
        ``unknown``; outcomes: ``ok``, content-fault names, ``hang`` or HTTP statuses
        as strings (``"429"``, ``"500"``, ``"insufficient_quota"`` for quota 429s).
        """
        with self._lock:
            return defaultdict(Counter, {name: Counter(counter) for name, counter in self._stats.items()})

    @property
    def usage(self) -> dict[str, int]:
        """Tokens billed over every live chat/responses answer served (refusals, truncations and
        invalid JSON included; error responses and hangs bill nothing): ``responses``,
        ``prompt_tokens``, ``completion_tokens``, ``cached_tokens`` (always 0 here). Batch lines are
        not counted. What a provider's own usage page would say, for comparing with the ledger."""
        with self._lock:
            return {
                name: self._usage[name] for name in ("responses", "prompt_tokens", "completion_tokens", "cached_tokens")
            }

    @property
    def calls(self) -> deque[RecordedCall]:
        """Recorded requests, most recent last (bounded by ``max_recorded_calls``)."""
        return self._calls

    def reset(self) -> None:
        """Clear stats, usage, calls, scripted faults and the limiter; reseed the RNG.

        Files, batches and stored responses are kept (see :meth:`forget_responses`).
        """
        with self._lock:
            self._stats.clear()
            self._usage.clear()
            self._calls.clear()
            self._script.clear()
            self._rng = random.Random(self.config.seed)
        self.limiter.reset()

    def forget_responses(self) -> None:
        """Drop every stored response (simulates the 30-day retention expiry)."""
        with self._lock:
            self._responses.clear()

    def close(self) -> None:
        """Remove the private temporary files directory."""
        self.files.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- entry point -----------------------------------------------------
    def handle(self, request: httpx2.Request) -> httpx2.Response:
        """Answer one HTTP request like the OpenAI/Azure API would."""
        started = time.monotonic()
        query = dict(request.url.params)
        endpoint, payload = "unknown", None
        try:
            route = parse_route(request.method, request.url.path, query.get("api-version"))
            endpoint = route.endpoint
            payload = _json_payload(request)
            self._authorize(request, route)
            call = _Call(request, route, query, payload)
            response = self._dispatch(call)
            outcome = call.outcome
        except SimError as err:
            response, outcome = err.to_response(), err.outcome
        except httpx2.ReadTimeout:
            self._record(request, query, payload, endpoint, None, "hang")
            raise
        self._record(request, query, payload, endpoint, response, outcome)
        response.headers["x-request-id"] = new_id("req_")
        response.headers["openai-processing-ms"] = str(int((time.monotonic() - started) * 1000))
        return response

    def _record(
        self,
        request: httpx2.Request,
        query: dict[str, str],
        payload: Any,
        endpoint: str,
        response: httpx2.Response | None,
        outcome: str,
    ) -> None:
        status = response.status_code if response is not None else None
        call = RecordedCall(
            request.method, request.url.path, query, dict(request.headers), payload, endpoint, status, outcome
        )
        with self._lock:
            self._stats[endpoint][outcome] += 1
            self._calls.append(call)

    def _authorize(self, request: httpx2.Request, route: Route) -> None:
        required = self.config.require_api_key
        if route.azure:
            # Azure's key auth is the api-key header alone (a bearer token would be Entra ID).
            key = request.headers.get("api-key")
            if not key or (required is not None and key != required):
                raise azure_unauthorized()
            return
        if required is None:
            return
        key = request.headers.get("api-key")
        auth = request.headers.get("authorization", "")
        if key is None and auth.lower().startswith("bearer "):
            key = auth[7:].strip()
        if key != required:
            raise invalid_api_key(key)

    def _dispatch(self, call: _Call) -> httpx2.Response:
        method, segs = call.request.method, call.route.segments
        match (method, segs):
            case ("GET", ("models",)):
                data = [_model(name) for name in self.config.models]
                return httpx2.Response(200, json={"object": "list", "data": data})
            case ("GET", ("models", name)):
                if name not in self.config.models:
                    raise not_found(f"The model '{name}' does not exist", code="model_not_found", param="model")
                return httpx2.Response(200, json=_model(name))
            case ("POST", ("chat", "completions")):
                self._check_deployment(call.route)
                return self._live(call, "chat")
            case (_, ("responses", *_)) if not self.config.responses_api:
                raise invalid_url(method, call.request.url.path)
            case ("POST", ("responses",)):
                return self._live(call, "responses")
            case ("GET", ("responses", response_id)):
                return httpx2.Response(200, json=self._stored(response_id)[1])
            case ("DELETE", ("responses", response_id)):
                self._stored(response_id)
                with self._lock:
                    self._responses.pop(response_id, None)
                return httpx2.Response(200, json={"id": response_id, "object": "response", "deleted": True})
        return self._dispatch_storage(call, method, segs)

    def _dispatch_storage(self, call: _Call, method: str, segs: tuple[str, ...]) -> httpx2.Response:
        files = self.files
        match (method, segs):
            case ("POST", ("files",)):
                return httpx2.Response(200, json=upload_file(files, call.request).to_json())
            case ("GET", ("files",)):
                data = [f.to_json() for f in files.list(call.query.get("purpose"))]
                return httpx2.Response(200, json={"object": "list", "data": data, "has_more": False})
            case ("GET", ("files", file_id)):
                return httpx2.Response(200, json=files.get(file_id).to_json())
            case ("DELETE", ("files", file_id)):
                files.delete(file_id)
                return httpx2.Response(200, json={"id": file_id, "object": "file", "deleted": True})
            case ("GET", ("files", file_id, "content")):
                size = files.get(file_id).bytes
                headers = {"content-type": "application/octet-stream", "content-length": str(size)}
                return httpx2.Response(200, headers=headers, content=files.iter_chunks(file_id))
            case ("POST", ("batches",)):
                return httpx2.Response(200, json=self.batches.create(call.payload, azure=call.route.azure))
            case ("GET", ("batches",)):
                limit = call.query.get("limit", "20")
                if not limit.isdigit():
                    raise bad_request("Invalid 'limit': expected an integer.", param="limit")
                return httpx2.Response(200, json=self.batches.list(int(limit), call.query.get("after")))
            case ("GET", ("batches", batch_id)):
                return httpx2.Response(200, json=self.batches.retrieve(batch_id))
            case ("POST", ("batches", batch_id, "cancel")):
                return httpx2.Response(200, json=self.batches.cancel(batch_id))
        raise invalid_url(method, call.request.url.path)

    # -- chat / responses ------------------------------------------------
    def _check_deployment(self, route: Route) -> None:
        """Azure routes chat completions by deployment: none in the path, or an unknown one, is a 404."""
        if not route.azure:
            return
        if route.deployment is None:
            raise azure_resource_not_found()
        known = self.config.azure_deployments
        if known is not None and route.deployment not in known:
            raise azure_deployment_not_found()

    def _next_fault(self) -> Fault:
        with self._lock:
            if self._script:
                return self._script.popleft()
            return fault_mod.pick_random(self.config, self._rng)

    def _live(self, call: _Call, kind: str) -> httpx2.Response:
        fault = self._next_fault()
        content_fault = fault if fault.kind in fault_mod.CONTENT_FAULTS else fault_mod.OK
        built = self._build(kind, call.payload, content_fault, call.route.deployment)
        model = str(built.body.get("model"))
        if fault.is_http:
            self._raise_http_fault(fault, call.request, model)
        try:
            self.limiter.acquire(built.total_tokens)
        except RateLimited as limited:
            raise rate_limited(
                model=model,
                kind=limited.kind,
                retry_after_ms=max(1, round(limited.retry_after_s * 1000)),
                limit=limited.limit,
                used=limited.used,
                requested=limited.requested,
                headers=self.limiter.headers(),
            ) from None
        if self.config.latency_ms:
            time.sleep(self.config.latency_ms / 1000)
        if kind == "responses" and built.body.get("store"):
            self._store(built)
        call.outcome = content_fault.kind
        with self._lock:
            self._usage.update(
                responses=1, prompt_tokens=built.input_tokens, completion_tokens=built.output_tokens, cached_tokens=0
            )
        return httpx2.Response(200, json=built.body, headers=self.limiter.headers())

    def _build(self, kind: str, body: Any, fault: Fault, deployment: str | None) -> Built:
        strict = self.config.validate_strict_schemas
        if kind == "chat":
            return build_chat(body, model=deployment, fault=fault, base_seed=self.config.seed, validate_strict=strict)
        prior = self._prior(body)
        return build_response(body, fault=fault, base_seed=self.config.seed, prior=prior, validate_strict=strict)

    def _render_line(self, endpoint: str, body: dict[str, Any], fault: Fault) -> Built:
        """Batch line renderer (no limiter, latency or storage)."""
        return self._build("chat" if endpoint == "/chat/completions" else "responses", body, fault, None)

    def _raise_http_fault(self, fault: Fault, request: httpx2.Request, model: str) -> None:
        if fault.kind == "hang":
            self._hang(request, fault)
        if fault.kind == "429":
            retry = fault.retry_after_ms if fault.retry_after_ms is not None else self.config.retry_after_ms
            raise rate_limited(model=model, kind="requests", retry_after_ms=retry, headers=self.limiter.headers())
        if fault.kind == "insufficient_quota":
            raise insufficient_quota()
        if fault.kind == "401":
            raise invalid_api_key("sk-simulated-invalid")
        if fault.kind == "400":
            raise bad_request(fault.message or "Simulated invalid request.")
        error = server_error(fault.status or 500)
        if fault.message:
            error.message = fault.message
        raise error

    def _hang(self, request: httpx2.Request, fault: Fault) -> None:
        seconds = fault.hang_seconds if fault.hang_seconds is not None else self.config.hang_seconds
        timeout = request.extensions.get("timeout")
        if isinstance(timeout, dict):
            read = timeout.get("read")
            time.sleep(min(seconds, read) if isinstance(read, int | float) else seconds)
            raise httpx2.ReadTimeout("Simulated hang: no response before the read timeout", request=request)
        time.sleep(seconds)
        error = server_error(504)
        error.outcome = "hang"
        raise error

    # -- stored responses ------------------------------------------------
    def _prior(self, body: Any) -> Prior | None:
        previous = body.get("previous_response_id") if isinstance(body, dict) else None
        if previous is None:
            return None
        if not isinstance(previous, str):
            raise bad_request("Invalid 'previous_response_id'.", param="previous_response_id")
        return self._stored(previous, code="previous_response_not_found", param="previous_response_id")[0]

    def _stored(
        self, response_id: str, *, code: str | None = None, param: str | None = None
    ) -> tuple[Prior, dict[str, Any]]:
        with self._lock:
            entry = self._responses.get(response_id)
        if entry is None:
            raise not_found(f"Previous response with id '{response_id}' not found.", code=code, param=param)
        return entry

    def _store(self, built: Built) -> None:
        with self._lock:
            self._responses[built.body["id"]] = (chain_prior(built), built.body)
            while len(self._responses) > self.config.max_stored_responses:
                self._responses.popitem(last=False)


def _json_payload(request: httpx2.Request) -> Any:
    """Parse a JSON body (None for bodiless or non-JSON requests)."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    if "multipart/form-data" in request.headers.get("content-type", ""):
        return None
    raw = request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
            "HTTP library correctly.)"
        ) from None


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "openai"}
