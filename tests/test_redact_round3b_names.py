"""Names whose value is a secret (round 3b): collective names (`credentials`, `creds`,
`tokens`, `api_keys`), names that say a secret only when the value looks like one (`pass`,
`session`, `jwt`, `bearer`, `kubeconfig`, `ssh_key`), `hmac_key`; and, beside each, the prose and
counts that must stay readable. A JSON key's and a label's value agree with the text's.
"""

from __future__ import annotations

import json

import pytest

from triage.normalize import normalize_body
from triage.redact import Redactor
from triage.redact.named_values import named_value_secret
from triage.view import redact_alert

#: A password only its name says is one.
SECRET = "hunter2-Summer2024!"


def _label(name: str, value: str) -> str:
    """The value of the label `name` as the pipeline's redacted view shows it."""
    body = json.dumps([{"labels": {"alertname": "LoginErrors", name: value}}])
    [alert] = normalize_body(body).alerts
    return redact_alert(alert, Redactor()).labels[name]


# --- collective names: prose and counts stay ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "credentials: could not be loaded from the instance profile",
        "credentials: loaded",
        "creds: missing for ci-runner",
        "api keys: see the vault",
        "tokens: prompt=1200 completion=300",
        "tokens: 1,024",
        "max_tokens=4096 total_tokens=12345678",
        "tokens: 12.5k",
        "invalid credentials for user bob",
        "rotate the api_keys weekly",
        "the tokens were revoked",
    ],
)
def test_prose_and_counts_after_a_collective_name_stay(text: str) -> None:
    """A sentence, a plain lower-case word or a count after `credentials`, `creds`,
    `api keys` or `tokens` is no secret: the text stays as it is."""
    assert Redactor().text(text) == text


@pytest.mark.parametrize("name", ["credentials", "creds", "tokens", "api_keys"])
@pytest.mark.parametrize("value", ["could not be loaded", "loaded", "4000"])
def test_a_collective_name_keeps_prose_as_a_json_value_and_a_label(name: str, value: str) -> None:
    """What the text keeps under these names, a JSON key's and a label's value keep too."""
    assert Redactor().value({name: value}) == {name: value}
    assert _label(name, value) == value


@pytest.mark.parametrize("name", ["credentials", "creds", "tokens", "api_keys", "API_KEYS"])
def test_a_collective_name_blanks_a_one_word_secret_as_a_label(name: str) -> None:
    """A label named `credentials` (any case) holding a password shows none of it."""
    assert _label(name, SECRET) == "[REDACTED:password]"


# --- one source of truth: the label's path asks what the JSON path asks ------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("pass", "142"),
        ("pass", "yes"),
        ("session", "morning"),
        ("session", "3"),
        ("password", "YES"),
        ("token", "expired"),
        ("auth", "ldap"),
    ],
)
def test_a_label_keeps_what_a_json_value_keeps(name: str, value: str) -> None:
    """A label's value under a secret's name is kept exactly when the JSON key's would be: a
    test count under `pass`, a class under `session`, a state word, an auth method."""
    assert Redactor().value({name: value}) == {name: value}
    assert _label(name, value) == value
    assert not named_value_secret(name, value)


#: Values that go under their name as a label and (text) as `name=value`.
BLANKED = [
    ("pass", SECRET),
    ("session", SECRET),
    ("session", "s3cr3t-s3ss10n-v4lu3"),
    ("db_password", "hunter2"),
    ("hmac_key", "hunter2"),
    ("jwt", SECRET),
    ("bearer", SECRET),
    ("kubeconfig", SECRET),
    ("ssh_key", SECRET),
]


@pytest.mark.parametrize(("name", "value"), BLANKED)
def test_a_label_blanks_what_the_text_blanks(name: str, value: str) -> None:
    """A label's value goes exactly when `name=value` in text loses it."""
    assert value not in Redactor().text(f"{name}={value}")
    assert _label(name, value) == "[REDACTED:password]"
    assert named_value_secret(name, value)


@pytest.mark.parametrize(("name", "value"), BLANKED[:2] + BLANKED[5:])
def test_a_json_value_blanks_what_a_label_blanks(name: str, value: str) -> None:
    """A JSON key's value goes exactly when the label's does."""
    assert Redactor().value({name: value}) == {name: "[REDACTED:password]"}


# --- names only a value's shape makes secret ---------------------------------------------------


@pytest.mark.parametrize("name", ["jwt", "bearer", "kubeconfig", "ssh_key", "session", "pass"])
@pytest.mark.parametrize(
    "template",
    ["{name}={value}", "{name}: {value}", '{{"{name}": "{value}"}}', "export {name}={value}"],
)
def test_a_random_looking_value_under_a_shape_judged_name_goes(name: str, template: str) -> None:
    """Under `jwt`, `bearer`, `kubeconfig`, `ssh_key`, `session` and `pass` a one-word value with
    upper and lower case and digits goes whole, in every form."""
    out = Redactor().text(template.format(name=name, value=SECRET))
    assert SECRET[:-1] not in out and "Summer2024" not in out and "]!" not in out


@pytest.mark.parametrize(
    "text",
    [
        "jwt: enabled",
        "jwt=RS256",
        "bearer: none",
        "kubeconfig=/etc/kube/Config2",
        "KUBECONFIG=~/.kube/config",
        "ssh_key: ~/.ssh/id_ed25519",
        "ssh_key=/home/Bob/.ssh/id_rsa2",
        "ssh_key: deploy-key",
        "session: started for alice",
        "pass: 142 fail: 3",
        "the jwt expired, the bearer was refused",
        "signature: SIGSEGV in malloc",
        "sig=v1",
    ],
)
def test_a_plain_value_under_a_shape_judged_name_stays(text: str) -> None:
    """A setting, a path, a word or a count under those names is no secret; bare `signature`
    and `sig` are public (SNS's signature, a crash's) and keep their value."""
    assert Redactor().text(text) == text


def test_hmac_key_blanks_any_value() -> None:
    """`hmac_key` names a shared secret, whatever it looks like, as `signing_key` does."""
    assert Redactor().text("hmac_key=hunter2") == "hmac_key=[REDACTED:password]"
    assert Redactor().text("HMAC_KEY: hunter2") == "HMAC_KEY: [REDACTED:password]"


# --- a value on the line after a continuation ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "export DB_PASSWORD=\\\n  hunter2-Summer",
        "deploy --hmac-key=\\\n  Zk3q9WmX2pLr8TvB4nYc7Hd1",
        "export API_TOKEN=\\\r\n  hunter2-Summer",
        json.dumps({"msg": "export DB_PASSWORD=\\\n  hunter2-Summer"}),
    ],
)
def test_a_value_after_a_line_continuation_goes(text: str) -> None:
    """A secret's name, `=`, a shell's line continuation and the value on the next line (raw,
    or inside a JSON string): the value goes."""
    out = Redactor().text(text)
    assert "hunter2" not in out and "Zk3q9WmX" not in out


@pytest.mark.parametrize(
    "text",
    ["export DB_HOST=\\\n  db.internal", "export DB_PASSWORD=\\\n  ${DB_PASSWORD}"],
)
def test_a_plain_value_after_a_line_continuation_stays(text: str) -> None:
    """A host under another name, a placeholder under a secret's: the next line stays."""
    assert Redactor().text(text).splitlines()[-1] == text.splitlines()[-1]
