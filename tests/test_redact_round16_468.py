"""Round 16 (helper 468): what round 15 left (a pytest `where` line whose expression reads a
secret through a method that keeps its value) and over-redactions that hid what a responder
needs (a flow-style env entry's quotes, `gh secret list`'s dates, a Secret Manager secret's
name, a Secret's user, a .NET connection string's server, a Secret's certificates)."""

from __future__ import annotations

import base64

import pytest

from triage.redact import Redactor

PW = "Xk9vQ2mZp7"
SHORT = "q7Wz2Lk9Xa"
P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- pytest's `where` lines: an expression that reads a secret through a method -----------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"E       assert '{PW}' == '{SHORT}'\n"
            f"E        +  where '{PW}' = str(s.password)\n"
            f"E        +  where '{SHORT}' = s.token.strip()",
            f"E       assert '{P}' == '{P}'\n"
            f"E        +  where '{P}' = str(s.password)\n"
            f"E        +  where '{P}' = s.token.strip()",
        ),
        (
            f"E   assert ('{PW}' is None or '{SHORT}' is None)\n"
            f"E    +  where '{PW}' = <S object at 0x7f>.password\n"
            f"E    +  and   '{SHORT}' = <S object at 0x7f>.api_key.decode()",
            f"E   assert ('{P}' is None or '{P}' is None)\n"
            f"E    +  where '{P}' = <S object at 0x7f>.password\n"
            f"E    +  and   '{P}' = <S object at 0x7f>.api_key.decode()",
        ),
        (
            f"E   assert '{SHORT}' == ''\n"
            f"E    +  where '{SHORT}' = settings.SECRET_KEY.get_secret_value()",
            f"E   assert '{P}' == ''\nE    +  where '{P}' = settings.SECRET_KEY.get_secret_value()",
        ),
    ],
)
def test_pytest_where_line_of_a_secret_read_through_a_method_loses_the_value(
    text: str, expected: str
) -> None:
    """A `where` expression that reads a secret and then calls a method that keeps its value
    (`.strip()`, `.decode()`, `.get_secret_value()`) loses the value on its line and on the
    `assert` line, as the first `where` of the block does."""
    assert _text(text) == expected


def test_pytest_where_line_of_a_hash_of_a_secret_stays() -> None:
    """A method that makes another value of the secret (a digest) still keeps the line."""
    text = "E        +  where 'abc' = hashlib.sha256(s.password).hexdigest()"
    assert _text(text) == text


# --- a Kubernetes env entry in YAML's flow style -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'        - {{name: DB_PASSWORD, value: "{PW}"}}',
            f'        - {{name: DB_PASSWORD, value: "{P}"}}',
        ),
        (
            f"        - {{name: DB_PASSWORD, value: '{PW}'}}",
            f"        - {{name: DB_PASSWORD, value: '{P}'}}",
        ),
        (f"- {{name: API_TOKEN, value: {PW}}}", f"- {{name: API_TOKEN, value: {P}}}"),
    ],
)
def test_flow_style_env_entry_keeps_its_quotes(text: str, expected: str) -> None:
    """`- {name: DB_PASSWORD, value: "…"}` loses what is inside the quotes, not the quotes."""
    assert _text(text) == expected


def test_flow_style_env_entry_of_no_secret_stays() -> None:
    """A flow-style entry whose name says no secret keeps its value."""
    text = '        - {name: LOG_LEVEL, value: "debug"}'
    assert _text(text) == text


# --- `gh secret list`: names and when each was updated -------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "NAME                 UPDATED\nDB_PASSWORD          2024-01-02T03:04:05Z\n"
        "API_TOKEN            about 2 days ago",
        "DB_PASSWORD\tUpdated 2024-01-02\nAPI_TOKEN\tUpdated 2023-11-20",
        "DB_PASSWORD\t2024-01-02T03:04:05Z\nAPI_TOKEN\t2023-11-20T10:00:00Z",
        "SLACK_TOKEN    less than a minute ago",
    ],
)
def test_gh_secret_list_keeps_names_and_dates(text: str) -> None:
    """`gh secret list` prints each secret's name and when it was updated: no value at all."""
    assert _text(text) == text


