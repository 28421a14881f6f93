"""`Alert.identity` is held to its limit by the model itself, whatever builds the alert (a
reader, a plug-in, a test, `model_copy`): a name or value past 1,024 characters is held as
its start, "…" and a digest of the whole (`identity_text`), so no identity within the limit
changes its fingerprint; what is not text is refused, and a reader's refused alert is still a
clear InvalidAlertError naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from factories import T0, alert
from triage import normalize
from triage.errors import InvalidAlertError
from triage.models import IDENTITY_MAX, Alert, Status, fingerprint_of, identity_text
from triage.normalize import common
from triage.normalize.common import Normalized


def _built(identity: dict[str, Any]) -> Alert:
    """An alert built directly, as a plug-in or a test would, with `identity`."""
    return Alert(
        source="plugin",
        status=Status.FIRING,
        title="disk full",
        occurred_at=T0,
        identity=identity,
    )


def test_the_model_and_the_normaliser_share_one_limit() -> None:
    """The normaliser's limit is the model's: one number, not two that can drift apart."""
    assert common.IDENTITY_MAX == IDENTITY_MAX == 1_024


def test_an_identity_value_past_the_limit_is_held_to_it() -> None:
    """A value past 1,024 characters is kept and hashed as its start and a digest of the
    whole, within 1,024, however the alert was built."""
    made = _built({"host": "h" * 5_000, "check": "disk"})
    assert made.identity == {"host": identity_text("h" * 5_000), "check": "disk"}
    assert len(made.identity["host"]) <= IDENTITY_MAX
    assert made.fingerprint == fingerprint_of("plugin", made.identity)


def test_an_identity_name_past_the_limit_is_held_to_it() -> None:
    """A name (a label set's key) past the limit is held as a value is."""
    made = _built({"k" * 2_000: "v"})
    assert made.identity == {identity_text("k" * 2_000): "v"}


@pytest.mark.parametrize(
    "value",
    [
        "a" * (IDENTITY_MAX - 1) + "e\u0301" + "tail",  # an accent at the cut
        "a" * (IDENTITY_MAX - 1) + "\U0001f1eb\U0001f1f7" + "tail",  # a flag across it
        "a" * (IDENTITY_MAX - 2) + "\U0001f469\u200d\U0001f4bb" + "x" * 50,  # a joined emoji
        "é" * 3_000,
    ],
)
def test_the_models_hold_is_the_normalisers(value: str) -> None:
    """The model holds a long value as the normaliser's `ident` does (its start cut never
    inside a character), so a reader's and a plug-in's alerts key alike."""
    made = _built({"name": value})
    assert made.identity == {"name": common.ident(value, "name")}
    assert len(made.identity["name"]) <= IDENTITY_MAX


def test_an_identity_within_the_limit_is_kept_as_given() -> None:
    """An identity at the limit is not touched: its fingerprint is the one it always had."""
    given = {"k" * IDENTITY_MAX: "v" * IDENTITY_MAX, "": ""}
    made = _built(dict(given))
    assert made.identity == given
    assert made.fingerprint == fingerprint_of("plugin", given)


def test_a_copy_with_a_new_identity_is_held_to_the_limit() -> None:
    """`model_copy(update=...)` skips pydantic's validation; a new identity given to it is
    still held, and the copy's fingerprint is of the held identity."""
    first = alert("api")
    copied = first.model_copy(update={"identity": {"dedup_key": "x" * 3_000}})
    assert copied.identity == {"dedup_key": identity_text("x" * 3_000)}
    assert copied.fingerprint == fingerprint_of("generic", copied.identity)
    assert first.identity == {"dedup_key": "api"}


@pytest.mark.parametrize("identity", [{"k": 5}, {"k": None}, {"k": ["a"]}, {"k": {"a": "b"}}])
def test_an_identity_that_is_not_text_is_refused(identity: dict[str, Any]) -> None:
    """An identity value that is not text is a validation error naming the field."""
    with pytest.raises(ValidationError) as raised:
        _built(identity)
    assert [e["loc"][0] for e in raised.value.errors()] == ["identity"]


def test_a_readers_invalid_identity_is_a_clear_invalid_alert_error() -> None:
    """A reader (a plug-in's included) whose alert the model refuses fails as the message's
    fault, an InvalidAlertError naming the format and the field, never the value."""

    def reader(payload: dict[str, Any]) -> Normalized:
        return Normalized((_built({"host": payload["host"]}),))

    with pytest.raises(InvalidAlertError) as raised:
        normalize._parse("plugin", reader, {"host": 12345})
    assert str(raised.value) == "plugin: invalid alert fields: identity.host"


def test_a_readers_long_identity_leaves_the_normaliser_held() -> None:
    """Through the normaliser's own path a reader's long identity is held, as a plug-in's is."""

    def reader(payload: dict[str, Any]) -> Normalized:
        return Normalized((_built({"host": payload["host"]}),))

    (made,) = normalize._parse("plugin", reader, {"host": "h" * 5_000}).alerts
    assert made.identity == {"host": identity_text("h" * 5_000)}
