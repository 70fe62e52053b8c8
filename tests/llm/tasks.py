"""A small LLM task owned by the llm tests themselves (no domain app), with an apply whose writes a
test can see: for request-boundary and provider-shape tests that must not depend on where a domain
task lives."""

from __future__ import annotations

from pydantic import BaseModel, Field

from llm.task import LLMTask, Message, Provenance, register

applied: list[tuple[str, bool]] = []  # (text, is_fallback) of every apply, in order


class EchoInput(BaseModel):
    text: str = Field(max_length=200)


class Echo(BaseModel):
    summary: str = Field(description="One short sentence.")


def _messages(task_input: EchoInput) -> list[Message]:
    return [{"role": "user", "content": f"Summarize in one sentence: {task_input.text}"}]


def _fallback(task_input: EchoInput) -> Echo:
    return Echo(summary=f"About: {task_input.text[:60]}")


def _apply(task_input: EchoInput, output: Echo, provenance: Provenance) -> None:
    applied.append((task_input.text, provenance.is_fallback))


ECHO = register(
    LLMTask(
        name="llm_test_echo",
        version=1,
        input_model=EchoInput,
        output_model=Echo,
        build_messages=_messages,
        fallback=_fallback,
        apply=_apply,
        max_output_tokens=60,
        description="Test task: a one-sentence summary.",
    )
)


def echo_input(i: int = 0) -> EchoInput:
    return EchoInput(text=f"item {i}: a red electric guitar with two pickups")