def test_a_listed_value_after_a_date_still_goes() -> None:
    """A value that only starts with a date is a value, and goes."""
    assert _text(f"DB_PASSWORD\t2024-01-02 {PW}") == f"DB_PASSWORD\t{P}"


# --- gcloud names a Secret Manager secret by `--secret` ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "gcloud secrets versions access latest --secret=db-password",
        "gcloud secrets versions access 3 --secret db_password --project prod",
        'gcloud secrets versions access latest --secret="api-token" --format=json',
    ],
)
def test_gcloud_secret_names_stay(text: str) -> None:
    """gcloud's `--secret` names the Secret Manager secret to read: where the secret is, not
    what it is."""
    assert _text(text) == text


def test_gcloud_secret_option_with_a_random_value_still_goes() -> None:
    """A random-looking value after `--secret` is no name a person gave: it goes."""
    assert _text(f"gcloud x --secret={PW}") == f"gcloud x --secret={P}"


def test_secret_option_of_another_tool_still_goes() -> None:
    """Outside gcloud, `--secret` gives the secret itself (a webhook's, a client's)."""
    assert _text("hookdeck listen --secret=db-password") == f"hookdeck listen --secret={P}"


# --- a Secret made from literals: a user's name stays, the rest goes -----------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "kubectl create secret generic x --from-literal=user=app",
            "kubectl create secret generic x --from-literal=user=app",
        ),
        (
            f"kubectl create secret generic db --from-literal=username=app "
            f"--from-literal=host=db.internal --from-literal=password={PW}",
            f"kubectl create secret generic db --from-literal=username=app "
            f"--from-literal=host=db.internal --from-literal=password={P}",
        ),
        (
            "kubectl create secret generic x --from-literal=config=debug",
            f"kubectl create secret generic x --from-literal=config={P}",
        ),
        (
            f"kubectl create secret generic x --from-literal=user={PW}",
            f"kubectl create secret generic x --from-literal=user={P}",
        ),
    ],
)
def test_from_literal_keeps_only_a_user_or_host_named_so(text: str, expected: str) -> None:
    """A Secret's literal under a key naming a user, a host or a port, with no random look,
    stays (the responder needs which account); under any other key it goes, as a store's
    values do: a Secret's keys are free names that say nothing of what they hold."""
    assert _text(text) == expected


# --- a .NET connection string: only its password goes --------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'"ConnectionStrings": {{ "Default": "Server=db.internal;Database=orders;'
            f'User Id=app;Password={PW};" }}',
            f'"ConnectionStrings": {{ "Default": "Server=db.internal;Database=orders;'
            f'User Id=app;Password={P};" }}',
        ),
        (
            f"ConnectionStrings__Default=Server=db.internal;Database=orders;User Id=app;Pwd={PW};",
            f"ConnectionStrings__Default=Server=db.internal;Database=orders;User Id=app;Pwd={P};",
        ),
        (
            f"ConnectionStrings.Default: Server=db;Database=orders;User Id=app;Password={PW};"
            "Encrypt=true",
            f"ConnectionStrings.Default: Server=db;Database=orders;User Id=app;Password={P};"
            "Encrypt=true",
        ),
    ],
)
def test_dotnet_connection_string_loses_only_its_password(text: str, expected: str) -> None:
    """`Server=…;Database=…;User Id=…;Password=…;` under a connection string's name loses the
    password; the server, database and user stay."""
    assert _text(text) == expected


def test_connection_string_with_another_secret_goes_whole() -> None:
    """A connection string holding a key of another kind (Azure's `AccountKey`) goes whole."""
    text = f"ConnectionStrings__Blob=DefaultEndpointsProtocol=https;AccountName=a;AccountKey={PW}"
    assert PW not in _text(text)


# --- a Kubernetes Secret's certificates stay, its key goes ---------------------------------------

CERT = _b64("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUXk9v\n-----END CERTIFICATE-----\n")
KEY = _b64("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END PRIVATE KEY-----\n")


