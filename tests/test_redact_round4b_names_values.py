"""Redaction of JSON values by the name and the object they stand in, round 4 (b): every value
of a section whose values are all secrets (a Kubernetes Secret's data, Grafana's
secureJsonData, a Vault KV v2 read), a key read as loosely as a server reads it, each item of a
list under a name judged by its value's shape, the one public predicate the gateway asks; and a
public JWKS modulus, whose base64url holds runs of an AWS secret's length.
"""

from __future__ import annotations

import base64
import json
import random

import pytest

from triage.redact import Redactor
from triage.redact.named_values import blanked_by_name

PASSWORD = "Xk7pL2mR9tQwE4rT"
PASSWORD_B64 = base64.b64encode(PASSWORD.encode()).decode()
#: An AWS secret access key's shape: 40 base64 characters.
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#: … and one without `/` or `+`, all in base64url's alphabet too.
PLAIN_SECRET = "wJalrXUtnFEMI7K7MDENG8bPxRfiCYEXAMPLEKEY"


def _shown(value: object) -> str:
    return json.dumps(Redactor().value(value))


# --- a public JWKS modulus ---------------------------------------------------------------------


def _modulus(seed: int) -> str:
    return base64.urlsafe_b64encode(random.Random(seed).randbytes(256)).decode().rstrip("=")


def test_a_jwks_modulus_stays_whole() -> None:
    """No 40-character piece of a base64url RSA modulus between its `-` and `_` is taken for an
    AWS secret: 300 moduli from fixed seeds stay whole."""
    cut = [
        seed
        for seed in range(300)
        if Redactor().text(f'"n": "{_modulus(seed)}"') != f'"n": "{_modulus(seed)}"'
    ]
    assert cut == []


@pytest.mark.parametrize(
    "text",
    [
        f"aws_secret_access_key={AWS_SECRET}",
        f"secret {AWS_SECRET} leaked",
        f'"{AWS_SECRET}"',
        f"creds:{AWS_SECRET}-",
        f"key-{AWS_SECRET}",
        f"x_{AWS_SECRET}_y",
        f"prefix-{PLAIN_SECRET}",
        f"{PLAIN_SECRET}_",
        f"AWS_SECRET_{PLAIN_SECRET}",
    ],
)
def test_an_aws_secret_by_shape_still_goes(text: str) -> None:
    """An AWS secret's shape alone, after a name, quoted, beside one `-` or `_` at a run's
    edge, or holding `/` beside them, is still blanked."""
    shown = Redactor().text(text)
    assert "K7MDENG" not in shown, shown


# --- sections whose every value is a secret -----------------------------------------------------

K8S_SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "orders-db", "namespace": "prod"},
    "type": "Opaque",
    "data": {"config": PASSWORD_B64, "ca.crt": PASSWORD_B64},
    "stringData": {"app.conf": PASSWORD},
}


@pytest.mark.parametrize(
    "value",
    [
        K8S_SECRET,
        {"kind": "List", "items": [K8S_SECRET]},
        {"requestObject": K8S_SECRET},
        {"type": "prometheus", "secureJsonData": {"httpHeaderValue1": PASSWORD, "x": [PASSWORD]}},
        {
            "request_id": "r-1",
            "lease_id": "",
            "data": {"data": {"orders": PASSWORD}, "metadata": {"version": 3}},
        },
    ],
)
def test_every_value_of_a_secret_section_is_blanked(value: object) -> None:
    """A Secret's data and stringData, Grafana's secureJsonData and a Vault KV v2 read's
    data.data lose every value, whatever its key says; the names around them stay."""
    shown = _shown(value)
    assert PASSWORD not in shown and PASSWORD_B64 not in shown, shown


def test_a_secrets_structure_and_metadata_stay() -> None:
    """The Secret's keys, name and type stay, and a Vault read's metadata keeps its version."""
    shown = Redactor().value(K8S_SECRET)
    assert shown["metadata"] == {"name": "orders-db", "namespace": "prod"}
    assert sorted(shown["data"]) == ["ca.crt", "config"]
    assert shown["type"] == "Opaque"
    vault = Redactor().value(
        {
            "request_id": "r-1",
            "lease_id": "",
            "data": {"data": {"a": "b1"}, "metadata": {"version": 3}},
        }
    )
    assert vault["data"]["metadata"] == {"version": 3}


@pytest.mark.parametrize(
    "value",
    [
        {"kind": "ConfigMap", "data": {"config": "log_level=debug"}},
        {"kind": "Secret", "metadata": {"name": "x"}, "data": None},
        {"data": {"data": {"orders": "shipped"}}},
        {"status": "ok", "data": {"config": "log_level=debug"}},
    ],
)
def test_data_outside_a_secret_stays(value: object) -> None:
    """A ConfigMap's data, a `data.data` outside a Vault read, a plain `data` stay as they are."""
    assert Redactor().value(value) == value


# --- a key read loosely, a list under a shape-judged name ---------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"pass": [PASSWORD, "x"]},
        {"pass[]": PASSWORD},
        {"pa\u200bss": PASSWORD},
        {" pass ": PASSWORD},
        {"PASS": PASSWORD},
        {"jwt": [PASSWORD]},
        {"password[]": [PASSWORD]},
        {"pass\u00ad": PASSWORD},
    ],
)
def test_a_shape_judged_name_read_loosely_blanks_its_secret(value: dict[str, object]) -> None:
    """A secret under `pass` in a list, or under `pass[]`, `pa<zero-width space>ss`, with spaces
    around or in upper case, is blanked as under `pass`."""
    assert PASSWORD not in _shown(value)


@pytest.mark.parametrize(
    "value",
    [{"pass": ["142", "ok"]}, {"pass[]": "142"}, {"session": ["morning"]}, {"passes": [1, 2]}],
)
def test_words_and_counts_under_a_shape_judged_name_stay(value: dict[str, object]) -> None:
    """A count, a word, a shift under those names stays, in a list too."""
    assert Redactor().value(value) == value


# --- the public predicate -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "obj", "blanked"),
    [
        ("password", PASSWORD, None, True),
        ("pass", PASSWORD, None, True),
        ("pass", "142", None, False),
        ("pa\u200bss", PASSWORD, None, True),
        ("pass[]", PASSWORD, None, True),
        ("pass", [PASSWORD, "x"], None, True),
        ("value", PASSWORD, {"name": "DB_PASSWORD", "value": PASSWORD}, True),
        ("value", "none", {"name": "DB_PASSWORD", "value": "none"}, False),
        ("value", "debug", {"name": "LOG_LEVEL", "value": "debug"}, False),
        ("Cookie", "sid=abc123", None, True),
        ("publicKey", "9PyK69mz6fa1LlcP/21+jd8ny45vtYqiN2Ppr4jSpYs=", None, False),
        ("host", "db.internal", None, False),
        ("password", "", None, False),
    ],
)
def test_blanked_by_name_answers_as_the_redactor_blanks(
    key: str, value: object, obj: dict[str, object] | None, blanked: bool
) -> None:
    """`blanked_by_name` says True exactly where `Redactor.value` blanks the value by its
    name, in its object or as a [name, value] pair."""
    assert blanked_by_name(key, value, obj) is blanked
    shown = Redactor().value(obj if obj is not None else {key: value})
    [got] = [shown[key]] if obj is not None else shown.values()
    assert (got == "[REDACTED:password]") is blanked
    if obj is None and isinstance(value, str):
        pair = Redactor().value([key, value])
        assert (pair[1] == "[REDACTED:password]") is blanked
