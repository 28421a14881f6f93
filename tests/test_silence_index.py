"""`silences.SilenceIndex`: silences in effect looked up by one equality matcher each answer
exactly what the linear scan does (the same silence, the first in the order kept, when several
match), over every sample payload's alerts and generated silence sets; it reads few silences
per alert; and `SilenceCache` keeps it right as silences are added, extended, expired and end."""

from __future__ import annotations

import json
import random
import unicodedata
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0
from memory_store import MemoryStore
from triage.incidents import silences as silences_module
from triage.incidents.silences import (
    INDEX_FROM,
    AsShown,
    Matcher,
    Op,
    Silence,
    SilenceCache,
    first_match,
    index_of,
    none_match,
)
from triage.models import Alert
from triage.normalize import normalize_body
from triage.view import AlertView

PAYLOADS = Path(__file__).parent / "payloads"
NOW = T0 + timedelta(minutes=1)
HOUR = timedelta(hours=1)


def _alerts() -> list[Alert]:
    found: list[Alert] = []
    for path in sorted(PAYLOADS.rglob("*.json")):
        try:
            found += normalize_body(path.read_bytes()).alerts
        except Exception:  # a sample of a bad body: it has no alert to match
            continue
    return found


#: Alerts whose values arrive decomposed (an `e` and a combining accent): a matcher typed
#: composed holds for them (`silences.composed`), through the index too.
_DECOMPOSED = unicodedata.normalize("NFD", "café Zürich")
ALERTS = _alerts() + [
    normalize_body(json.dumps(body).encode()).alerts[0]
    for body in (
        {"title": f"disk {_DECOMPOSED}", "team": _DECOMPOSED, "labels": {"place": _DECOMPOSED}},
        {"title": _DECOMPOSED, "host": _DECOMPOSED, "source": "grafana"},
    )
]


def _linear(silences: list[Silence], alert: Alert) -> Silence | None:
    """The linear scan the index replaces: the first active silence, in order, that matches."""
    shown = AsShown(alert)
    return next((s for s in silences if s.active(NOW) and s.matches(shown)), None)


def _values(alert: Alert) -> dict[str, list[str]]:
    """Per name, values a matcher may be written with: the raw value, the view's (redacted,
    cut, named secrets taken out), and those changed (case, a piece, a secret, an invisible
    character, the other Unicode composition)."""
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
    changed = ["payments", "[REDACTED:password]", "AKIAIOSFODNN7EXAMPLE", "pay\u200bments", ""]
    for values in names.values():
        values += [v.upper() for v in values if v] + [v[:3] for v in values if v]
        values += [unicodedata.normalize(f, v) for f in ("NFC", "NFD") for v in values]
        values += changed
    names["absent_label"] = ["x", ""]
    return names


def _matcher(name: str, value: str, rng: random.Random) -> Matcher | None:
    value = value[: silences_module.MAX_VALUE_CHARS]
    op = rng.choice([Op.EQ, Op.EQ, Op.EQ, Op.NE, Op.RE, Op.NRE])
    if op in (Op.RE, Op.NRE):
        piece = silences_module.re.escape(value[:4]) if rng.random() < 0.5 else ""
        value = rng.choice([f".*{piece}.*", ".+", "(?i)pay.*", piece])
    try:
        return Matcher.build(name, op, value)
    except ValueError:  # a value no matcher takes (a lone surrogate, a bad pattern)
        return None


def _silences(alert: Alert, rng: random.Random) -> list[Silence]:
    """A silence set for `alert`: one to three matchers each, some shared by many silences
    (`env=prod` of every deploy), some repeated under another id (several match), some not
    active at `NOW` (starting later, ended, expired by hand)."""
    pool = [(name, v) for name, values in _values(alert).items() for v in values]
    made: list[Silence] = []
    for n in range(rng.randint(INDEX_FROM, 40)):
        matchers = [m for _ in range(rng.randint(1, 3)) if (m := _matcher(*rng.choice(pool), rng))]
        if not matchers or all(m.holds_when_absent() for m in matchers):
            continue
        starts, ends, expired = T0, T0 + HOUR, None
        when = rng.random()
        if when < 0.1:
            starts = NOW + timedelta(seconds=1)
        elif when < 0.2:
            ends = NOW
        elif when < 0.25:
            expired = NOW - timedelta(seconds=1)
        made.append(Silence(f"s{n}", tuple(matchers), starts, ends, "c", "a", expired))
        if rng.random() < 0.2:
            made.append(Silence(f"s{n}-again", tuple(matchers), T0, T0 + HOUR, "c", "a"))
    while len(made) < INDEX_FROM:  # unrelated ones, so the set is indexed
        made.append(
            Silence(f"pad{len(made)}", (Matcher.parse("svc=nothing"),), T0, T0 + HOUR, "", "")
        )
    return made