def test_tls_secret_keeps_its_certificates_and_loses_its_key() -> None:
    """A `kubernetes.io/tls` Secret's `tls.crt` and `ca.crt` (public certificates) stay; its
    `tls.key` goes."""
    text = (
        "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\ndata:\n"
        f"  tls.crt: {CERT}\n  ca.crt: {CERT}\n  tls.key: {KEY}"
    )
    expected = text.replace(f"tls.key: {KEY}", "tls.key: [REDACTED:private-key]")
    assert _text(text) == expected


def test_secret_data_that_only_claims_a_certificate_goes() -> None:
    """A `tls.crt` whose text is no certificate (a password, a key) still goes."""
    text = f"kind: Secret\ndata:\n  tls.crt: {_b64(PW)}\n  ca.crt: {KEY}"
    out = _text(text)
    assert _b64(PW) not in out
    assert KEY not in out


def test_secret_json_keeps_its_certificate() -> None:
    """The same Secret as JSON (`kubectl get secret -o json`) keeps its certificate."""
    text = f'{{"kind": "Secret", "data": {{"ca.crt": "{CERT}", "token": "{_b64(PW)}"}}}}'
    out = _text(text)
    assert CERT in out
    assert _b64(PW) not in out


# --- a request's idempotency token names the request, granting nothing ---------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ClientRequestToken='Console-CreateStack-18efed3e-26c0-527a-ae7d-196a1b63ecf3'\n"
        "ResourceStatus='CREATE_FAILED'",
        '{"IdempotencyToken": "18efed3e-26c0-527a-ae7d-196a1b63ecf3"}',
        "client_request_token: 7d3c0a1e-9f4b-4c2d-8e6a-5b1f0c9d2e7a",
    ],
)
def test_request_idempotency_token_stays(text: str) -> None:
    """CloudFormation's `ClientRequestToken` (and any `IdempotencyToken`) is an id the caller
    made up so that a retry runs once: it names the failed request, and stays."""
    assert _text(text) == text


def test_a_token_after_the_request_token_still_goes() -> None:
    """A token under its own name beside the request's id still goes."""
    text = f"ClientRequestToken='abc-1' SessionToken='{PW}'"
    assert _text(text) == f"ClientRequestToken='abc-1' SessionToken='{P}'"


# --- a Markdown table's header names its columns -------------------------------------------------


def test_markdown_header_cell_after_a_secret_column_stays() -> None:
    """`| secret | updated |` over a `|---|` line is a header: `updated` names a column, and
    stays; the secret column's cells below still go."""
    text = f"| secret | updated |\n|---|---|\n| {PW} | 2024-01-02 |"
    assert _text(text) == f"| secret | updated |\n|---|---|\n| {P} | 2024-01-02 |"


def test_two_cell_row_without_a_rule_line_still_loses_its_value() -> None:
    """A `| password | … |` row with no rule line under it is a name and its value."""
    assert _text(f"| password | {PW} |") == f"| password | {P} |"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'"ConnectionStrings__Default": "Host=db;Port=5432;Database=orders;Username=app;'
            f'Password={PW}"',
            f'"ConnectionStrings__Default": "Host=db;Port=5432;Database=orders;Username=app;'
            f'Password={P}"',
        ),
        (
            f"conn = 'Server=db;User Id=app;Password={PW}'",
            f"conn = 'Server=db;User Id=app;Password={P}'",
        ),
        (
            f'{{"db": "Server=db;User Id=app;Password={PW}", "pool": 5}}',
            f'{{"db": "Server=db;User Id=app;Password={P}", "pool": 5}}',
        ),
    ],
)
def test_connection_string_password_last_before_its_closing_quote_goes_alone(
    text: str, expected: str
) -> None:
    """A connection string whose `Password=` comes last, before the string's closing quote
    (no `;` after it), loses the password only; the server and user stay."""
    assert _text(text) == expected


def test_connection_string_password_with_a_quote_inside_goes_whole() -> None:
    """A password holding a quote is not cut at that quote: none of it stays."""
    out = _text('{"db": "Server=db;User Id=app;Password=ab\'cd9Xq"}')
    assert "cd9Xq" not in out
