"""Round 7b's secrets, the fixes of helper 375: the neighbours of the red team's leaks (a value
an AWS error quotes back, an Azure Key Vault secret's bundle, a SAML sign-in and a CSRF form
token posted, a MySQL hash a config manager set, a DSN's authority a parser refused), each read
by the redactor as a user would meet it, and the near text that must stay.
"""

from __future__ import annotations

import base64
import json

import pytest

from scaling import assert_linear
from triage.redact import Redactor

PASSWORD = "Xk7pL2mR9tQwE4rT"
MYSQL_HASH = "*7D30366A02402F6D2C62451184813C751B2B3BE6"
SAML = base64.b64encode(b"<samlp:Response><saml:Assertion>E104233</saml:Assertion>" * 3).decode()
#: A SAML artifact (type 4: its type, endpoint index, source id and message handle in base64).
ARTIFACT = "AAQAAMFbLcrHqrMcp0qyFbbkmTR9aH4KkHvVcr5Zpl6eMPRkL2rAhdhy5Gg"
VAULT_ID = "https://kv-prod.vault.azure.net/secrets/payments-api/6f1c2b4a9d8e4c7fb0a1e2d3c4b5a697"


def _shown(text: str) -> str:
    """What the redactor lets out of `text`."""
    return Redactor().text(text)


def _in_json_string(text: str) -> str:
    """`text` as it stands inside a JSON string (a payload's raw body): quotes escaped."""
    return json.dumps(text)[1:-1]


# --- AWS errors that quote the value they refused --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "An error occurred (ValidationException) when calling the PutParameter operation: 1 "
        f"validation error detected: Value '{PASSWORD}' at 'value' failed to satisfy "
        "constraint: Member must have length less than or equal to 4096",
        "2 validation errors detected: Value 'db' at 'name' failed to satisfy constraint: x; "
        f"Value 'it''s {PASSWORD}' at 'masterUserPassword' failed to satisfy constraint: y",
        f"Value '{PASSWORD}' at 'secretString' failed to satisfy constraint: Member must",
        "Parameter validation failed: parameter value "
        f"{PASSWORD} for parameter name DBMasterPassword does not exist.",
        f"ValidationException: Parameter value '{PASSWORD}' for /app/db/password failed to match",
        "botocore.exceptions.ParamValidationError: Parameter validation failed:\nInvalid type "
        f"for parameter Value, value: {{'pw': '{PASSWORD}'}}, type: <class 'dict'>, valid types: "
        "<class 'str'>",
        "Invalid type for parameter MasterUserPassword, value: "
        f"b'{PASSWORD}', type: <class 'bytes'>, valid types: <class 'str'>",
    ],
    ids=[
        "value-at-value",
        "second-error-password-member",
        "secret-string-member",
        "cloudformation-parameter",
        "parameter-value-for-path",
        "botocore-type-of-value",
        "botocore-type-of-password",
    ],
)
def test_a_value_an_aws_error_refused_for_a_secret_is_blanked(text: str) -> None:
    """An AWS error that quotes the value it refused for a secret's member (SSM's `Value`, a
    `…Password`, `SecretString`) or parameter (named like a secret) shows it nowhere, raw
    or inside a JSON string."""
    assert PASSWORD not in _shown(text)
    assert PASSWORD not in _shown(_in_json_string(text))


@pytest.mark.parametrize(
    "text",
    [
        "1 validation error detected: Value 'm5.superlarge' at 'instanceType' failed to "
        "satisfy constraint: Member must satisfy enum value set",
        "1 validation error detected: Value 'prod' at 'tags.1.member.value' failed to satisfy "
        "constraint: Member must have length less than or equal to 256",
        "Parameter validation failed: parameter value sg-0a1b2c3d for parameter name "
        "SecurityGroup does not exist.",
        "Invalid type for parameter MaxResults, value: abc, type: <class 'str'>, valid types: "
        "<class 'int'>",
    ],
    ids=["instance-type", "tag-value", "security-group", "max-results"],
)
def test_a_value_an_aws_error_refused_for_no_secret_stays(text: str) -> None:
    """The value an AWS error quotes for a member or parameter that names no secret (an
    instance type, a tag's value, a security group) is what a reader needs, and stays."""
    assert _shown(text) == text


# --- Azure Key Vault's secret bundle -----------------------------------------------------------


