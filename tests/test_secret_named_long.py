"""A name's verdict costs what its end costs: `secret_named` judges a name longer than
`_JUDGED_NAME_CHARS` by its last that many characters, as only a name's end decides (every test
run on a long name is anchored at its end). A query or form field name of a megabyte, sent to
the gateway before or after authentication, so costs what one of a kilobyte does."""

from __future__ import annotations

import pytest

from scaling import growth
from triage.redact.names import _JUDGED_NAME_CHARS, secret_named

LONG_NAMES = [
    ("x" * 80_000 + "basicAuth", True),
    ("X-Forwarded-" * 8_000 + "Authorization", True),
    ("a" * 80_000, False),
    ("ab_" * 30_000 + "count", False),
    ("é" * 40_000 + "_set_cookie", True),
]


@pytest.mark.parametrize(("name", "secret"), LONG_NAMES, ids=[n[-16:] for n, _ in LONG_NAMES])
def test_a_long_name_is_judged_by_its_end(name: str, secret: bool) -> None:
    """A name far longer than the bound is judged as its end alone is: a secret's when its
    last word says so (a camel-case `…basicAuth`, a header's `…-Authorization`, `…_set_cookie`)."""
    assert secret_named(name) is secret
    assert secret_named(name) is secret_named(name[-_JUDGED_NAME_CHARS:])


def test_judging_a_name_stops_growing_past_the_bound() -> None:
    """Eight times a long name costs about what the name costs (linear work would cost eight
    times as much): the name's start is never read past the bound."""
    name = "a" * 200_000 + "_password"
    ratio = growth(lambda n: [secret_named(name[-n:]) for _ in range(20)], 16_384, factor=8)
    assert ratio < 3, ratio
