"""`fingerprint_of` remembers the fingerprints of the identities it hashed lately, and what it
answers from memory is always what hashing again gives: for identities in another key order,
for text that only looks alike, and for values that are equal without being plain text."""

from __future__ import annotations

import hashlib
import json

from triage import models
from triage.models import FINGERPRINT_VERSION, fingerprint_of


class Label(str):
    """Text of a `str` subclass: equal to the plain string, encoded as it."""


def _hashed(source: str, identity: dict[str, object]) -> str:
    """The fingerprint as its definition says: sha256 of the canonical JSON, 32 hex digits."""
    canonical = json.dumps(
        {"v": FINGERPRINT_VERSION, "source": source, "identity": identity},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def test_a_remembered_fingerprint_is_the_hash_of_the_identity() -> None:
    """Asked twice, in either key order, with a str subclass or odd text, the answer is the
    hash of the identity each time, and the second answer comes from memory."""
    cases: list[tuple[str, dict[str, object]]] = [
        ("generic", {"dedup_key": "disk-0"}),
        ("generic", {"b": "2", "a": "1"}),
        ("generic", {"a": "1", "b": "2"}),
        ("cloudwatch", {"alarm": Label("disk")}),
        ("cloudwatch", {"alarm": "disk"}),
        ("grafana", {"q": 'a "quoted" \\ ✓ \u2028 \x00'}),
    ]
    for source, identity in cases:
        first = fingerprint_of(source, identity)  # type: ignore[arg-type]
        assert first == _hashed(source, identity)
        assert fingerprint_of(source, dict(identity)) == first  # type: ignore[arg-type]
    assert (("generic", (("dedup_key", "disk-0"),))) in models._FINGERPRINTS


def test_values_equal_but_not_text_are_hashed_as_they_are() -> None:
    """An identity with 1 and one with True (equal in Python, different in JSON) each get
    their own hash, whichever is asked first."""
    for value in (1, True, 1.0, True, 1):
        identity = {"n": value}
        assert fingerprint_of("script", identity) == _hashed("script", identity)  # type: ignore[arg-type]


def test_memory_is_bounded() -> None:
    """However many identities are hashed, memory keeps at most its bound."""
    for n in range(models._FINGERPRINTS_MAX + 10):
        fingerprint_of("generic", {"dedup_key": f"k-{n}"})
    assert len(models._FINGERPRINTS) <= models._FINGERPRINTS_MAX
