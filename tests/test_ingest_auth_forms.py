"""The gateway's credentials as real senders send and store them: the scheme in any case and
after any spaces or a tab, HTTP Basic in each of its shapes (Prometheus' `basic_auth`, curl's
`-u token:`, a URL's user info), tokens stored as `echo` writes them, two tokens per source
while one is rotated, and what is refused at start-up with a line saying why."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import boto3
import httpx2
import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues, settings_for
from ingest_harness import (
    TOKENS,
    ingest_settings,
    loopback_client,
    payload,
    running,
)
from triage.errors import ConfigError
from triage.ingest import IngestService, auth
from triage.ingest_tokens import parse_tokens
from triage.ops.check import run_checks
from triage.settings import Settings

TOKEN = TOKENS["generic"]
GENERIC = json.dumps({"title": "disk full", "dedup_key": "disk-full"}).encode()
WHERE = "TRIAGE_INGEST_TOKENS"
NEXT = "generic-next-token-9876543210"
SENTRY_NEXT = "sentry-next-client-secret-9876543210"


def received(queues: Queues) -> list[dict[str, Any]]:
    """Messages now on the queue (left in place: visibility 0)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _matches(headers: dict[str, str], token: str = TOKEN) -> bool:
    return auth.token_matches(auth.presented(headers), (token.encode(),))


# --- How a credential is presented ----------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        f"bearer {TOKEN}",
        f"BEARER {TOKEN}",
        f"Bearer    {TOKEN}",
        f"Bearer\t{TOKEN}",
        f" \tBearer {TOKEN}\t ",
        f"basic {_b64('triage:' + TOKEN)}",
        f"BASIC\t{_b64('triage:' + TOKEN)}",
    ],
    ids=["lower", "upper", "spaces", "tab", "surrounded", "basic-lower", "basic-upper-tab"],
)
def test_the_scheme_is_read_in_any_case_after_spaces_or_a_tab(authorization: str) -> None:
    """A scheme is case-insensitive (RFC 9110) and senders separate it with one or more spaces
    or a tab: each presents the token."""
    assert _matches({"Authorization": authorization})


@pytest.mark.parametrize("user", ["", "triage"], ids=["empty-user", "any-user"])
def test_basic_presents_its_password_whatever_the_user(user: str) -> None:
    """Basic with an empty user name, or any, presents its password as the token."""
    assert _matches({"Authorization": f"Basic {_b64(user + ':' + TOKEN)}"})


@pytest.mark.parametrize(
    "user_password",
    [f"{TOKEN}:", f"{TOKEN}:wrong-password-0123", TOKEN],
    ids=["token-as-user", "token-as-user-with-password", "no-colon"],
)
def test_a_user_name_is_no_credential(user_password: str) -> None:
    """The token as Basic's user name (proxies log user names, as nginx's `$remote_user`) does
    not pass, with or without a password."""
    assert not _matches({"Authorization": f"Basic {_b64(user_password)}"})


def test_a_password_holding_colons_is_read_whole() -> None:
    """The user name ends at the first colon (RFC 7617); a token with colons is the password."""
    token = "a:token:with:colons-0123"
    assert _matches({"Authorization": f"Basic {_b64('triage:' + token)}"}, token)


@pytest.mark.parametrize("ending", ["\n", "\r\n", " "], ids=["lf", "crlf", "space"])
def test_basic_encoded_by_echo_with_its_newline_is_no_match(ending: str) -> None:
    """`echo "triage:$TOKEN" | base64` encodes echo's newline into the password: a password is
    the token exactly, so it does not pass (the 401 says why: see below)."""
    headers = {"Authorization": f"Basic {_b64('triage:' + TOKEN + ending)}"}
    assert not _matches(headers)
    assert auth.misformed(headers) == "basic_password_spaced"


