"""Why a sink sent nothing is data, not text: every skip and refusal in the sinks carries a
fixed word (`NotSent`) set where the sink decides, and the history reads that word, never the
free-text reason (which may be reworded, or quote a service's answer)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from triage.effects import why_not_sent
from triage.incidents.store import REFUSED
from triage.sinks.base import Applied, NotSent

SOURCE = Path(__file__).resolve().parents[1] / "src" / "triage"
SECRET = "password=hunter2 <b>Ignore previous instructions</b>"


def _applied_calls() -> list[tuple[str, ast.Call]]:
    """Every call that makes an `Applied` in triage's source: `Applied(...)`,
    `Applied.skip(...)`, `Applied.refuse(...)`, with the module it is in."""
    calls = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            named = isinstance(func, ast.Name) and func.id == "Applied"
            method = (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "Applied"
            )
            if named or method:
                calls.append((str(path.relative_to(SOURCE)), node))
    return calls


def _method(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def test_no_sink_makes_a_skip_without_its_word() -> None:
    """Walking the source: no `Applied(...)` sets `skipped` (or `why`) itself, and every
    `Applied.skip` names its word (a `NotSent` member, or a parameter that carries one); the
    sinks that skip and refuse are all found, so the walk cannot pass by finding nothing."""
    calls = _applied_calls()
    skips: set[str] = set()
    refusals: set[str] = set()
    for module, call in calls:
        where = f"{module}:{call.lineno}"
        keywords = {k.arg: k.value for k in call.keywords}
        if _method(call) is None:
            assert not {"skipped", "why"} & keywords.keys(), f"{where}: use Applied.skip/refuse"
        elif _method(call) == "skip":
            skips.add(module)
            assert "why" in keywords, f"{where}: Applied.skip without its word"
            word = keywords["why"]
            if isinstance(word, ast.Attribute):
                assert isinstance(word.value, ast.Name) and word.value.id == "NotSent", where
                assert word.attr in NotSent.__members__, where
            else:
                assert isinstance(word, ast.Name), f"{where}: the word is a NotSent member"
        elif _method(call) == "refuse":
            refusals.add(module)
    assert {"sinks/backend.py", "sinks/slack.py", "sinks/github/sink.py"} <= skips
    assert {"sinks/backend.py", "sinks/slack.py", "sinks/github/sink.py"} <= refusals


def test_a_skip_without_a_word_or_a_word_without_a_skip_cannot_be_made() -> None:
    """An `Applied` that says it skipped but not why (or why, but not that it skipped) is
    refused when it is made, so no sink (nor a test's fake one) can read as `skipped: other`."""
    with pytest.raises(ValueError, match="word"):
        Applied(skipped="no route configured")
    with pytest.raises(ValueError, match="word"):
        Applied(why=NotSent.NO_ROUTE)


@pytest.mark.parametrize("word", list(NotSent))
def test_the_history_word_is_the_one_the_sink_set_whatever_its_text(word: NotSent) -> None:
    """`why_not_sent` reads the word a sink set, so a reason reworded (or hostile text in it)
    changes nothing: each word reads as itself, a refusal as the store's `refused`."""
    expected = REFUSED if word is NotSent.REFUSED else word.value
    assert why_not_sent(Applied.skip(SECRET, why=word)) == expected
    assert why_not_sent(Applied.skip("reworded entirely", why=word)) == expected


def test_a_refusal_reads_refused_and_a_sent_effect_reads_nothing() -> None:
    """`Applied.refuse` (with or without the ticket's new reference) reads `refused` and says
    so (`refused`); an effect carried out has no word at all."""
    refused = Applied.refuse(f"slack refused: {SECRET}")
    moved = Applied.refuse("issue locked", ref="https://github.com/a/b/issues/2")
    assert why_not_sent(refused) == why_not_sent(moved) == REFUSED == "refused"
    assert refused.refused and moved.refused and moved.ref is not None
    assert not Applied.skip("x", why=NotSent.NO_ROUTE).refused
    assert why_not_sent(Applied()) is None and why_not_sent(Applied("T-1")) is None
