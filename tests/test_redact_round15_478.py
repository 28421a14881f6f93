"""Secrets round 15 (helper 478): the over-redactions left from the last round (a status word
such as `set` or `(hidden)` in a secret's place, a Kubernetes secret's name after `Secret:`),
and the leak classes a real alert carries (current vendors' token formats, and the shapes
that carry them: curl -v's headers, Basic credentials, URL userinfo, env dumps, .netrc,
.pgpass, docker's config, a Kubernetes Secret's data)."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- a status word or a secret's name in a secret's place ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "| api_key | set |",
        "| name | state |\n|---|---|\n| api_key | set |\n| db_password | unset |",
        "api_key: set",
        "API_KEY=set",
        "  db_password: SET",
        "| password | (hidden) |",
        "password: (hidden)",
        "| api_token | (masked) |",
        "| client_secret | (redacted) |",
    ],
)
def test_a_status_word_in_a_secrets_place_stays(text: str) -> None:
    """`set` and a bracketed `(hidden)` say whether a secret is there, not what it is: an
    operator reading a config report needs them."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("api_key: sEt9xQ2mK7pLw4", "sEt9xQ2mK7pLw4"),
        ("| api_key | 8f3kQ9zLm2Xw7Rt |", "8f3kQ9zLm2Xw7Rt"),
        ("| password | (hidden)Zq8x2 |", "(hidden)Zq8x2"),
        ("API_KEY=settle9Kq", "settle9Kq"),
        ("password: setX7", "setX7"),
        (
            "| name | state |\n|---|---|\n| api_key | 8f3kQ9zLm2Xw7Rt |\n| db | up |",
            "8f3kQ9zLm2Xw7Rt",
        ),
        ("| password | note |\n|---|---|\n| correcthorse | prod |", "correcthorse"),
    ],
)
def test_a_value_where_a_status_word_would_stand_still_goes(text: str, secret: str) -> None:
    """A real value in the same place, even one starting like a status word, goes."""
    assert secret not in _text(text)