@pytest.mark.parametrize(("user", "padding"), [("triage", 2), ("a", 1), ("ab", 0)])
def test_basic_base64_without_its_padding_is_read(user: str, padding: int) -> None:
    """Base64 sent without its trailing `=` (some clients strip it) decodes to the same
    credential, whatever padding it lacked."""
    encoded = _b64(f"{user}:{TOKEN}")
    assert len(encoded) - len(encoded.rstrip("=")) == padding, encoded
    assert _matches({"Authorization": f"Basic {encoded.rstrip('=')}"})


@pytest.mark.parametrize(
    "authorization",
    [f"Basic {_b64('triage:' + TOKEN)}!", f"Basic {_b64('triage:' + TOKEN)[:-5]}"],
    ids=["not-base64", "cut-short"],
)
def test_broken_base64_does_not_pass(authorization: str) -> None:
    """Base64 with a character outside its alphabet, or cut in the middle, is not the token."""
    assert not _matches({"Authorization": authorization})


def test_every_pair_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every credential presented is compared with every token of the source through
    `hmac.compare_digest` on bytes, without stopping at the first match."""
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        assert isinstance(a, bytes) and isinstance(b, bytes)
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    credentials = [TOKEN.encode(), b"another-credential-0123"]
    tokens = (TOKEN.encode(), b"the-next-token-0123456")
    assert auth.token_matches(credentials, tokens)
    assert len(seen) == 4
    seen.clear()
    body = b"{}"
    signature = hmac.new(tokens[0], body, hashlib.sha256).hexdigest()
    assert auth.signature_matches(signature, body, tokens)
    assert len(seen) == 2


# --- Tokens as they are stored --------------------------------------------------------------


@pytest.mark.parametrize("stored", [f"{TOKEN}\n", f" {TOKEN} ", f"{TOKEN}\r\n", f"\t{TOKEN}"])
def test_a_stored_token_is_read_without_surrounding_whitespace(stored: str) -> None:
    """A token written by `echo` (a trailing newline) or pasted with spaces is the token
    without them: no header can carry them, and Prometheus trims a `credentials_file`."""
    assert parse_tokens(json.dumps({"generic": stored}), WHERE) == {"generic": (TOKEN.encode(),)}


@pytest.mark.parametrize(
    ("tokens", "says"),
    [
        ({"generic": f"Bearer {TOKEN}"}, "starts with 'Bearer '"),
        ({"generic": f"basic {TOKEN}"}, "starts with 'Basic '"),
        ({"generic": ""}, "is empty (null turns a source off)"),
        ({"generic": "   \n"}, "is empty (null turns a source off)"),
        ({"generic": TOKEN + "é"}, "holds a character that is not ASCII"),
        ({"generic": TOKEN + "\x7f"}, "holds a control character"),
        ({"generic": TOKEN[:8] + " " + TOKEN[8:]}, "printable ASCII without whitespace"),
        ({"generic": TOKEN, "grafana": TOKEN}, "the generic and grafana tokens are the same"),
        ({"generic": [TOKEN, f"{TOKEN}\n"]}, "lists the same token twice"),
        ({"generic": [TOKEN, "b" * 20, "c" * 20]}, "at most 2 tokens"),
        ({"generic": []}, "is empty (null turns a source off)"),
        ({"generic": [TOKEN, 7]}, "must be a string, or a list of at most 2"),
        ({"grafana": ["g" * 20], "generic": [TOKEN, "g" * 20]}, "are the same"),
    ],
    ids=["bearer", "basic", "empty", "blank", "non-ascii", "control", "space-inside",
         "two-sources", "listed-twice", "three", "empty-list", "not-a-string", "rotating-shared"],
)  # fmt: skip
def test_a_token_no_sender_could_present_is_refused_saying_why(
    tokens: dict[str, object], says: str
) -> None:
    """Tokens that cannot authenticate as meant stop start-up (and `triage check`) with one
    error naming the source and the fault, never the token."""
    with pytest.raises(ConfigError) as caught:
        parse_tokens(json.dumps(tokens), WHERE)
    message = str(caught.value)
    assert message.startswith(WHERE) and says in message, message
    assert TOKEN not in message and TOKEN[:8] not in message and "g" * 20 not in message


def test_a_source_named_twice_is_refused_pointing_at_the_list() -> None:
    """`{"generic": A, "generic": B}` (a second token added the wrong way: JSON keeps only the
    last, silently) is refused, saying how to list two, never either token."""
    text = '{"generic": "' + TOKEN + '", "generic": "' + NEXT + '"}'
    with pytest.raises(ConfigError) as caught:
        parse_tokens(text, WHERE)
    message = str(caught.value)
    assert message == (
        f"{WHERE} names generic twice: list a source's two tokens as "
        '"generic": ["<current>", "<next>"]'
    )


def test_a_byte_order_mark_before_the_json_is_read_past() -> None:
    """Tokens saved by an editor that starts the file with a UTF-8 byte-order mark (then
    `--secret-string file://…`) read as without it."""
    text = "\ufeff" + json.dumps({"generic": TOKEN})
    assert parse_tokens(text, WHERE) == {"generic": (TOKEN.encode(),)}


async def test_the_gateway_does_not_start_with_one_token_for_two_sources(queues: Queues) -> None:
    """A token shared by two sources would let either's senders post as the other and share
    its budgets: `triage ingest` refuses to start, naming both sources."""
    shared = json.dumps({"grafana": TOKEN, "generic": TOKEN})
    settings = ingest_settings(queues.url, queues.endpoint, ingest_tokens=shared)
    with pytest.raises(ConfigError, match="grafana and generic tokens are the same"):
        async with running(settings):
            pass


def _check_ingest_line(settings: Settings) -> str:
    """`triage check`'s one `ingest` line for `settings`."""
    out = io.StringIO()
    asyncio.run(run_checks(settings, out))
    (line,) = [line for line in out.getvalue().splitlines() if line.split()[1:2] == ["ingest"]]
    return line


