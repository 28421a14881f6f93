"""Red team, round 3: credentials that only their name tells, under names no other test tries.

The redactor blanks a value by its name in two places that promise to agree
(`redact/names.py`: "shared by the rules that read a value by its name and by
`Redactor.value` ... so that both keep the same values"): the text rules (`k=v`, `k: v`, JSON
text) and a JSON key's or label's name (`Redactor.value`, `view.secret_named`). Here a value
that looks like nothing (`hunter2-Summer2024!`) stands under each name in every form; and an
alert carrying one is rendered where it leaves the process (the GitHub issue, Slack's message,
the LLM prompt). Forms that hold are guards; the gaps are strict xfails.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator

import pytest

from triage.models import EffectKind
from triage.normalize import normalize_body
from triage.redact import Redactor
from triage.sinks import slack
from triage.sinks.base import Effect
from triage.sinks.github import text as github
from triage.summarise import prompt
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import redact_alert, redact_ticket

#: A password only its name says is one: no shape of a token, a key or a hash.
SECRET = "hunter2-Summer2024!"
#: A random one, 32 characters mixing cases and digits: its name says so, and it looks like one.
RANDOM = "Zq8vN3xK7pL2mR9t1QwE4rT6yU8iO0pA"


def _forms(name: str, value: str) -> Iterator[tuple[str, str]]:
    """`name` and `value` as alert text writes them: with `=`, as YAML, as JSON text, exported."""
    yield "kv", f"{name}={value}"
    yield "yaml", f"{name}: {value}"
    yield "json", json.dumps({name: value})
    yield "export", f"export {name}={value}"


# --- names that hold in every form (guards) ---------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["secrets", "passwords", "connection_strings", "db_credentials", "aws_credentials", "api_key"],
)
@pytest.mark.parametrize("value", [SECRET, RANDOM])
def test_a_value_under_a_secret_name_is_blanked_in_every_form(name: str, value: str) -> None:
    """Under these names (plural section names among them) a one-word value goes, in text of
    every form and as a JSON key's value."""
    redactor = Redactor()
    for form, text in _forms(name, value):
        assert value not in redactor.text(text), form
    assert value not in json.dumps(redactor.value({name: value}))


@pytest.mark.parametrize(
    "text",
    [
        "credentials: expired for ci-runner",
        "tokens: 4000",
        "tokens_used=1200",
        "api_keys: 3 rotated",
    ],
)
def test_prose_and_counts_under_those_names_stay(text: str) -> None:
    """The fix for the xfails below must keep these: prose after `credentials:`, a count after
    `tokens`, and a sentence after `api_keys:` are no secrets."""
    assert Redactor().text(text) == text


# --- section names with one value: text forms leak --------------------------------------------


@pytest.mark.parametrize("name", ["credentials", "creds", "api_keys"])
@pytest.mark.parametrize("value", [SECRET, RANDOM])
def test_a_one_word_value_under_a_section_name_is_blanked(name: str, value: str) -> None:
    """A single word after `credentials`, `creds` or `api_keys` is the credential itself, as
    after `secrets` or `passwords`: blanked in every form."""
    redactor = Redactor()
    leaked = [form for form, text in _forms(name, value) if value in redactor.text(text)]
    if value in json.dumps(redactor.value({name: value})):
        leaked.append("value")
    assert leaked == []


@pytest.mark.parametrize("value", [SECRET, RANDOM])
def test_tokens_with_one_word_is_blanked_in_every_form_as_in_yaml(value: str) -> None:
    """`tokens` with a one-word value that is no count: what the YAML form does, every form
    does."""
    redactor = Redactor()
    assert value not in redactor.text(f"tokens: {value}")  # holds today
    leaked = [form for form, text in _forms("tokens", value) if value in redactor.text(text)]
    assert leaked == []


# --- a name blanked in text but not as a label ------------------------------------------------


@pytest.mark.parametrize("name", ["pass", "session"])
def test_a_label_named_like_a_secret_in_text_is_blanked_as_a_label(name: str) -> None:
    """The label `{name: value}` is blanked, as `name=value` in text is."""
    redactor = Redactor()
    assert SECRET not in redactor.text(f"{name}={SECRET}")  # holds today
    assert SECRET not in json.dumps(redactor.value({name: SECRET}))
    body = json.dumps([{"labels": {"alertname": "LoginErrors", name: SECRET}}])
    [alert] = normalize_body(body).alerts
    assert SECRET not in json.dumps(dict(redact_alert(alert, redactor).labels))


# --- where it leaves the process --------------------------------------------------------------


async def _rendered(body: str) -> dict[str, str]:
    """The GitHub issue body, Slack's message and the LLM prompt made from `body`'s one alert,
    by the functions the sinks and the summariser use, from the pipeline's redacted view."""
    redactor = Redactor()
    [alert] = normalize_body(body).alerts
    view = redact_alert(alert, redactor, excerpt_chars=6000)
    ticket = redact_ticket(await DeterministicSummariser().summarise(view), redactor)
    effect = Effect(EffectKind.OPEN, view.fingerprint, view, ticket, None, 1, 1, False, "k:1")
    return {
        "github": github.issue_body(effect),
        "slack": json.dumps(slack.open_message(effect)),
        "prompt": prompt.build(view, redactor, 4000).user,
    }