@pytest.mark.parametrize(
    "text",
    [
        "Secret: db-password",
        "  Secret: db-password",
        "Secret: orders-api-token",
        "Warning  FailedMount  kubelet  Secret: db-password not found",
        "secret: payments-db-credentials",
    ],
)
def test_a_kubernetes_secrets_name_after_secret_stays(text: str) -> None:
    """`Secret: db-password` names the Kubernetes Secret (lower-case words joined by `-`,
    the last naming a secret): the operator needs the name to find it."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Secret: hunter2-password", "hunter2-password"),
        ("secret: Zq8xK2mW9pLr4TfY", "Zq8xK2mW9pLr4TfY"),
        ("Secret: correct-horse-battery-staple", "correct-horse-battery-staple"),
        ("Secret: db-password-Xk9vQ2", "Xk9vQ2"),
    ],
)
def test_a_value_after_secret_that_names_nothing_still_goes(text: str, secret: str) -> None:
    """A value after `Secret:` that is no secret's name (a digit, capitals, words whose last
    names no secret) is the secret and goes."""
    assert secret not in _text(text)


# --- Python bytes literals: botocore's and httpx's debug logs ------------------------------------

TOKEN = "Zq8xK2mW9pLr4TfYbN3vQ7sD1gH5jK0a"
SESSION = "IQoJb3JpZ2luX2VjEAbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (
            "DEBUG botocore.endpoint Sending http request: <AWSPreparedRequest headers="
            f"{{'X-Amz-Security-Token': b'{SESSION}', 'User-Agent': b'aws-cli/2.15'}}>",
            SESSION,
            "'User-Agent': b'aws-cli/2.15'",
        ),
        (
            f"headers={{'Authorization': b'Bearer {TOKEN}', 'Host': b'api'}}",
            TOKEN,
            "'Authorization': b'Bearer [REDACTED:bearer]', 'Host': b'api'",
        ),
        (
            f"[(b'host', b'api.example.com'), (b'x-api-key', b'{TOKEN}')]",
            TOKEN,
            "(b'host', b'api.example.com'), (b'x-api-key', b'",
        ),
        (
            f"'headers': [(b'cookie', b'session={TOKEN}'), (b'accept', b'*/*')]",
            TOKEN,
            "(b'accept', b'*/*')",
        ),
    ],
)
def test_a_header_value_in_a_bytes_literal_goes(text: str, secret: str, kept: str) -> None:
    """A header's value printed as Python bytes (`b'…'`) goes as a quoted one does, its
    quotes and the other headers kept."""
    redacted = _text(text)
    assert secret not in redacted
    assert kept in redacted


def test_bytes_headers_without_a_secret_stay() -> None:
    """Headers as bytes that name no secret keep their values."""
    text = "[(b'content-type', b'application/json'), (b'x-request-id', b'req-8f3k')]"
    assert _text(text) == text


# --- chat and automation webhooks whose URL is the credential ------------------------------------

HOOK_ID = "3f9c2a71-8b4e-4d2a-9c1f-5e7b8a6d4c21"


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (
            f"POST https://open.feishu.cn/open-apis/bot/v2/hook/{HOOK_ID} 200",
            HOOK_ID,
            "https://open.feishu.cn/open-apis/bot/v2/hook/",
        ),
        (
            f"webhook: https://open.larksuite.com/open-apis/bot/v2/hook/{HOOK_ID}",
            HOOK_ID,
            "https://open.larksuite.com/open-apis/bot/v2/hook/",
        ),
        (
            f"POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={HOOK_ID} errcode=0",
            HOOK_ID,
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=",
        ),
        (
            "curl -X POST https://maker.ifttt.com/trigger/disk_full/with/key/dK3x9Qm2LrT7vB4nW8yZpA",
            "dK3x9Qm2LrT7vB4nW8yZpA",
            "https://maker.ifttt.com/trigger/disk_full/with/key/",
        ),
    ],
)
def test_a_chat_webhooks_secret_path_goes(text: str, secret: str, kept: str) -> None:
    """Anyone holding a Feishu/Lark bot hook, a WeCom robot key or an IFTTT maker key posts as
    the bot: its secret part goes, the host and the kind of hook stay."""
    redacted = _text(text)
    assert secret not in redacted
    assert kept in redacted


# --- vendor tokens the prefix rules did not know -------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        # Vault's recovery token (beside hvs. and hvb.).
        "hvr.CAESIJ3kQ9zLm2Xw7RtYpUvBn4Kx8Gz1Hq6WcDeFaJbNr5sTGh4KHGh2cy5BYkNkRWZH",
        # Amazon MWS auth token.
        "amzn.mws.4ea38b7b-f563-7709-4bae-87aeaadc2e8b",
    ],
)
def test_a_vendor_token_in_a_log_line_goes(secret: str) -> None:
    """A current vendor's token, bare in a log line, goes by its shape."""
    text = f"2026-12-05T02:14:07Z ERROR sync: upstream refused {secret} (401); retrying"
    redacted = _text(text)
    assert secret not in redacted
    assert redacted.startswith("2026-12-05T02:14:07Z ERROR sync: upstream refused [REDACTED:")
    assert redacted.endswith("] (401); retrying")


@pytest.mark.parametrize(
    "text",
    [
        "version 0.48.1 of hvr.sh released",
        "see amzn.mws.docs for the retirement notice",
    ],
)
def test_text_near_those_vendor_shapes_stays(text: str) -> None:
    """A version, a bare UUID or a word after the same prefix is no token."""
    assert _text(text) == text


# --- Terraform CLI's host tokens, an FTP session's PASS -----------------------------------------

