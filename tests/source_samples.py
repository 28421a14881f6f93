"""A source's sample payloads (tests/payloads/<folder>/) and the checks its tests all make alike.

`Samples("freshping")` reads one folder's samples; `run` and `one` normalise a decoded body as
the daemon would; `skipped_reasons` processes a body through the pipeline, holds that it made no
ticket and no dead letter, and returns the reasons it logged for skipping; `mutant_failures`
runs the fuzzer's check (`test_normalize_fuzz.problem`) on seeded mutants of one sample.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from factories import T0
from json_mutants import mutants
from recording_pipeline import Sink, pipeline_into
from test_normalize_fuzz import problem
from triage.models import Alert
from triage.normalize import Normalized, normalize_body
from triage.sqs.inbox import Message

PAYLOADS = Path(__file__).parent / "payloads"


@dataclass(frozen=True)
class Samples:
    """The sample payloads of one folder under tests/payloads."""

    folder: str

    def path(self, name: str) -> Path:
        return PAYLOADS / self.folder / name

    def text(self, name: str) -> str:
        return self.path(name).read_text(encoding="utf-8")

    def body(self, name: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.text(name))
        return value


def run(body: dict[str, Any]) -> Normalized:
    """`body`'s canonical alerts (or why it has none), read from its JSON as a message is."""
    return normalize_body(json.dumps(body))


def one(body: dict[str, Any]) -> Alert:
    """The one alert `body` holds (a ValueError if it holds another number)."""
    [alert] = run(body).alerts
    return alert


async def skipped_reasons(text: str) -> list[str]:
    """The reasons logged for skipping a message of `text`, once the pipeline has processed it
    and made no ticket and no dead letter."""
    sink = Sink()
    message = Message("m-1", text, "r-1", 1, T0, received_at=T0)
    with structlog.testing.capture_logs() as logs:
        outcomes = await pipeline_into(sink).process(message)
    assert (outcomes, sink.effects) == ([], [])
    return [entry["reason"] for entry in logs if entry["event"] == "alert.skipped"]


def mutant_failures(text: str, seed: str, count: int = 200) -> list[str]:
    """The fuzzer's findings on `count` mutants of `text` seeded by `seed`, one line each."""
    return [
        f"{mutant.describe(seed)}: {found}"
        for mutant in mutants(text, seed, count)
        if (found := problem(mutant))
    ]