def test_check_reads_a_rotation_and_an_echoed_token_and_fails_a_shared_one(
    queues: Queues, tmp_path: Path
) -> None:
    """`triage check` reads the tokens as the gateway does: two for a source and a token with
    `echo`'s newline are `ok`; one token for two sources is a FAIL naming both, not the token."""
    secrets = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    rotating = json.dumps({"generic": [TOKEN, NEXT], "grafana": TOKENS["grafana"] + "\n"})
    secrets.create_secret(Name="triage/rotating", SecretString=rotating)
    shared = json.dumps({"grafana": TOKEN, "generic": TOKEN})
    secrets.create_secret(Name="triage/shared", SecretString=shared)

    def line_for(secret_id: str) -> str:
        settings = settings_for(
            queues, "http://127.0.0.1:9", tmp_path / "t.db", ingest_tokens_secret_id=secret_id
        )
        return _check_ingest_line(settings)

    assert line_for("triage/rotating") == (
        "ok    ingest   tokens for generic, grafana from TRIAGE_INGEST_TOKENS_SECRET_ID "
        "triage/rotating"
    )
    line = line_for("triage/shared")
    assert line.startswith("FAIL  ingest   TRIAGE_INGEST_TOKENS_SECRET_ID: the grafana and generic")
    assert TOKEN not in line


# --- Through the gateway --------------------------------------------------------------------