def _bundle(**first: object) -> dict[str, object]:
    """A Key Vault secret bundle as `az keyvault secret show` prints it (attributes first),
    with `first` (the REST API's order puts `value` first) before the rest."""
    rest = {
        "attributes": {"enabled": True, "recoveryLevel": "Recoverable+Purgeable"},
        "contentType": None,
        "id": VAULT_ID,
        "name": "payments-api",
        "tags": {"owner": "payments"},
        "value": PASSWORD,
    }
    return {**first, **rest}


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(_bundle()),
        json.dumps(_bundle(), indent=2),
        json.dumps(_bundle(value=PASSWORD)),
        _in_json_string(json.dumps(_bundle())),
        _in_json_string(json.dumps(_bundle(value=PASSWORD))),
        "attributes:\n  enabled: true\n  recoveryLevel: Recoverable+Purgeable\ncontentType: null\n"
        f"id: {VAULT_ID}\nmanaged: null\nname: payments-api\ntags: {{}}\nvalue: {PASSWORD}\n",
        json.dumps(_bundle()).replace("vault.azure.net", "vault.azure.cn"),
    ],
    ids=[
        "az-json",
        "az-json-indented",
        "rest-value-first",
        "in-json",
        "rest-in-json",
        "yaml",
        "china",
    ],
)
def test_a_key_vault_secret_bundles_value_is_blanked(text: str) -> None:
    """A Key Vault secret's bundle (`az keyvault secret show`/`set`, the REST API's
    response; JSON, YAML, inside a JSON string) shows its `value` nowhere, whatever the
    secret is called: the id's host says it is a Key Vault's secret."""
    shown = _shown(text)
    assert PASSWORD not in shown
    assert "payments-api" in shown
    assert "Recoverable+Purgeable" in shown


def test_a_value_beside_a_key_vault_secrets_id_in_another_object_stays() -> None:
    """A `value` in an object that only refers to a Key Vault secret's id in another object
    (an app setting's reference beside it) is no secret's value, and stays."""
    text = json.dumps(
        [
            {"name": "DB_URL", "keyVaultRef": {"id": VAULT_ID}},
            {"name": "REGION", "value": "westeurope"},
        ]
    )
    assert _shown(text) == text


# --- SAML sign-ins and CSRF form tokens, posted ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"body: SAMLResponse={SAML}&RelayState=%2Fdashboard", SAML),
        (f"body: SAMLResponse={SAML.replace('+', '%2B')}&RelayState=x", SAML[:40]),
        (f'<input type="hidden" name="SAMLResponse" value="{SAML}"/>', SAML),
        (f"<input value='{SAML}' name='SAMLResponse' type='hidden'>", SAML),
        (json.dumps({"SAMLResponse": SAML, "RelayState": "/"}), SAML),
        (f"GET /sso/acs?SAMLart={ARTIFACT}&RelayState=%2F", ARTIFACT),
        (f"POST /adfs/ls body: wa=wsignin1.0&wresult={SAML}&wctx=rm%3D0", SAML),
        (f"<QueryDict: {{'csrfmiddlewaretoken': ['{PASSWORD}'], 'next': ['/admin/']}}>", PASSWORD),
        (f"POST /admin/login/ body=csrfmiddlewaretoken={PASSWORD}&username=ops", PASSWORD),
        (f'<input type="hidden" name="csrfmiddlewaretoken" value="{PASSWORD}">', PASSWORD),
        (json.dumps({"_csrf": PASSWORD, "user": "ops"}), PASSWORD),
        (f"username=ops&_csrf={PASSWORD}", PASSWORD),
        (f"body: _xsrf={PASSWORD}&next=%2F", PASSWORD),
    ],
    ids=[
        "saml-form-body",
        "saml-percent-encoded",
        "saml-html-input",
        "saml-html-input-value-first",
        "saml-json",
        "saml-artifact",
        "ws-federation-wresult",
        "django-querydict",
        "django-form-body",
        "django-html-input",
        "express-csrf-json",
        "spring-csrf-form-body",
        "tornado-xsrf",
    ],
)
def test_a_posted_sign_in_or_csrf_form_token_is_blanked(text: str, secret: str) -> None:
    """A posted SAML response or artifact, a WS-Federation sign-in token, and a framework's
    CSRF form token (Django's, Express' and Spring's `_csrf`, Tornado's `_xsrf`) show
    nowhere, raw or inside a JSON string: each acts as its user."""
    for shown in (_shown(text), _shown(_in_json_string(text))):
        assert secret[8:40] not in shown


@pytest.mark.parametrize(
    "text",
    [
        "body: SAMLResponse=&RelayState=%2Fdashboard",
        "SAMLResponse missing from the form post",
        '{"SAMLResponse": null, "RelayState": "/"}',
        "SAMLRequest=fZJNT8MwDIbv%2FIoo9zZtWQdE2yQ%2BfK7Y&RelayState=%2F",
        "error: csrfmiddlewaretoken=missing&username=ops",
    ],
    ids=["empty", "prose", "null", "saml-request", "state-word"],
)
def test_a_form_field_without_its_credential_stays(text: str) -> None:
    """A SAML or CSRF field that holds no credential (empty, null, a word saying it is
    missing, talked about) and SAML's AuthnRequest (no sign-in in it) stay."""
    assert _shown(text) == text