@pytest.mark.parametrize("name", ["secrets", "db_credentials", "password"])
async def test_a_credential_by_name_in_a_description_reaches_no_sink(name: str) -> None:
    """An Alertmanager alert whose description says `<name>: <password>` shows it nowhere."""
    annotations = {"description": f"login failed\n{name}: {SECRET}"}
    body = json.dumps([{"labels": {"alertname": "LoginErrors"}, "annotations": annotations}])
    for place, text in (await _rendered(body)).items():
        assert SECRET not in text, place


@pytest.mark.parametrize("name", ["credentials", "creds", "api_keys"])
async def test_a_credential_under_a_section_name_reaches_no_sink(name: str) -> None:
    """The same alert with `credentials:`, `creds:` or `api_keys:` shows the password nowhere."""
    annotations = {"description": f"login failed\n{name}: {SECRET}"}
    body = json.dumps([{"labels": {"alertname": "LoginErrors"}, "annotations": annotations}])
    shown = await _rendered(body)
    assert [place for place, text in shown.items() if SECRET in text] == []


# --- personal data: e-mail addresses ----------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["jürgen.müller@firma.de", "josé@empresa.es", "john@xn--exmple-cua.de", "JOHN@EXAMPLE.COM"],
)
def test_an_address_with_letters_beyond_ascii_in_its_user_is_blanked(address: str) -> None:
    """An e-mail address whose user part has accents, or whose domain is written in
    punycode, is personal data: it goes whole."""
    assert Redactor().text(f"reported by {address} at 09:00") == (
        "reported by [REDACTED:email] at 09:00"
    )


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("john@exämple.de", id="idn-domain"),
        pytest.param("ivan@пример.рф", id="cyrillic-domain"),
        pytest.param("françois@société.fr", id="accented-both"),
        pytest.param("Zoë.O'Brien@example.ie", id="apostrophe-in-user"),
    ],
)
def test_an_internationalised_address_is_blanked_whole(address: str) -> None:
    """Every part of an internationalised address, or one with an apostrophe, goes."""
    assert Redactor().text(f"reported by {address} at 09:00") == (
        "reported by [REDACTED:email] at 09:00"
    )


# --- AWS's own names for a secret's value -----------------------------------------------------


#: `aws ssm get-parameter --with-decryption` output: a name/value object whose name's last part
#: says what the value is.
SSM_PARAMETER = {"Parameter": {"Name": "/app/api_key", "Type": "SecureString", "Value": SECRET}}


def test_a_name_value_object_is_blanked_as_a_json_value() -> None:
    """Read as JSON (a payload's field), SSM's name/value object has its value blanked: the
    `Name` ends in `api_key`."""
    assert SECRET not in json.dumps(Redactor().value(SSM_PARAMETER))


def test_a_name_value_object_in_text_is_blanked_as_in_json() -> None:
    """The same object as text in a description is blanked as it is as a JSON value."""
    assert SECRET not in Redactor().text(json.dumps(SSM_PARAMETER))


@pytest.mark.parametrize("name", ["SecretString", "SecretBinary"])
def test_a_secrets_manager_value_is_blanked(name: str) -> None:
    """GetSecretValue's `SecretString`/`SecretBinary` holding a plain password goes, in text and
    as a JSON value."""
    redactor = Redactor()
    leaked = [form for form, text in _forms(name, SECRET) if SECRET in redactor.text(text)]
    if SECRET in json.dumps(redactor.value({name: SECRET})):
        leaked.append("value")
    assert leaked == []


# --- a credential a text wrapper broke over lines ---------------------------------------------


#: Credentials of known shapes, each with the part that is the secret.
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
SLACK_TOKEN = "xoxb-" + "1234567890-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
AWS_SECRET = "Jq3vN8xK2pL7mR4tZw9yB6cD1eF5gH0iAbCdEfGh"
WRAPPED = [
    pytest.param(GITHUB_TOKEN, GITHUB_TOKEN[4:], 30, id="github-token-30"),
    pytest.param(SLACK_TOKEN, SLACK_TOKEN.rsplit("-", 1)[1], 40, id="slack-token-40"),
    pytest.param(SLACK_TOKEN, SLACK_TOKEN.rsplit("-", 1)[1], 50, id="slack-token-50"),
    pytest.param(f"aws_secret_access_key={AWS_SECRET}", AWS_SECRET, 60, id="aws-secret-60"),
]


def _runs(secret: str) -> set[str]:
    return {secret[i : i + 8] for i in range(len(secret) - 7)}


@pytest.mark.parametrize(("credential", "secret", "width"), WRAPPED)
def test_a_credential_on_one_line_leaves_nothing_of_its_secret(
    credential: str, secret: str, width: int
) -> None:
    """Unwrapped, each of these credentials goes whole: the baseline of the xfail below."""
    out = Redactor().text(f"deploy failed for svc-api with {credential} while pushing the image")
    assert [run for run in sorted(_runs(secret)) if run in out] == []


@pytest.mark.parametrize(("credential", "secret", "width"), WRAPPED)
def test_a_credential_wrapped_over_lines_leaves_nothing_of_its_secret(
    credential: str, secret: str, width: int
) -> None:
    """Wrapped by `textwrap.fill` at `width`, no 8-character run of the secret is left."""
    text = textwrap.fill(
        f"deploy failed for svc-api with {credential} while pushing the image", width=width
    )
    assert credential not in text  # the wrapper did break it
    out = Redactor().text(text)
    assert [run for run in sorted(_runs(secret)) if run in out] == []
