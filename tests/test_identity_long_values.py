"""An identity name or value past 1,024 characters is held to the limit without losing what
tells it apart: its start, a "…" and a digest of the whole value. Two alerts whose identity
differs only past the cut are two incidents; an identity within the limit keeps the
fingerprint it always had; and what is shown of a long value leaks no secret cut in half."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from factories import T0
from triage.models import IDENTITY_MAX, Alert, Status, identity_text
from triage.normalize import common, normalize_body
from triage.redact import Redactor

PAYLOADS = Path(__file__).parent / "payloads"


def _built(identity: dict[str, str], source: str = "plugin") -> Alert:
    """An alert built directly, as a plug-in or a test would, with `identity`."""
    return Alert(source=source, status=Status.FIRING, title="t", occurred_at=T0, identity=identity)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


def _generic(dedup_key: Any) -> Alert:
    """The one alert of a script's body keyed by `dedup_key`."""
    body = {"title": "Backup failed", "dedup_key": dedup_key}
    (made,) = normalize_body(json.dumps(body)).alerts
    return made


def test_values_that_differ_only_past_the_limit_are_two_incidents() -> None:
    """Two values (or two names) equal in their first 1,024 characters hash apart."""
    head = "SELECT 1 " * 200
    eu, us = _built({"query": head + "eu"}), _built({"query": head + "us"})
    assert eu.fingerprint != us.fingerprint
    named_eu, named_us = _built({head + "eu": "v"}), _built({head + "us": "v"})
    assert named_eu.fingerprint != named_us.fingerprint


def test_a_long_value_is_its_start_a_mark_and_a_digest_of_the_whole() -> None:
    """A long value is kept as its first characters, "…", and sha256 of the whole (32 hex),
    in at most 1,024 characters: the exact form, pinned, as every fingerprint hashes it."""
    value = "".join(f"{n:05d}/" for n in range(400))
    held = identity_text(value)
    assert held == value[: IDENTITY_MAX - 41] + "… sha256:" + _digest(value)
    assert len(held) == IDENTITY_MAX
    assert _built({value: value}).identity == {held: held}


def test_a_long_values_cut_never_splits_a_character() -> None:
    """The start kept is cut between user-perceived characters, as every cut is."""
    value = "a" * (IDENTITY_MAX - 42) + "\U0001f1eb\U0001f1f7" + "tail" * 20  # a flag at the cut
    held = identity_text(value)
    assert held == "a" * (IDENTITY_MAX - 42) + "… sha256:" + _digest(value)


def test_an_identity_within_the_limit_keeps_its_fingerprint() -> None:
    """Names and values of up to 1,024 characters are hashed as given: pinned fingerprints."""
    assert identity_text("k" * IDENTITY_MAX) == "k" * IDENTITY_MAX
    assert _built({"dedup_key": "k" * IDENTITY_MAX}, "generic").fingerprint == (
        "07415ed8d21250eb211e239e47746f2d"
    )
    at_limit = {"alertname": "Slow", "query": "é" * IDENTITY_MAX, "q" * IDENTITY_MAX: "v"}
    assert _built(at_limit, "alertmanager").fingerprint == "434408968170aeb39eb0c0f5d64ad700"
    assert _generic("d" * IDENTITY_MAX).identity == {"dedup_key": "d" * IDENTITY_MAX}


def test_a_held_identity_is_held_alike_when_built_again() -> None:
    """Holding is idempotent: an alert rebuilt or copied from a held identity keeps it and
    its fingerprint."""
    first = _built({"dedup_key": "x" * 3_000 + "1"})
    again = _built(dict(first.identity))
    copied = first.model_copy(update={"identity": dict(first.identity)})
    assert again.identity == copied.identity == first.identity
    assert again.fingerprint == copied.fingerprint == first.fingerprint
    recut = first.model_copy(update={"identity": {"dedup_key": "x" * 3_000 + "1"}})
    assert recut.identity == first.identity and recut.fingerprint == first.fingerprint


def test_a_scripts_dedup_keys_that_differ_past_the_limit_are_two_incidents() -> None:
    """Through the normaliser, dedup_keys that differ past 1,024 characters, or past the
    4,096 a shown field's cleaning reads, are two incidents; the same key twice is one."""
    folders = "/".join(f"customer-{i:04d}" for i in range(90))
    assert (
        _generic(folders + "/2026-11-22").fingerprint
        != _generic(folders + "/2026-11-23").fingerprint
    )
    far = "x" * 5_000
    assert _generic(far + "a").fingerprint != _generic(far + "b").fingerprint
    assert _generic(far + "a").fingerprint == _generic(far + "a").fingerprint