# --- MySQL's native hash, where a config manager sets it --------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Notice: /Stage[main]/Db/Mysql_user[app@%]/password_hash: changed "
        f"'' to '{MYSQL_HASH}'\nNotice: Applied catalog in 4.21 seconds",
        f"mysql_user {{ 'app@%':\n  ensure => present,\n  password_hash => '{MYSQL_HASH}',\n}}",
        f"Admin> SELECT username,password FROM mysql_users;\n| app | {MYSQL_HASH} | 0 |",
        f"changed: [db-1] => (item=app) mysql_user password '{MYSQL_HASH}' encrypted=yes",
    ],
    ids=["puppet-notice", "puppet-manifest", "proxysql-table", "ansible-module"],
)
def test_a_mysql_hash_a_config_manager_sets_is_blanked(text: str) -> None:
    """MySQL's native hash where Puppet's `mysql_user` (its `password_hash`), Ansible's
    module or ProxySQL's `mysql_users` shows it goes: it logs in as the user."""
    for shown in (_shown(text), _shown(_in_json_string(text))):
        assert MYSQL_HASH[1:9] not in shown and MYSQL_HASH[20:] not in shown


def test_a_star_before_40_hex_with_no_mysql_context_stays() -> None:
    """`*` and 40 hex digits where nothing says MySQL (a Markdown emphasis of a commit's
    sha) stays: it is no password hash there."""
    text = "deployed *7d30366a02402f6d2c62451184813c751b2b3be6* to prod"
    assert _shown(text) == text


# --- a DSN's authority a URL parser refused ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"LocationParseError: Failed to parse: 'app:{PASSWORD}@db:${{PORT}}'",
        f"LocationParseError: Failed to parse: app:{PASSWORD}@db:port/app",
        f"ValueError: invalid authority app:{PASSWORD}@db:None/app",
        f"TypeError: Invalid URL app:{PASSWORD}@db:undefined",
        f"parse error: app:{PASSWORD}@db:{{{{ .Values.port }}}}/app",
        f"parse error: app:{PASSWORD}@db:%(port)s/app",
        f"parse error: app:{PASSWORD}@db:$DB_PORT/app",
        f"parse error: app:{PASSWORD}@${{DB_HOST}}:5432/app",
        f"parse error: app:{PASSWORD}@%DB_HOST%/app",
    ],
    ids=[
        "unexpanded-port-variable",
        "placeholder-port",
        "python-none",
        "javascript-undefined",
        "helm-template",
        "percent-format",
        "shell-variable",
        "unexpanded-host",
        "windows-host",
    ],
)
def test_a_password_before_an_unfilled_host_or_port_is_blanked(text: str) -> None:
    """`user:password@host:port` without a scheme whose port or host was never filled in (a
    variable left unexpanded, a template, `None`) shows the password nowhere, raw or inside
    a JSON string, as it does with a port of digits."""
    assert PASSWORD not in _shown(text)
    assert PASSWORD not in _shown(_in_json_string(text))


@pytest.mark.parametrize(
    "text",
    [
        "pull nginx:latest@sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567",
        "meeting at 10:30@office:lobby",
    ],
    ids=["image-digest", "time"],
)
def test_an_authority_like_text_with_no_password_stays(text: str) -> None:
    """Text shaped like `a:b@c:word` that holds no password (an image's tag and digest, a
    time) stays."""
    assert _shown(text) == text


# --- near-miss text costs time in proportion to its length -------------------------------------

#: Text built to make this round's rules try hard at every position: each start of a rule
#: that never finds its end, a value past its bound, braces that never close.
HOSTILE = [
    "Value '" * 40_000 + "' at 'value' failed to satisfy constraint",
    "Value 'a" * 35_000 + "' at 'value' failed to satisfy constraint",
    "parameter value '" * 15_000,
    "parameter value " + "a" * 250_000,
    "Invalid type for parameter Value, value: " * 6_500 + ", type: <class 'str'>",
    f'"id": "{VAULT_ID}", "a": {{}}, ' * 2_000 + '"value": "x"',
    f'"id": "{VAULT_ID}", ' + '"a": {"b": 1}, ' * 15_000,
    '"value": "x", "a": {}, ' * 10_000 + f'"id": "{VAULT_ID}"',
    f"id: {VAULT_ID}\n" * 2_500,
    f"id: {VAULT_ID}\n" + "x: y\n" * 50_000,
    "app:pw@db:" * 25_000,
    "a:b@${" * 40_000,
    "SAMLResponse=" + "A" * 250_000,
    "SAMLResponse=a&" * 17_000,
    "'_csrf': ['" * 20_000,
    '<input name="_csrf" ' + 'value="' * 35_000,
    '<input value="' * 18_000 + 'x" name="_csrf">',
    "password_hash " * 18_000 + MYSQL_HASH,
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=[repr(h[:16]) for h in HOSTILE])
def test_hostile_text_near_this_rounds_rules_is_redacted_in_linear_time(hostile: str) -> None:
    """Near-miss text of this round's rules costs time in proportion to its length: eight
    times as much of it takes under 24 times as long, so no rule reads over it again from
    each start."""
    assert_linear(lambda n: _shown(_middle_cut(hostile, n)), 8_192, repeats=2)


def _middle_cut(text: str, size: int) -> str:
    """`text` cut to `size` characters from its middle: its start and its end (where a near
    miss puts what it leads up to) are kept."""
    if size >= len(text):
        return text
    return text[: size // 2] + text[len(text) - (size - size // 2) :]
