"""A section named like secrets (`secrets`, `credentials`, `passwords`, `tokens`, `api_keys`,
`connection_strings`), and a secret's own name holding a mapping (`password: {current: …}`),
makes every value below it a secret, in every shape configuration takes: a flat path
(`Secrets__Db`, `Credentials:Db:Value`, `secrets.db.value`, `SECRETS_DB`), a YAML block, JSON
text, a JSON value, an INI or TOML section, XML.

What names something *about* the secrets stays (`_SECTION_META`): their count, path, provider,
name, version, TTL; so do numbers (a count of tokens), booleans and state words. `keys` alone
is no section: `keys: [a, b]` is a list of label names.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from triage.redact import DEFAULT, redact, secret_named

SECRET = "opal-kettle-sunrise-42"
SECOND = "birch-lantern-meadow-77"

TEXTS = [
    pytest.param(f"Secrets__Db={SECRET}", id="dotnet-env-section"),
    pytest.param(f"ConnectionStrings__Main={SECRET}", id="dotnet-connection-strings"),
    pytest.param(f"Credentials:Db:Value={SECRET}", id="dotnet-json-path"),
    pytest.param(f"secrets.db.value={SECRET}", id="properties-path"),
    pytest.param(f"app.credentials.github={SECRET}", id="properties-inner-section"),
    pytest.param(f"SECRETS_DB={SECRET}", id="env-section"),
    pytest.param(f"export CREDENTIALS_STRIPE={SECRET}", id="env-credentials"),
    pytest.param(f"passwords.admin: {SECRET}", id="yaml-flat-path"),
    pytest.param(f"api_keys.maps={SECRET}", id="api-keys-path"),
    pytest.param(f"secrets:\n  db: {SECRET}\n  api: {SECOND}\n", id="yaml-block"),
    pytest.param(f"app:\n  secrets:\n    db: '{SECRET}'\n  port: 80\n", id="yaml-nested-block"),
    pytest.param(f"secrets:\n  db:\n    value: {SECRET}\n", id="yaml-deeper-block"),
    pytest.param(f"credentials:\n  - {SECRET}\n  - {SECOND}\n", id="yaml-list"),
    pytest.param(f"password:\n  current: {SECRET}\n  previous: {SECOND}\n", id="yaml-password-map"),
    pytest.param(json.dumps({"secrets": {"db": SECRET, "api": SECOND}}), id="json-text"),
    pytest.param(json.dumps({"app": {"credentials": {"db": {"value": SECRET}}}}), id="json-deep"),
    pytest.param(json.dumps({"password": {"current": SECRET}}), id="json-password-map"),
    pytest.param(
        json.dumps({"msg": json.dumps({"secrets": {"db": SECRET}})}), id="json-in-json-string"
    ),
    pytest.param(f"secrets: {{db: {SECRET}, api: {SECOND}}}", id="yaml-flow-map"),
    pytest.param(f"{{'secrets': {{'db': '{SECRET}'}}}}", id="python-repr"),
    pytest.param(f'secrets = {{\n  db = "{SECRET}"\n}}\n', id="hcl-map"),
    pytest.param(f"[secrets]\ndb = {SECRET}\napi = {SECOND}\n", id="ini-section"),
    pytest.param(f"[app.credentials]\ngithub = '{SECRET}'\n", id="toml-table"),
    pytest.param(f"<secrets><db>{SECRET}</db></secrets>", id="xml-section"),
    # Inside a JSON string (a log line holding YAML), its lines broken by escaped `\n`.
    pytest.param(json.dumps({"log": f"config:\nsecrets:\n  db: {SECRET}\n"}), id="escaped-yaml"),
    pytest.param(json.dumps({"log": f"password:\n  {SECRET}\n"}), id="escaped-yaml-value"),
    pytest.param(json.dumps({"log": f"[secrets]\ndb = {SECRET}\n"}), id="escaped-ini"),
    # A Kubernetes Secret's data and stringData.
    pytest.param(f"kind: Secret\nstringData:\n  api: {SECRET}\n", id="k8s-string-data"),
    pytest.param(f"apiVersion: v1\nkind: Secret\ndata:\n  api: {SECRET}\n", id="k8s-data"),
    pytest.param(
        json.dumps({"kind": "Secret", "data": {"api": SECRET, "db": SECOND}}), id="k8s-json"
    ),
]


@pytest.mark.parametrize("text", TEXTS)
def test_section_child_is_redacted_in_text(text: str) -> None:
    """Every value under a secrets section is gone from the redacted text."""
    out = redact(text)
    assert SECRET not in out, out
    assert SECOND not in out, out


VALUES: list[Any] = [
    pytest.param({"secrets": {"db": SECRET}}, id="nested"),
    pytest.param({"Secrets": {"Db": {"Value": SECRET}}}, id="nested-deeper"),
    pytest.param({"Secrets__Db": SECRET}, id="flat-key"),
    pytest.param({"credentials.github": SECRET}, id="dotted-key"),
    pytest.param({"tokens": [{"name": "ci", "value": SECRET}]}, id="list-of-objects"),
]


@pytest.mark.parametrize("value", VALUES)
def test_section_child_is_redacted_in_a_value(value: Any) -> None:
    """`Redactor.value` blanks every value under a secrets section."""
    out = json.dumps(DEFAULT.value(value))
    assert SECRET not in out, out


def test_section_value_keeps_its_metadata() -> None:
    """Under a section, what describes the secrets stays in a JSON value: the structure, a name,
    a path, a count, a provider; the secret beside them goes."""
    value = {
        "secrets": {
            "provider": "vault",
            "path": "kv/app",
            "count": 3,
            "db": SECRET,
            "list": [{"name": "db", "value": SECOND}],
        },
        "tokens": {"input": 1200, "output": 300},
    }
    assert DEFAULT.value(value) == {
        "secrets": {
            "provider": "vault",
            "path": "kv/app",
            "count": 3,
            "db": "[REDACTED:password]",
            "list": [{"name": "db", "value": "[REDACTED:password]"}],
        },
        "tokens": {"input": 1200, "output": 300},
    }


KEPT = [
    # Counts, paths, providers and the like about the secrets.
    "secrets_count: 3",
    "SECRETS_DIR=/run/secrets",
    "secrets.provider=vault",
    "SECRETS_MANAGER_ENDPOINT=https://secretsmanager.eu-west-1.amazonaws.com",
    "Secrets__Path=kv/app",
    "credentials_provider: instance-profile",
    "tokens_per_minute: 4000",
    "tokens.input=1200 tokens.output=300",
    '{"tokens": {"input": 1200, "output": 30}}',
    "tokens_used=1200",
    # `keys` is no section.
    "keys: [a, b]",
    "label keys: [team, priority]",
    "keys.count=4",
    # A YAML block whose children describe the secrets.
    "secrets:\n  provider: vault\n  path: kv/app\n  ttl: 1h\n",
    # A Kubernetes list of a secret's names.
    "imagePullSecrets:\n- name: regcred\n",
    "secrets:\n- name: builder-token-x2x9q\n",
    # A Kubernetes volume's reference to a secret, its settings in camel case.
    "volumes:\n- name: certs\n  secret:\n    secretName: tls-certs\n    defaultMode: 420\n",
    '{"secretKeyRef": {"name": "db", "key": "password"}}',
    # A singular section word stays a single secret's name.
    "secret.name=prod-db",
    "credential.helper=store",
    # A ConfigMap's data is no secret; nor is a key heading a block inside a JSON string.
    "kind: ConfigMap\ndata:\n  log_level: debug\n",
    '{"log": "config:\\n  port: 80\\n"}',
    '{"log": "password:\\n"}',
    # An INI section that is no secrets section.
    "[database]\nhost = db01\nport = 5432\n",
]


def test_a_name_ending_an_escaped_line_keeps_the_json_valid() -> None:
    """A secret's name at the end of a line inside a JSON string takes no escape as its value:
    the redacted text is still JSON (no stray `\\[`), and the value below it is gone."""
    text = json.dumps({"log": f"secrets:\n  db: {SECRET}\npassword:\n  {SECOND}\n"})
    out = redact(text)
    assert SECRET not in out and SECOND not in out
    assert json.loads(out)["log"].startswith("secrets:\n  db: [REDACTED:password]")


@pytest.mark.parametrize("text", KEPT)
def test_metadata_is_kept(text: str) -> None:
    """What names something about a secrets section, or no section at all, stays."""
    assert redact(text) == text


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Secrets__Db", True),
        ("Credentials:Db:Value", True),
        ("secrets.db.value", True),
        ("SECRETS_DB", True),
        ("api_keys.maps", True),
        ("secrets_count", False),
        ("secrets.provider", False),
        ("tokens_per_minute", False),
        ("keys", False),
        ("credential.helper", False),
    ],
)
def test_section_names(name: str, secret: bool) -> None:
    """`secret_named` says a section's child names a secret, and its metadata does not."""
    assert secret_named(name) is secret
