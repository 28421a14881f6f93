"""The recogniser's dispatch on a body's top-level keys (`Format.keys`) picks what trying every
format in `FORMATS` order picks, over every sample payload and variants of each (a key taken out,
a `title` put in or taken out, 80 keys more), and each format's keys are ones its recogniser
cannot match without."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

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


@pytest.mark.parametrize(("name", "payload"), SAMPLES, ids=[name for name, _ in SAMPLES])
def test_dispatch_reads_each_sample_as_trying_every_format_in_order(
    name: str, payload: Any
) -> None:
    """Over a sample and its variants, the formats the dispatch tries pick the one trying all
    in order picks (or none when none matches), and `_recognise` reads the body as that one."""
    for variant in _variants(payload):
        expected = _in_order(variant)
        assert _first_match(_tried(variant), variant) == expected, name
        try:
            got = _recognise(variant).format
        except UnknownFormatError:
            got = "unknown"
        except TriageError:
            continue  # the format's parse refused the variant: which format is shown above
        assert got == expected, name


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.keys is not None], ids=lambda f: f.name)
def test_a_format_never_matches_a_body_without_any_of_its_keys(fmt: Format) -> None:
    """Each sample and variant with every one of the format's keys taken out is not the
    format's: the keys it is dispatched on are ones it needs."""
    assert fmt.keys
    for _, payload in SAMPLES:
        for variant in _variants(payload):
            if not isinstance(variant, dict):
                continue
            stripped = {k: v for k, v in variant.items() if k not in fmt.keys}
            assert not fmt.matches(stripped), (fmt.name, sorted(variant))
