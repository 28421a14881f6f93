"""`silences.none_match`, the fast path's pre-check: it never says "no silence matches" where
`first_match` on the alert's view finds one, over every sample payload and generated silences
(equality, negative, regex; on fields and labels; values the view redacts or changes), and it
makes no view of its own."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0
from triage.incidents import silences as silences_module
from triage.incidents.silences import Matcher, Op, Silence, first_match, none_match
from triage.models import Alert
from triage.normalize import normalize_body
from triage.view import AlertView

PAYLOADS = Path(__file__).parent / "payloads"
NOW = T0 + timedelta(minutes=1)


def _alerts() -> list[Alert]:
    found: list[Alert] = []
    for path in sorted(PAYLOADS.rglob("*.json")):
        try:
            found += normalize_body(path.read_bytes()).alerts
        except Exception:  # a sample of a bad body: it has no alert to match
            continue
    return found


ALERTS = _alerts()


def _silence(*matchers: Matcher) -> Silence:
    return Silence("s", matchers, T0, T0 + timedelta(hours=1), "why", "test")


def _values(alert: Alert) -> dict[str, list[str]]:
    """Per name, values a matcher may be written with: the raw value, the view's, and both
    changed (a case, a piece, a secret, an invisible character)."""
    view = AlertView(alert, silences_module._REDACTOR).view()
    names: dict[str, list[str]] = {
        "source": [alert.source, view.source],
        "team": [alert.team or "", view.team or ""],
        "title": [alert.title, view.title],
    }
    for key, value in list(alert.routed_labels.items())[:8]:
        names.setdefault(key, []).append(value)
    for key, value in list(view.labels.items())[:8]:
        names.setdefault(key, []).append(value)
    changed = ["payments", "[REDACTED:password]", "AKIAIOSFODNN7EXAMPLE", "pay\u200bments"]
    for values in names.values():
        values += [v.upper() for v in values if v] + [v[:3] for v in values if v] + changed
    names["absent_label"] = ["x", ""]
    return names


def _matchers(name: str, value: str, rng: random.Random) -> list[Matcher]:
    value = value[: silences_module.MAX_VALUE_CHARS]
    made: list[Matcher] = []
    pattern = rng.choice([".*" + value[:4].replace("\\", "") + ".*", ".+", "(?i)" + "pay.*"])
    for op, text in ((Op.EQ, value), (Op.NE, value), (Op.RE, pattern), (Op.NRE, pattern)):
        try:
            made.append(Matcher.build(name, op, text))
        except ValueError:  # a value no matcher takes (a lone surrogate, a bad pattern)
            continue
    return made


def _silences(alert: Alert, rng: random.Random) -> list[Silence]:
    made: list[Silence] = []
    named = _values(alert).items()
    pool = [m for name, values in named for v in values for m in _matchers(name, v, rng)]
    for matcher in rng.sample(pool, min(len(pool), 30)):
        if not matcher.holds_when_absent():
            made.append(_silence(matcher))
        other = rng.choice(pool)
        if not (matcher.holds_when_absent() and other.holds_when_absent()):
            made.append(_silence(matcher, other))
    return made


def _forget_views() -> None:
    silences_module._VIEWS._views.clear()


@pytest.mark.parametrize("remembered", [False, True], ids=["cold", "remembered"])
def test_none_match_never_misses_a_match(remembered: bool) -> None:
    """Over every sample alert and generated silences, `none_match` never says none matches
    where `first_match` finds one; with the view remembered it agrees with it exactly."""
    assert len(ALERTS) > 100
    rng = random.Random(583)
    checked = said_none = 0
    for alert in ALERTS:
        for silence in _silences(alert, rng):
            _forget_views()
            matched = first_match([silence], alert, NOW) is not None
            if not remembered:
                _forget_views()
            none = none_match([silence], alert, NOW)
            assert not (none and matched), (alert.fingerprint, str(silence.matchers))
            if remembered:
                assert none is not matched
            checked += 1
            said_none += none
    assert checked > 5_000 and said_none > 500, (checked, said_none)


def test_none_match_makes_no_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cold, `none_match` decides a team silence on an alert without a team, and declines any
    other, without making the alert's view (`AlertView.view` is never called)."""
    made: list[object] = []
    monkeypatch.setattr(AlertView, "view", lambda self, **kw: made.append(self))
    _forget_views()
    alert = next(a for a in ALERTS if not a.team)
    assert none_match([_silence(Matcher.parse("team=payments"))], alert, NOW)
    assert none_match([_silence(Matcher.parse("team=~.+"))], alert, NOW)
    assert not none_match([_silence(Matcher.parse("source=nobody"))], alert, NOW)
    assert not none_match([_silence(Matcher.parse("team!=payments"))], alert, NOW)
    assert made == []


def test_an_ended_silence_is_none() -> None:
    """A silence not active at `now` never keeps an alert from the fast path."""
    ended = Silence("s", (Matcher.parse("source=x"),), T0 - timedelta(hours=2), T0, "w", "t")
    assert none_match([ended], ALERTS[0], NOW)
