"""An Azure log search alert's dimension with an empty value (`""`, null or none given) is no
dimension, as an empty Prometheus label is no label: the same alert with it and without it is
one incident. A dimension whose value is given, even "0" or false, still keys its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.normalize import normalize_body

PAYLOADS = Path(__file__).parent / "payloads"
#: The golden fingerprint of azure/log-stateless-fired.json (one dimension, Computer).
GOLDEN = "92021ad0ade3cbc121c466b1cbd7d0ad"


def _log_alert(*extra: dict[str, Any], v1: bool = False) -> str:
    """The golden log search alert with `extra` dimensions after its own; `v1` moves them to
    a V1 alert's `alertContext.Dimensions`."""
    payload: dict[str, Any] = json.loads((PAYLOADS / "azure/log-stateless-fired.json").read_text())
    context = payload["data"]["alertContext"]
    [criterion] = context["condition"]["allOf"]
    dimensions = [*criterion["dimensions"], *extra]
    if v1:
        del criterion["dimensions"]
        context["Dimensions"] = dimensions
    else:
        criterion["dimensions"] = dimensions
    return json.dumps(payload)


def _fingerprint(body: str) -> str:
    [alert] = normalize_body(body).alerts
    return alert.fingerprint


EMPTY = [
    {"name": "Region", "value": ""},
    {"name": "Region", "value": None},
    {"name": "Region"},
]


@pytest.mark.parametrize("v1", [False, True], ids=["allOf", "v1"])
@pytest.mark.parametrize("dimension", EMPTY, ids=["blank", "null", "absent"])
def test_an_empty_dimension_is_no_dimension(dimension: dict[str, Any], v1: bool) -> None:
    """A dimension without a value leaves the alert's incident (and golden fingerprint) as it
    is without that dimension."""
    assert _fingerprint(_log_alert(dimension, v1=v1)) == _fingerprint(_log_alert(v1=v1))
    assert _fingerprint(_log_alert(dimension)) == GOLDEN


@pytest.mark.parametrize("value", ["0", 0, False, " eu "], ids=repr)
def test_a_given_dimension_value_still_keys_the_incident(value: Any) -> None:
    """A value that is given, even a falsy-looking one, is part of the identity."""
    with_it = _fingerprint(_log_alert({"name": "Region", "value": value}))
    assert with_it != GOLDEN


def test_the_identity_shows_only_dimensions_with_a_value() -> None:
    """The identity lists the dimensions that have a value, so the incident names no empty one."""
    [alert] = normalize_body(_log_alert(*EMPTY, {"name": "Zone", "value": "a"})).alerts
    assert alert.identity["dimensions"] == "Computer=orders-api-1,Zone=a"