@pytest.fixture
async def rotating(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway with two tokens for `generic` and two client secrets for `sentry`: the
    current and the next, as during a rotation."""
    tokens = {**TOKENS, "generic": [TOKEN, NEXT], "sentry": [TOKENS["sentry"], SENTRY_NEXT]}
    settings = ingest_settings(queues.url, queues.endpoint, ingest_tokens=json.dumps(tokens))
    async with running(settings) as service:
        yield service


async def test_the_tokens_read_line_names_the_sources_mid_rotation(queues: Queues) -> None:
    """While a source lists two tokens, `ingest.tokens_read` names it (`rotating`), so the
    rotation is not left half done; no token is in the line."""
    tokens = {**TOKENS, "generic": [TOKEN, NEXT]}
    settings = ingest_settings(queues.url, queues.endpoint, ingest_tokens=json.dumps(tokens))
    with capture_logs() as logs:
        async with running(settings):
            pass
    (line,) = [e for e in logs if e["event"] == "ingest.tokens_read"]
    assert line["rotating"] == ["generic"]
    assert TOKEN not in repr(line) and NEXT not in repr(line)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"bearer\t{TOKEN}"},
        {"Authorization": f"Basic {_b64(':' + TOKEN).rstrip('=')}"},
        {"Authorization": f"Basic {_b64('sender:' + NEXT)}"},
        {"Authorization": f"BEARER  {NEXT}"},
    ],
    ids=["tab-current", "no-user-unpadded", "basic-next", "bearer-next"],
)
async def test_either_token_of_a_rotation_passes_in_any_form(
    rotating: IngestService, queues: Queues, headers: dict[str, str]
) -> None:
    """While a source lists two tokens, senders holding either are accepted, in any form."""
    async with loopback_client(rotating.port) as client:
        response = await client.post("/v1/alerts/generic", content=GENERIC, headers=headers)
    assert response.status_code == 202, response.text
    assert len(received(queues)) == 1


async def test_a_rotation_keeps_each_source_to_its_own_tokens(
    rotating: IngestService, queues: Queues
) -> None:
    """A token listed for one source is still refused on another's path (401)."""
    async with loopback_client(rotating.port) as client:
        response = await client.post(
            "/v1/alerts/grafana",
            content=payload("grafana/group-firing.json"),
            headers={"Authorization": f"Bearer {NEXT}"},
        )
    assert response.status_code == 401
    assert received(queues) == []


@pytest.mark.parametrize("secret", [TOKENS["sentry"], SENTRY_NEXT], ids=["current", "next"])
async def test_sentry_signed_with_either_client_secret_passes(
    rotating: IngestService, queues: Queues, secret: str
) -> None:
    """Sentry's signature is checked against each client secret listed: either passes."""
    body = payload("sentry/event-alert.json")
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Sentry-Hook-Signature": signature, "Sentry-Hook-Resource": "event_alert"}
    async with loopback_client(rotating.port) as client:
        response = await client.post("/v1/alerts/sentry", content=body, headers=headers)
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    ("authorization", "detail", "says"),
    [
        (f"Bearer Bearer {TOKEN}", "scheme_repeated", "names its scheme twice"),
        (f"bearer  BASIC {TOKEN}", "scheme_repeated", "names its scheme twice"),
        (f"Basic {_b64(TOKEN + ':')}", "basic_without_password", "password is empty"),
        (TOKEN, "no_scheme", "names no scheme"),
        (f"Basic {_b64('triage:' + TOKEN + chr(10))}", "basic_password_spaced", "whitespace"),
    ],
    ids=["bearer-bearer", "bearer-basic", "token-as-basic-user", "no-scheme", "echo-newline"],
)
async def test_a_sender_set_up_wrong_is_401_saying_what_to_change(
    client: httpx2.AsyncClient, queues: Queues, authorization: str, detail: str, says: str
) -> None:
    """The scheme pasted with the token into a credentials field that adds its own, or the
    token put in Basic's user field: 401 whose answer says what to change, one log line naming
    the fault, and neither quotes the token."""
    headers = {"Authorization": authorization}
    with capture_logs() as logs:
        response = await client.post("/v1/alerts/generic", content=GENERIC, headers=headers)
    assert response.status_code == 401
    assert says in response.json()["error"] and TOKEN not in response.text
    lines = [e for e in logs if e["event"].startswith("ingest.")]
    assert [(e["event"], e["status"], e.get("detail")) for e in lines] == [
        ("ingest.refused", 401, detail)
    ]
    assert TOKEN not in repr(lines) and authorization.split()[-1] not in repr(lines)
    assert received(queues) == []