def test_an_identity_value_is_cleaned_whole_before_it_is_held() -> None:
    """`ident` cleans the whole value as one line (controls gone, whitespace collapsed), then
    holds it: a value that cleans to within the limit is kept as it cleans, wherever its
    spaces were, and the digest is of the cleaned text, so spacing alone is no new incident."""
    assert common.ident(" " * 6_000 + "job-7", "dedup_key") == "job-7"
    spaced = ("a  b\t" * 600).strip()
    assert common.ident(spaced, "id") == identity_text(" ".join(spaced.split()))
    assert common.ident_or_none(None, "id") is None


def test_an_alertmanager_label_past_the_limit_is_held() -> None:
    """A label set is the identity: a long label name or value is held, not cut bare."""
    body = json.loads((PAYLOADS / "alertmanager/group-firing.json").read_text(encoding="utf-8"))
    labels = body["alerts"][0]["labels"]
    labels["query"] = "q" * 5_000
    labels["k" * 2_000] = "v"
    identity = normalize_body(json.dumps(body)).alerts[0].identity
    assert identity["query"] == identity_text("q" * 5_000)
    assert identity[identity_text("k" * 2_000)] == "v"
    assert identity["alertname"] == labels["alertname"]


def test_a_secret_cut_at_a_long_values_start_is_not_shown() -> None:
    """The kept start ends in "…", so a secret the cut falls inside is redacted wherever the
    identity is shown (as `triage normalize` shows it), never its first characters bare."""
    secret = "glpat-4GpYGkRi4zQx7LmN2pVb"
    value = "y " * 485 + secret + " and more" * 20
    held = identity_text(value)
    assert secret[:8] in held and secret not in held  # the cut falls inside the secret
    shown = json.dumps(Redactor().value({"identity": {"dedup_key": held}}))
    assert secret[:8] not in shown and "[REDACTED" in shown


def test_a_reader_parses_an_identity_from_its_whole_line() -> None:
    """`ident_line` is the whole value cleaned as one line and never cut or held, for a
    reader that splits or joins an identity before the model holds it: its end is kept."""
    given = "Disk full\x00 " + "x " * 700 + "on {host:a}"
    assert common.ident_line(given, "title") == " ".join(given.replace("\x00", " ").split())
    assert common.ident_line(given, "title").endswith("on {host:a}")
    assert common.ident_or_none(given, "title") == identity_text(common.ident_line(given, "t"))
    assert common.ident_line("  ", "title") is None


def _lengthened(name: str, path: tuple[Any, ...], tail: str, inner: bool = False) -> str:
    """The body of sample `name` with the text at `path` lengthened by 1,100 characters and
    `tail` (inside the SNS `Message` JSON when `inner`)."""
    payload = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    target = json.loads(payload["Message"]) if inner else payload
    node = target
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = f"{node[path[-1]]}{' q' * 550}{tail}"
    if inner:
        payload["Message"] = json.dumps(target)
    return json.dumps(payload)


#: Identity values of each source, as (sample, path to the text, inside the SNS Message).
LONG_VALUES = {
    "alertmanager label": ("alertmanager/group-firing.json", ("alerts", 0, "labels", "job"), False),
    "grafana label": ("grafana/group-firing.json", ("alerts", 0, "labels", "alertname"), False),
    "cloudwatch alarm name": ("cloudwatch/raw-alarm.json", ("AlarmName",), False),
    "eventbridge resources": ("eventbridge/ec2-instance-stopped.json", ("resources", 0), False),
    "generic dedup_key": ("generic/firing.json", ("dedup_key",), False),
    "generic title": ("generic/no-dedup-key.json", ("title",), False),
}
#: The same, where a reader once cut the value to a shown limit before the model held it.
HELD_WHOLE = {
    "generic source (generic.py `origin`)": (
        "generic/no-dedup-key.json", ("source",), False
    ),
    "cloudwatch contributor (cloudwatch.py `_contributor`)": (
        "cloudwatch/sns-contributor.json", ("AlarmContributorAttributes", "TableName"), True
    ),
    "uptimerobot name (checkers.py `normalize_uptimerobot`)": (
        "uptimerobot/snake-down.json", ("monitor_friendly_name",), False
    ),
    "generic title after its state (subjects.py `title_state`)": (
        "datadog/transition-triggered.json", ("title",), False
    ),
    "sns subject (sns.py `normalize`)": (
        "sns/text-message.json", ("Subject",), False
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("sample", "path", "inner"),
    [pytest.param(*case, id=name) for name, case in (LONG_VALUES | HELD_WHOLE).items()],
)
def test_each_sources_identity_differs_past_the_limit(
    sample: str, path: tuple[Any, ...], inner: bool
) -> None:
    """For each source, two alerts whose identity value differs only after 1,100 characters
    are two incidents: no reader cuts an identity value before the model holds it."""
    one = normalize_body(_lengthened(sample, path, "A", inner)).alerts
    other = normalize_body(_lengthened(sample, path, "B", inner)).alerts
    assert one and other
    assert one[0].fingerprint != other[0].fingerprint
