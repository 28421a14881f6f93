"""The known-error patterns RE2 cannot run (the others are searched by RE2, regex_linear.py)
search ASCII text with their ASCII-mode twin, and find exactly what
the pattern itself finds: over every sample payload's alerts, every string of every sample,
and texts made of the patterns' own words in any case; a pattern naming a character outside
ASCII (or one that cannot be compiled in ASCII mode) has no twin, and text outside ASCII or
holding the separators Unicode counts as spaces (U+001C to U+001F) is searched as before."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from triage.models import Priority
from triage.normalize import normalize_body
from triage.redact import Redactor
from triage.summarise.deterministic import MATCH_CHARS, Pattern, load_patterns, match
from triage.view import RedactedAlert, redact_alert

PAYLOADS = Path(__file__).parent / "payloads"
SAMPLES = sorted(str(path.relative_to(PAYLOADS)) for path in PAYLOADS.rglob("*.json"))
BUNDLED = load_patterns()
REDACTOR = Redactor()


def _reference(patterns: tuple[Pattern, ...], alert: RedactedAlert) -> list[Pattern]:
    """`match` as it was: every pattern's own (Unicode) regex on the alert's text."""
    text = " ".join([alert.title, alert.description, *alert.labels.values()])[:MATCH_CHARS]
    return [p for p in patterns if p.regex.search(text)][:3]


def _views(name: str) -> list[RedactedAlert]:
    try:
        alerts = normalize_body((PAYLOADS / name).read_text(encoding="utf-8")).alerts
    except Exception:  # a sample of a refused or skipped shape: no alert to match
        return []
    return [redact_alert(alert, REDACTOR) for alert in alerts]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _spans(regex: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in regex.finditer(text)]


def test_every_bundled_pattern_has_an_ascii_twin() -> None:
    """The bundled patterns name ASCII characters only: each is searched in ASCII mode on
    ASCII text."""
    assert all(p.ascii_regex is not None for p in BUNDLED)
    assert all(p.ascii_regex.flags & re.ASCII for p in BUNDLED if p.ascii_regex)


@pytest.mark.parametrize("name", SAMPLES)
def test_a_samples_alerts_match_the_patterns_they_matched(name: str) -> None:
    """Each alert of a sample matches the very patterns it matched before, and every string of
    the sample is found at the same places by each bundled pattern and its twin."""
    for view in _views(name):
        assert match(BUNDLED, view) == _reference(BUNDLED, view)
    payload = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    for text in _strings(payload):
        if not text.isascii():
            continue
        for p in BUNDLED:
            assert p.ascii_regex is not None
            assert _spans(p.ascii_regex, text) == _spans(p.regex, text), (p.category, text)


def _words(pattern: str) -> list[str]:
    """The runs of letters, digits and spaces a pattern spells."""
    return re.findall(r"[A-Za-z0-9_ ]{2,}", pattern)


def test_texts_of_the_patterns_own_words_in_any_case_match_alike() -> None:
    """Texts made of every pattern's words, in random case and with random ASCII between them,
    are found at the same places by each pattern and its twin (thousands of matches)."""
    rng = random.Random(221)
    words = [w for p in BUNDLED for w in _words(p.regex.pattern)]
    glue = [" ", "", "-", "_", ".", ": ", "\t", "\n", "5", "%", '"', "/", "x"]
    found = 0
    for _ in range(1500):
        parts = [rng.choice(words) for _ in range(rng.randrange(1, 8))]
        text = "".join(rng.choice(glue) + "".join(rng.choice((c.lower(), c.upper())) for c in w)
                       for w in parts)  # fmt: skip
        for p in BUNDLED:
            assert p.ascii_regex is not None
            spans = _spans(p.regex, text)
            assert _spans(p.ascii_regex, text) == spans, (p.category, text)
            found += len(spans)
    assert found > 1000


def _view(text: str) -> RedactedAlert:
    alert = normalize_body(json.dumps({"title": "t", "description": text})).alerts[0]
    return redact_alert(alert, REDACTOR)


def _pattern(regex: str) -> Pattern:
    from triage.summarise.deterministic import _pattern as compiled

    entry = {"category": "c", "pattern": regex, "severity_hint": "low", "steps": []}
    return compiled(entry, "test")


#: Patterns whose ASCII-mode reading differs from their own on some ASCII text, and that text.
UNLIKE = (
    ("\u017fudo", "SUDO"),  # long s: Unicode case folds it to s
    ("\\u212aill", "kill"),  # Kelvin sign, by escape: folds to k
    ("\\N{LATIN CAPITAL LETTER I WITH DOT ABOVE}d", "id"),  # folds to i
    ("[\\x80-\\u0200]ign", "sign"),  # a range holding the long s
    ("(?u)disk\\s+full", "disk full"),  # an inline Unicode flag: no ASCII mode
)


@pytest.mark.parametrize(("regex", "text"), UNLIKE)
def test_a_pattern_naming_more_than_ascii_keeps_its_own_reading(regex: str, text: str) -> None:
    """A pattern that names a character outside ASCII (literally or by escape), or asks for
    Unicode itself, has no twin and still matches the ASCII text its Unicode reading matches."""
    pattern = _pattern(regex)
    assert pattern.ascii_regex is None
    assert match((pattern,), _view(text)) == [pattern]


def test_text_holding_unicode_spaces_is_searched_in_unicode_mode() -> None:
    """U+001C to U+001F are spaces to Unicode's \\s, not to ASCII's: text holding one is
    searched with the pattern itself, so `disk\\s+full` matches across one as before."""
    pattern = _pattern("disk\\s+full")
    assert pattern.ascii_regex is not None
    for sep in "\x1c\x1d\x1e\x1f":
        view = RedactedAlert(
            fingerprint="f",
            source="generic",
            status=_view("x").status,
            title=f"disk{sep}full",
            team=None,
            priority=Priority.LOW,
            severity=None,
            description="",
            runbook_url=None,
            occurred_at=_view("x").occurred_at,
        )
        assert match((pattern,), view) == [pattern], repr(sep)
