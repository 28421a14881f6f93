"""A value is secret by its name, however the name is spelled and wherever it sits: a JSON key, a
[name, value] pair, a name/value object, a command's argument list, `k=v` text, a query string,
a YAML or ini line; and a name that only holds a secret word as a qualifier (`token_count`,
`cookie_consent`) keeps its value.

The values below have no secret's shape (no vendor prefix, not random-looking), so only the
name can tell: each row leaked before the name rules knew its spelling or its place.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest

from test_every_source_hostile import PAYLOADS, logged, normalised, render
from triage.logs import redact_event
from triage.normalize import Normalized
from triage.redact import DEFAULT, redact, secret_named

#: A password a person chose: words and a number, nothing a shape rule knows.
SECRET = "opal-kettle-sunrise-42"


def _redacted(payload: Any) -> str:
    """`payload` as the redactor gives it back (a text through `redact`, JSON through
    `Redactor.value`), as one text."""
    if isinstance(payload, str):
        return redact(payload)
    return json.dumps(DEFAULT.value(payload))


NAMED = [
    # Header names as dict keys, any case, any prefix, an index or a digest after them.
    pytest.param({"X-Hub-Signature-256": f"sha256={SECRET}"}, id="key-github-signature"),
    pytest.param({"X-Slack-Signature": f"v0={SECRET}"}, id="key-slack-signature"),
    pytest.param({"Stripe-Signature": SECRET}, id="key-stripe-signature"),
    pytest.param({"X-Sentry-Auth": SECRET}, id="key-sentry-auth"),
    pytest.param({"HTTP_X_SENTRY_AUTH": SECRET}, id="key-environ-sentry-auth"),
    pytest.param({"HTTP_X_HUB_SIGNATURE_256": SECRET}, id="key-environ-signature-digest"),
    pytest.param({"X-Csrftoken": SECRET}, id="key-glued-csrftoken"),
    pytest.param({"http.request.header.cookie.0": SECRET}, id="key-flattened-cookie-index"),
    pytest.param({"http.request.header.x_api_key[0]": SECRET}, id="key-bracket-index"),
    pytest.param({"basicAuth": SECRET}, id="key-camel-basic-auth"),
    # Configuration names: connection strings, credentials, session keys, DSNs, passcodes.
    pytest.param({"db.connection_string": SECRET}, id="key-dotted-connection-string"),
    pytest.param({"ConnectionStrings__Default": SECRET}, id="key-dotnet-env-section"),
    pytest.param({"ConnectionStrings:Default": SECRET}, id="key-dotnet-json-section"),
    pytest.param({"client_credentials": SECRET}, id="key-credentials"),
    pytest.param({"session_key": SECRET}, id="key-session-key"),
    pytest.param({"sentry_dsn": SECRET}, id="key-dsn"),
    pytest.param({"door_passcode": SECRET}, id="key-passcode"),
    pytest.param({"Session Key": SECRET, "Connection String": SECRET}, id="key-spaced-words"),
    pytest.param({"db.password ": SECRET}, id="key-trailing-space"),
    pytest.param({"token_base64": SECRET}, id="key-encoding-suffix"),
    pytest.param({"user[password]": SECRET}, id="key-form-nested-name"),
    # A disguised key: a look-alike letter, full-width letters, an HTML reference, an invisible
    # character, a Unicode dash.
    pytest.param({"p\u0430ssword": SECRET}, id="key-cyrillic-a"),
    pytest.param({"\uff54\uff4f\uff4b\uff45\uff4e": SECRET}, id="key-full-width"),
    pytest.param({"pass&#119;ord": SECRET}, id="key-html-reference"),
    pytest.param({"X-Api-Key\u200b": SECRET, "pass\u00adword": SECRET}, id="key-invisible"),
    pytest.param({"API\u2011KEY": SECRET}, id="key-unicode-dash"),
    # Pairs and name/value objects whose value is no plain string, or whose fields are named
    # otherwise than name/value.
    pytest.param({"headers": [["X-Api-Key", ["a", SECRET]]]}, id="pair-list-value"),
    pytest.param(
        [{"ParameterKey": "DbPassword", "ParameterValue": SECRET}], id="cloudformation-parameter"
    ),
    pytest.param(
        [{"Namespace": "aws:elasticbeanstalk", "OptionName": "DB_PASSWORD", "Value": SECRET}],
        id="beanstalk-option",
    ),
    pytest.param([{"Name": "api_key", "Values": [SECRET]}], id="name-values-list"),
    pytest.param([{"header": "X-Vault-Token", "value": SECRET}], id="header-value-object"),
    pytest.param([{"field": "password", "value": SECRET}], id="field-value-object"),
    pytest.param(
        [{"op": "replace", "path": "/spec/env/DB_PASSWORD", "value": SECRET}], id="json-patch"
    ),
    pytest.param(
        f'[{{"op": "add", "path": "/data/password", "value": "{SECRET}"}}]', id="text-json-patch"
    ),
    # A command's arguments as a list: the option names the next argument.
    pytest.param({"args": ["app", "--db-password", SECRET, "--port", "5432"]}, id="argv-option"),
    pytest.param({"Cmd": ["redis-cli", "-h", "cache", "-a", SECRET]}, id="argv-short-option"),
    pytest.param({"command": ["worker", "--api-token", SECRET]}, id="argv-last"),
    pytest.param({"args": ["app", "--password", f"it's {SECRET}"]}, id="argv-apostrophe"),
    pytest.param(f'app --db-password "it\'s {SECRET}" -v', id="text-option-quoted"),
    pytest.param(f'app --db-password "{SECRET}', id="text-option-unclosed"),
    # The same names in text: `k=v`, YAML and ini lines, a query string, a header line.
    pytest.param(f"X-Hub-Signature-256: {SECRET}", id="text-signature-header"),
    pytest.param(f"HTTP_X_SENTRY_AUTH={SECRET}", id="text-environ-auth"),
    pytest.param(f"db:\n  connection_string: {SECRET}\n", id="text-yaml-connection-string"),
    pytest.param(f"ConnectionStrings__Default={SECRET}", id="text-dotnet-section"),
    pytest.param(f"[session]\nsession_key = {SECRET}\n", id="text-ini-session-key"),
    pytest.param(f"GET /api?page=2&x_csrftoken={SECRET}&q=1", id="text-query-csrftoken"),
    pytest.param(f"X-Forwarded-Authorization: {SECRET}", id="text-prefixed-authorization"),
    pytest.param(f"x-upstream-cookie: a={SECRET}", id="text-prefixed-cookie"),
    pytest.param(f"curl --proxy-authorization={SECRET} x", id="text-option-authorization"),
    pytest.param(f"Authorization: {SECRET} retried 3 times", id="text-authorization-no-scheme"),
    pytest.param(f"stripe_signature={SECRET} rejected", id="text-inline-signature"),
    pytest.param(f"DB_PASSWORD_B64={SECRET}", id="text-encoding-suffix"),
    pytest.param(f"Session Key: {SECRET}", id="text-spaced-session-key"),
    pytest.param(f"X-API\u2011KEY: {SECRET}", id="text-unicode-dash"),
    pytest.param(f"POST /login email=a&user[password]={SECRET}&x=1", id="text-form-nested"),
    pytest.param(f"user[password]={SECRET}&commit=1", id="text-form-nested-first"),
    pytest.param(f"GET /cb?headers[X-Api-Key]={SECRET}", id="text-query-nested"),
    pytest.param(f'{{"basic_auth": "{SECRET}"}}', id="text-json-auth"),
    # Pairs, lists and name/value objects as text (a log line, a message quoting JSON).
    pytest.param(f'"http.request.header.x_api_key": ["{SECRET}"]', id="text-json-list-value"),
    pytest.param(f"x_api_key=['{SECRET}']", id="text-python-list-value"),
    pytest.param(f'headers: [["Accept", "*/*"], ["X-Api-Key", "{SECRET}"]]', id="text-json-pairs"),
    pytest.param(f'"msg": "[[\\"X-Api-Key\\", \\"{SECRET}\\"]]"', id="text-escaped-pairs"),
    pytest.param(f"headers=[('Cookie', '{SECRET}')]", id="text-python-tuples"),
    pytest.param(f'http.Header{{"X-Api-Key": []string{{"{SECRET}"}}}}', id="text-go-header"),
    pytest.param(f'os.environ["DB_PASSWORD"] = "{SECRET}"', id="text-subscript"),
    pytest.param(f"ENV['API_KEY'] = '{SECRET}'", id="text-ruby-subscript"),
    pytest.param(
        f'{{"Namespace": "aws:elasticbeanstalk", "OptionName": "DB_PASSWORD", "Value": "{SECRET}"}}',
        id="text-beanstalk-option",
    ),
    pytest.param(f'{{"header": "X-Vault-Token", "value": "{SECRET}"}}', id="text-header-object"),
]


@pytest.mark.parametrize("payload", NAMED)
def test_a_secret_named_in_any_spelling_or_place_is_redacted(payload: Any) -> None:
    """A value whose name says secret, in any spelling and any place names stand, is redacted."""
    assert SECRET not in _redacted(payload)


def test_a_number_under_a_secret_name_in_a_pair_is_redacted() -> None:
    """A [name, value] pair's number is redacted when the name says secret, as a key's is."""
    pairs = [["DB_PASSWORD", 90210424242], ["X-Retry", 3]]
    assert DEFAULT.value(pairs) == [["DB_PASSWORD", "[REDACTED:password]"], ["X-Retry", 3]]


KEPT = [
    # A secret word that qualifies another: the last word says what the value is.
    pytest.param({"token_count": 5000, "tokens_used": "1200"}, id="key-counts"),
    pytest.param({"password_reset_enabled": True, "cookie_consent": "accepted"}, id="key-flags"),
    pytest.param({"author": "alice", "authority": "login.example.com"}, id="key-auth-prefix"),
    pytest.param({"keys_total": 12, "signature_version": "v4"}, id="key-qualifiers"),
    pytest.param({"credential_process": "/usr/bin/creds", "dsn_host": "db1"}, id="key-parts"),
    pytest.param({"signatures": 3, "credentials": 2}, id="key-plural-counts"),
    pytest.param({"auth": "ldap", "basic_auth": "disabled", "x_auth": "scram-sha-256"}, id="auth"),
    pytest.param({"X-Request-Id": "req-42", "Content-Type": "text/plain"}, id="key-headers"),
    pytest.param({"user[name]": "bob", "tokens[3]": "7"}, id="key-form-nested"),
    # A word in one script is no disguise: Russian's "Порт" (port) is read as it is.
    pytest.param({"t\u043ekens_used": 7, "\u041f\u043e\u0440\u0442": 1}, id="key-scripts"),
    pytest.param({"Signature": "EXAMPLEpH+Dc", "SignatureVersion": "1"}, id="key-sns-signature"),
    pytest.param({"args": ["app", "--token-file", "/run/token", "--port", "5432"]}, id="argv"),
    pytest.param([["Accept", "application/json"], ["X-Retry", "3"]], id="pairs"),
    pytest.param([{"Name": "region", "Values": ["eu-west-1"]}], id="name-values"),
    pytest.param([{"op": "replace", "path": "/spec/replicas", "value": 3}], id="json-patch"),
    pytest.param({"Token Count": 3, "Password Reset Enabled": "yes"}, id="key-spaced-words"),
    pytest.param("token_count=5000 cookie_consent=accepted", id="text-qualifiers"),
    pytest.param("password_reset_enabled: true\nkeys_total: 12\n", id="text-yaml-flags"),
    pytest.param("signature: invalid, author=alice", id="text-state-and-author"),
    pytest.param("ssh_auth: publickey\nmongo.auth=scram-sha-256", id="text-auth-methods"),
    pytest.param('[["Accept", "application/json"], ["X-Retry", "3"]]', id="text-pairs"),
    pytest.param('{"Namespace": "a", "OptionName": "Port", "Value": "80"}', id="text-option"),
]


@pytest.mark.parametrize("payload", KEPT)
def test_a_name_that_only_qualifies_a_secret_word_keeps_its_value(payload: Any) -> None:
    """A name whose secret word only qualifies another (a count, a flag, a method) is kept."""
    expected = payload if isinstance(payload, str) else json.dumps(payload)
    assert _redacted(payload) == expected


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("X-Hub-Signature-256", True),
        ("PRIVATE-TOKEN", True),
        ("Ocp-Apim-Subscription-Key", True),
        ("http.response.header.set_cookie", True),
        ("X-Amz-Security-Token", True),
        ("token_count", False),
        ("cookie_consent", False),
        ("keys_total", False),
        ("auth0_domain", False),
        ("sha256", False),
    ],
)
def test_secret_named_reads_the_last_word_of_the_normalised_name(name: str, secret: bool) -> None:
    """`secret_named` decides by the last word once case, separators, prefixes and an index or
    digest after the name are set aside."""
    assert secret_named(name) is secret


#: Each header's, cookie's and environment variable's value, none shaped like a secret.
SENTRY_SECRETS = {
    "X-Hub-Signature-256": "sha256=amber-lantern-7781",
    "X-Sentry-Auth": "Sentry sentry_secret=birch-canoe-5512",
    "Proxy-Authorization": "cedar-harbor-3390",
    "X-Csrftoken": "dune-meadow-6604",
    "Cookie": "theme=dark; sid=ember-quarry-8815",
    "HTTP_X_API_KEY": "fjord-willow-2271",
    "HTTP_X_SLACK_SIGNATURE": "v0=garnet-isle-9046",
    "ConnectionStrings__Default": "Server=db;Database=shop;hazel-orbit-1137",
}


def _sentry_body() -> str:
    """Sentry's event alert with the request it recorded: headers as [name, value] pairs, the
    WSGI environment as a map, as Sentry's SDKs send them."""
    payload = json.loads((PAYLOADS / "sentry/event-alert.json").read_text())
    headers = [[name, value] for name, value in SENTRY_SECRETS.items() if "_" not in name]
    headers.insert(0, ["Accept", "application/json"])
    env = {name: value for name, value in SENTRY_SECRETS.items() if "_" in name}
    payload["data"]["event"]["request"] = {
        "url": "https://shop.example.com/checkout",
        "method": "POST",
        "headers": headers,
        "env": env,
    }
    return json.dumps(payload)


async def test_a_sentry_requests_named_secrets_reach_no_sink_record_or_log() -> None:
    """The values of a Sentry event's secret-named headers and environment reach no sink's
    body, no stored record, no operator view and no log line."""
    body = _sentry_body()
    result = normalised(body)
    assert isinstance(result, Normalized) and result.alerts
    shown = await render(result.alerts)
    shown.data.append(logged(body))
    texts = [text for _, text in shown.places()]
    assert any("application/json" in text for text in texts), "the request was not rendered"
    words = {value.rsplit("=", 1)[-1].rsplit(";", 1)[-1] for value in SENTRY_SECRETS.values()}
    leaks = [
        f"{place}: {word}"
        for place, text in shown.places()
        for word in words
        if word in text or word in unquote(text)
    ]
    assert leaks == []


def test_a_log_fields_secret_name_blanks_its_value() -> None:
    """A log line's field named like a secret loses its value by its name, as a JSON key's
    does; other fields keep theirs."""
    event = redact_event(
        None, "info", {"event": "sent", "logger": "botocore", "x_api_key": SECRET, "retries": 2}
    )
    assert event == {
        "event": "sent",
        "logger": "botocore",
        "x_api_key": "[REDACTED:password]",
        "retries": 2,
    }