PW = "Xk9vQ2mZp7Lr"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"TF_TOKEN_app_terraform_io={PW}", "TF_TOKEN_app_terraform_io="),
        (
            f"export TF_TOKEN_tfe_corp__internal_example_com='{PW}'",
            "TF_TOKEN_tfe_corp__internal_example_com='",
        ),
        (
            f'"env": {{"TF_TOKEN_app_terraform_io": "{PW}", "TF_IN_AUTOMATION": "1"}}',
            '"TF_IN_AUTOMATION": "1"',
        ),
        (f"  - TF_TOKEN_app_terraform_io: {PW}", "  - TF_TOKEN_app_terraform_io: "),
    ],
)
def test_terraform_cli_host_token_goes(text: str, kept: str) -> None:
    """`TF_TOKEN_<host>` is Terraform's API token for that host, though its name ends in the
    host: the value goes, the name (which host) stays."""
    redacted = _text(text)
    assert PW not in redacted
    assert kept in redacted


def test_terraform_cli_host_token_keeps_a_reference() -> None:
    """A variable given as the token (`$TFC_TOKEN`) is no secret and stays."""
    text = "TF_TOKEN_app_terraform_io=$TFC_TOKEN terraform init"
    assert _text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        f"> PASS {PW}\n< 230 Login successful.",
        f"< 331 Please specify the password.\n> PASS {PW}",
        f"C: PASS {PW}\nS: 230 Logged in",
        f"S: +OK send PASS\nC: PASS {PW}",
    ],
)
def test_ftp_and_pop3_pass_beside_a_servers_reply_goes(text: str) -> None:
    """The protocol's `PASS` line between a server's replies that ask for or accept a
    password (FTP's 331 and 230, POP3's +OK) is the password, though no USER line was kept."""
    assert PW not in _text(text)


def test_a_pass_line_in_prose_stays() -> None:
    """`PASS` as a test result, with no server's reply about a login beside it, stays."""
    text = "test_login PASS in 0.3s\n230 tests run"
    assert _text(text) == text


def test_terraform_cli_host_token_goes_from_a_json_payload() -> None:
    """The same token under its name as a JSON payload's key goes, the other keys stay."""
    payload = {"env": {"TF_TOKEN_app_terraform_io": PW, "TF_IN_AUTOMATION": "1"}}
    assert Redactor().value(payload) == {
        "env": {"TF_TOKEN_app_terraform_io": P, "TF_IN_AUTOMATION": "1"}
    }


@pytest.mark.parametrize(
    "text",
    [
        f"az acr login -n myregistry -u bob -p {PW}",
        f"regctl registry login ghcr.io -u bob -p {PW}",
    ],
)
def test_a_registry_logins_short_password_option_goes(text: str) -> None:
    """Azure Container Registry's and regctl's logins take the password as `-p`, as docker's
    does: it goes, the registry and the user stay."""
    redacted = _text(text)
    assert PW not in redacted
    assert "-u bob -p [REDACTED:password]" in redacted


#: Azure DevOps' personal access token of the 84-character format (2024): 52 random
#: characters, the signature `JQQJ9`, then `AZDO` near its end.
ADO_PAT = (
    "7sQe2LmV9pXc4RtY8uWn3BkZ6hJd1FgA5oKi0MqTvNwEr7SyUb2C"
    + "JQQJ99BA"
    + "Hk3Lm9Np2Qr5St8V"
    + "AZDO"
    + "2Xy4"
)


@pytest.mark.parametrize(
    "text",
    [
        f"##[error]TF400813: The user is not authorized: {ADO_PAT} rejected",
        f"job 12 used {ADO_PAT}",
        f'{{"x": "{ADO_PAT}"}}',
        f"git clone https://{ADO_PAT}@dev.azure.com/org/project/_git/repo",
    ],
)
def test_azure_devops_pat_goes_by_its_shape(text: str) -> None:
    """An Azure DevOps PAT of the new format goes wherever it stands, by its signature."""
    redacted = _text(text)
    assert "JQQJ9" not in redacted
    assert "[REDACTED:" in redacted


def test_text_holding_the_azure_devops_signature_alone_stays() -> None:
    """`AZDO` and `JQQJ9` in a word too short to be a PAT are no token."""
    text = "pipeline AZDO-JQQJ99 finished; project AZDO2026 ok"
    assert _text(text) == text