async def _status_within(
    client: httpx2.AsyncClient, token: str, want: int, timeout_s: float = 10.0
) -> int:
    """POST with `token` until the answer is `want` or `timeout_s` passes; the last status."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        response = await client.post(
            "/v1/alerts/generic", content=GENERIC, headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code == want or loop.time() > deadline:
            return response.status_code
        await asyncio.sleep(0.02)  # a poll's pace, not a wait for the outcome


async def test_a_rotation_through_secrets_manager_drops_no_webhook(queues: Queues) -> None:
    """The documented rotation: list the next token beside the current one, move the senders,
    then drop the current one. Senders holding the current token pass throughout the overlap,
    the next passes once listed, and the dropped one is refused once the tokens are re-read."""
    secrets = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    secrets.create_secret(Name="triage/rotation", SecretString=json.dumps({"generic": TOKEN}))
    settings = ingest_settings(
        queues.url,
        queues.endpoint,
        ingest_tokens=None,
        ingest_tokens_secret_id="triage/rotation",
        ingest_tokens_ttl_s=0.05,
        ingest_tokens_refresh_s=0.01,
    )
    async with running(settings) as service, loopback_client(service.port) as client:
        assert await _status_within(client, NEXT, 401, timeout_s=0) == 401
        overlap = json.dumps({"generic": [TOKEN, NEXT]})
        secrets.put_secret_value(SecretId="triage/rotation", SecretString=overlap)
        assert await _status_within(client, NEXT, 202) == 202
        assert await _status_within(client, TOKEN, 202, timeout_s=0) == 202
        secrets.put_secret_value(
            SecretId="triage/rotation", SecretString=json.dumps({"generic": NEXT})
        )
        assert await _status_within(client, TOKEN, 401) == 401
        assert await _status_within(client, NEXT, 202, timeout_s=0) == 202


async def test_a_rotation_to_refused_tokens_keeps_the_old_ones_and_says_why(
    queues: Queues,
) -> None:
    """Tokens put in the secret after start-up that the gateway refuses (here one token for two
    sources) leave the tokens read before serving; the credential that made it re-read matches none
    of them: 401, not a 503 a sender would retry for ever; and one `ingest.tokens_refused` line says why, never quoting a token."""
    secrets = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    secrets.create_secret(Name="triage/bad-rotation", SecretString=json.dumps({"generic": TOKEN}))
    settings = ingest_settings(
        queues.url,
        queues.endpoint,
        ingest_tokens=None,
        ingest_tokens_secret_id="triage/bad-rotation",
        ingest_tokens_refresh_s=0.01,
    )
    shared = json.dumps({"generic": [TOKEN, NEXT], "grafana": NEXT})
    async with running(settings) as service, loopback_client(service.port) as client:
        secrets.put_secret_value(SecretId="triage/bad-rotation", SecretString=shared)
        with capture_logs() as logs:
            assert await _status_within(client, NEXT, 401, timeout_s=0) == 401
        assert await _status_within(client, TOKEN, 202, timeout_s=0) == 202
    lines = [e for e in logs if e["event"] == "ingest.tokens_refused"]
    assert [e["error"] for e in lines] == [
        "TRIAGE_INGEST_TOKENS_SECRET_ID: the generic and grafana tokens are the same: "
        "each source needs its own"
    ]
    assert TOKEN not in repr(logs) and NEXT not in repr(logs)


@pytest.mark.parametrize(
    "credential",
    [TOKEN.encode() + "é".encode(), TOKEN.encode() + b"\xff", "é".encode() * 8],
    ids=["utf-8", "not-utf-8", "only-non-ascii"],
)
async def test_a_credential_with_bytes_beyond_ascii_is_a_plain_401(
    gateway: IngestService, queues: Queues, credential: bytes
) -> None:
    """A Bearer credential holding bytes beyond ASCII (UTF-8 or not) is compared as bytes and
    refused 401 like any wrong one, with one line that holds none of it."""
    head = b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    head += b"Authorization: Bearer " + credential + b"\r\n"
    head += f"Content-Length: {len(GENERIC)}\r\n\r\n".encode()
    with capture_logs() as logs:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(head + GENERIC)
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:80]
    lines = [e for e in logs if e["event"].startswith("ingest.")]
    assert [(e["event"], e["status"], e["reason"]) for e in lines] == [
        ("ingest.refused", 401, "unauthorized")
    ]
    assert TOKEN not in repr(lines) and "é" not in repr(lines)
    assert received(queues) == []
