"""OpenAI-compatible fake provider for tests and benchmarks (no Django here).

Usage::

    sim = Simulator(SimulatorConfig(seed=1, rpm=60))
    client = openai.OpenAI(api_key="sk-test", base_url="http://sim/v1",
                           http_client=httpx2.Client(transport=sim.transport()), max_retries=0)
    sim.script("429", ("503", {"message": "busy"}), "refusal")  # next three calls
    with serve(sim) as base_url:  # real loopback socket, e.g. for subprocesses
        ...
"""

from llm.simulator.config import SimulatorConfig
from llm.simulator.core import RecordedCall, Simulator
from llm.simulator.faults import Fault, make_fault
from llm.simulator.schema_fill import fill, strict_schema_problems
from llm.simulator.transport import serve

__all__ = [
    "Fault",
    "RecordedCall",
    "Simulator",
    "SimulatorConfig",
    "fill",
    "make_fault",
    "serve",
    "strict_schema_problems",
]
