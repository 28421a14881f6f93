"""Through the pipeline: an incident's history says why a sink sent nothing (skipped, with a
fixed word, or refused) and names the sink and reason of a failed attempt, never an error's or
a service's text."""

from __future__ import annotations

import pytest

from factories import alert
from test_pipeline import Rig, rig
from triage.errors import GitHubUnavailableError, SinkRejectedError, SinkUnavailableError
from triage.incidents import Action
from triage.incidents.store import TIMES
from triage.models import EffectKind, Status
from triage.sinks.base import Applied, Effect, NotSent

SECRET = "password=hunter2 <b>Ignore previous instructions</b>"


async def _history(r: Rig) -> list[tuple[str, str]]:
    stored = await r.store.get(alert().fingerprint)
    assert stored is not None
    return [(e.action, e.note) for e in stored.history]


async def test_a_failing_sink_is_one_line_with_its_name_and_a_fixed_reason() -> None:
    """Two failed attempts at an open are one line naming the sink and its error's reason
    word (not the error's text, which may echo the alert); the answer that comes replaces it."""
    r = rig()
    failures = [SinkUnavailableError(f"503 {SECRET}"), SinkUnavailableError(SECRET)]
    answer = r.sink.apply

    async def failing(effect: Effect) -> Applied:
        if failures:
            raise failures.pop()
        return await answer(effect)

    r.sink.apply = failing  # type: ignore[method-assign]
    with pytest.raises(SinkUnavailableError):
        await r.send(0, owner="first")
    assert (await _history(r))[-1] == ("open", f"failed {TIMES}1: backend unavailable")
    with pytest.raises(SinkUnavailableError):
        await r.send(0, owner="first")
    assert await _history(r) == [("open", ""), ("open", f"failed {TIMES}2: backend unavailable")]
    assert await r.send(0, owner="first") is Action.OPEN
    assert await _history(r) == [("open", ""), ("open", "backend: T-1 (after 2 failed attempts)")]


async def test_a_failure_names_a_precise_reason_and_never_text_out_of_the_error_tree() -> None:
    """A sink error with a precise reason is noted by it (`github network`); a reason that is
    not a machine word (text smuggled into it) is noted as its class's word instead."""
    r = rig()
    r.sink.name = "github"
    errors = [
        GitHubUnavailableError("x", reason=SECRET),
        GitHubUnavailableError(SECRET, reason="network"),
    ]

    async def failing(effect: Effect) -> Applied:
        raise errors.pop()

    r.sink.apply = failing  # type: ignore[method-assign]
    with pytest.raises(GitHubUnavailableError):
        await r.send(0, owner="first")
    assert (await _history(r))[-1] == ("open", f"failed {TIMES}1: github network")
    with pytest.raises(GitHubUnavailableError):
        await r.send(0, owner="first")
    assert (await _history(r))[-1] == ("open", f"failed {TIMES}2: github unavailable")


async def test_a_resolve_without_a_resolve_route_reads_skipped_and_a_refusal_refused() -> None:
    """A close the backend skips (no resolve route) reads `skipped: no route`, by the word the
    sink set, whatever its reason's text; a sink whose service refuses, by an error or by a
    refusal quoting its answer, reads `refused`, and the service's text stays out of the
    history."""
    r = rig()
    answer = r.sink.apply
    answers: dict[EffectKind, Applied | Exception] = {
        EffectKind.CLOSE: Applied.skip(f"reworded: {SECRET}", why=NotSent.NO_ROUTE),
        EffectKind.REOPEN: Applied.refuse(f"slack refused: {SECRET}"),
    }

    async def answering(effect: Effect) -> Applied:
        said = answers.get(effect.kind)
        if isinstance(said, Exception):
            raise said
        return said if said is not None else await answer(effect)

    r.sink.apply = answering  # type: ignore[method-assign]
    assert await r.send(0) is Action.OPEN
    assert await r.send(1, Status.RESOLVED) is Action.CLOSE
    assert (await _history(r))[-1] == ("close", "backend: skipped: no route")
    assert await r.send(2) is Action.REOPEN
    assert (await _history(r))[-1] == ("reopen", "backend: refused")
    answers[EffectKind.CLOSE] = SinkRejectedError(f"409 {SECRET}")
    with pytest.raises(SinkRejectedError):
        await r.send(3, Status.RESOLVED)
    assert (await _history(r))[-1] == ("close", "backend: refused")
    assert not any("hunter2" in note or "Ignore" in note for _, note in await _history(r))
