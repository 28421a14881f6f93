"""The recogniser's dispatch on a body's top-level keys (`Format.keys`) picks what trying every
format in `FORMATS` order picks, over every sample payload and variants of each (a key taken out,
a `title` put in or taken out, 80 keys more), and each format's keys are ones its recogniser
cannot match without."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from case_chunks import assert_each, dealt
from triage.decode import decode_body
from triage.errors import TriageError, UnknownFormatError
from triage.normalize import FORMATS, POSTED_ALERTS, Format, _recognise, _tried

PAYLOADS = Path(__file__).parent / "payloads"


def _samples() -> list[tuple[str, Any]]:
    return [
        (str(path.relative_to(PAYLOADS)), decode_body(path.read_bytes()))
        for path in sorted(PAYLOADS.rglob("*.json"))
    ]


SAMPLES = _samples()
SAMPLE_BY_NAME = dict(SAMPLES)
#: A sample's variants take well under the ~1.5 ms of CPU a pytest item costs of its own, so
#: the samples run as a few items (tests/case_chunks.py), each failing one named.
CHUNKS = 3


def _variants(payload: Any) -> Iterator[Any]:
    """The payload, and for an object: each top-level key taken out, a title put in (or taken
    out), a `data` or `payload` wrapper around it, 80 keys more."""
    yield payload
    if not isinstance(payload, dict):
        return
    for key in payload:
        yield {k: v for k, v in payload.items() if k != key}
    if "title" in payload:
        yield {k: v for k, v in payload.items() if k != "title"}
    else:
        yield {**payload, "title": "a script's title"}
    yield {"data": payload}
    yield {"payload": payload}
    # More keys than the formats have between them: looked up the other way round.
    yield {**payload, **{f"extra_{i}": i for i in range(80)}}


def _first_match(formats: Sequence[Format], payload: Any) -> str:
    return next((fmt.name for fmt in formats if fmt.matches(payload)), "unknown")


def _in_order(payload: Any) -> str:
    """What trying every format in order, as the recogniser did before its dispatch, reads."""
    return _first_match((POSTED_ALERTS, *FORMATS), payload)


def test_every_format_is_found_among_the_samples() -> None:
    """The samples hold a body of every format, so the comparison below covers each one."""
    found = {_in_order(variant) for _, payload in SAMPLES for variant in _variants(payload)}
    assert {fmt.name for fmt in FORMATS} <= found


def _recognised(variant: Any) -> str | None:
    """The format `_recognise` reads the body as, "unknown", or None when the format's parse
    refused it (which format was picked is compared apart)."""
    try:
        return _recognise(variant).format
    except UnknownFormatError:
        return "unknown"
    except TriageError:
        return None


def _dispatch_differs(name: str) -> tuple[list[tuple[Any, ...]], list[Any]]:
    """For each variant of the sample where the dispatch or `_recognise` picks another format
    than trying all in order: its keys, the dispatch's pick, `_recognise`'s and the expected."""
    wrong = []
    for variant in _variants(SAMPLE_BY_NAME[name]):
        expected = _in_order(variant)
        dispatched, recognised = _first_match(_tried(variant), variant), _recognised(variant)
        if dispatched != expected or recognised not in (None, expected):
            keys = sorted(variant) if isinstance(variant, dict) else type(variant).__name__
            wrong.append((keys, dispatched, recognised, expected))
    return wrong, []


@pytest.mark.parametrize("names", dealt([name for name, _ in SAMPLES], CHUNKS))
def test_dispatch_reads_each_sample_as_trying_every_format_in_order(names: list[str]) -> None:
    """Over a sample and its variants, the formats the dispatch tries pick the one trying all
    in order picks (or none when none matches), and `_recognise` reads the body as that one."""
    assert_each(names, _dispatch_differs, name="sample")


def _matched_without_keys(name: str) -> tuple[list[list[str]], list[Any]]:
    """The keys of each dict variant the format still matches with all its keys taken out."""
    fmt = next(fmt for fmt in FORMATS if fmt.name == name)
    assert fmt.keys
    wrong = []
    for _, payload in SAMPLES:
        for variant in _variants(payload):
            if not isinstance(variant, dict):
                continue
            stripped = {k: v for k, v in variant.items() if k not in fmt.keys}
            if fmt.matches(stripped):
                wrong.append(sorted(variant))
    return wrong, []


def test_a_format_never_matches_a_body_without_any_of_its_keys() -> None:
    """Each sample and variant with every one of the format's keys taken out is not the
    format's: the keys it is dispatched on are ones it needs."""
    keyed = [fmt.name for fmt in FORMATS if fmt.keys is not None]
    assert_each(keyed, _matched_without_keys, name="format")