def test_the_index_answers_as_the_linear_scan_over_every_sample_alert() -> None:
    """Over every sample alert and generated silence sets (in several orders), `first_match`
    through the index returns the very silence the linear scan does, and `none_match` answers
    as it does without the index, cold and with the alert's view remembered."""
    assert len(ALERTS) > 100
    rng = random.Random(588)
    checked = matched = several = 0
    for alert in ALERTS:
        made = _silences(alert, rng)
        for _ in range(3):
            rng.shuffle(made)
            ordered = tuple(made)
            assert index_of(ordered) is not None
            expected = _linear(made, alert)
            assert first_match(ordered, alert, NOW) is expected, (alert.fingerprint, expected)
            silences_module._VIEWS._views.clear()
            cold = none_match(list(ordered), alert, NOW)
            silences_module._VIEWS._views.clear()
            assert none_match(ordered, alert, NOW) is cold
            first_match(ordered, alert, NOW)  # remembers the view
            assert none_match(ordered, alert, NOW) is (expected is None)
            checked += 1
            matched += expected is not None
            several += sum(s.active(NOW) and s.matches(AsShown(alert)) for s in made) > 1
    assert checked > 300 and matched > 100 and several > 50, (checked, matched, several)


def test_an_alert_is_matched_against_few_of_a_thousand_deploy_silences(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With 1,000 deploy silences in effect (`service=svc-N`, `env=prod`), an alert of none
    of them is matched against none, and one of them against its own only."""
    read: list[str] = []
    real = Silence.matches
    monkeypatch.setattr(
        Silence, "matches", lambda self, shown: read.append(self.id) or real(self, shown)
    )
    deploys = tuple(
        Silence(
            f"s{n}",
            (Matcher.parse(f"service=svc-{n}"), Matcher.parse("env=prod")),
            T0,
            T0 + HOUR,
            "",
            "",
        )
        for n in range(1000)
    )
    alert = ALERTS[0]
    assert first_match(deploys, alert, NOW) is None
    assert read == []
    ours = alert.model_copy(
        update={"labels": {**alert.labels, "service": "svc-700", "env": "prod"}}
    )
    assert first_match(deploys, ours, NOW) is deploys[700]
    assert read == ["s700"]


async def test_the_cache_keeps_the_index_right_as_silences_change() -> None:
    """Through `SilenceCache`, an alert is held by a silence once added, by the earlier of two
    that match, by the later once the earlier is expired, by none once that one runs out; an
    unchanged store read again gives the same tuple (its index is not made again)."""
    store, clock = MemoryStore(), [0.0]
    cache = SilenceCache(store, max_age_s=1.0, clock=lambda: clock[0])
    alert = ALERTS[0]
    value = alert.source

    async def read(now: object = NOW) -> tuple[Silence, ...]:
        clock[0] += 1.0
        return await cache.in_effect(now)  # type: ignore[arg-type]

    for n in range(INDEX_FROM):  # unrelated ones, so the silences in effect are indexed
        await store.add_silence(
            Silence.new([Matcher.parse(f"svc=x{n}")], T0, T0 + HOUR, f"c{n}", "a"), T0
        )
    assert first_match(await read(), alert, NOW) is None
    early = Silence.new([Matcher.build("source", Op.EQ, value)], T0, T0 + HOUR, "early", "a")
    later = Silence.new([Matcher.build("source", Op.EQ, value)], T0, T0 + 2 * HOUR, "later", "a")
    await store.add_silence(early, T0)
    await store.add_silence(later, T0)
    effect = await read()
    assert index_of(effect) is not None
    assert first_match(effect, alert, NOW) == early
    assert await read() is effect  # read again, unchanged: the same tuple and index
    await store.expire_silence(early.id, NOW)
    assert first_match(await read(), alert, NOW) == later
    longer = Silence.new([Matcher.build("source", Op.EQ, value)], T0, T0 + 3 * HOUR, "later", "a")
    await store.add_silence(longer, NOW)  # the same silence asked again: it ends later
    after = T0 + 2 * HOUR + timedelta(minutes=1)
    assert first_match(await read(after), alert, after) == later.__class__(
        later.id, later.matchers, later.starts_at, longer.ends_at, "later", "a"
    )
    gone = T0 + 3 * HOUR
    assert first_match(await read(gone), alert, gone) is None


def test_a_listing_matches_each_silence_against_the_same_incidents_as_one_by_one() -> None:
    """`silence list`'s matching (`operator._matched_by_silence`, through the index) finds for
    each silence exactly the incidents matching it one by one would, in their order, active
    or not, with repeated ids, over every sample alert."""
    from triage.ops.operator import _matched_by_silence

    rng = random.Random(5881)
    subjects = [(alert, AsShown(alert)) for alert in ALERTS]
    for alert in rng.sample(ALERTS, 6):
        made = _silences(alert, rng)
        made.append(Silence(made[0].id, made[0].matchers, T0, T0 + HOUR, "same id", "a"))
        found = _matched_by_silence(made, subjects)  # type: ignore[arg-type]
        for silence, matched in zip(made, found, strict=True):
            assert matched == [a for a, shown in subjects if silence.matches(shown)], silence
