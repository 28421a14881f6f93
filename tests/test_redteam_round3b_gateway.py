"""Red team round 3b: credentials and bodies at `triage ingest` that no earlier test sent:
credential-like names in a query string's alert, a token header spelt with underscores, a
token in another Unicode case or normalisation, a credential in a chunked body's trailer, a
compressed multipart bomb, and a signature written in upper-case hex. What must hold: a clear
status, nothing queued that should not be, no secret queued or logged."""

from __future__ import annotations

import asyncio
import gzip
import time
import unicodedata

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, payload, sentry_headers
from test_ingest_hostile import read_answer
from triage.ingest import IngestService

GENERIC = payload("generic/firing.json")
SECRET_VALUE = "s3cr3t-value-that-must-not-leave-0042"


def bodies(queues: Queues) -> list[str]:
    """The bodies now on the queue (left in place: visibility 0)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [m["Body"] for m in response.get("Messages", [])]


async def exchange(port: int, request: bytes) -> tuple[int, bytes]:
    """Send `request` whole; the first answer's status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await read_answer(reader)
        return answer.status, answer.body
    finally:
        writer.close()


def post(path: str, headers: bytes, body: bytes) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n".encode()
    return head + headers + b"\r\n" + body


#: Names the redactor itself calls a credential's (`triage.redact.secret_named`), beside
#: `token`.
CREDENTIAL_NAMES = [
    "access_token", "api_key", "apikey", "api-key", "password", "secret", "client_secret",
    "auth", "authorization", "private_key", "X-Auth-Token",
]  # fmt: skip


async def send_fields(port: int, name: str, how: str) -> int:
    """An alert's fields with `name`=SECRET_VALUE beside them, sent `how`: as a GET's query
    string or as a urlencoded form; the answer's status."""
    fields = f"title=disk+full&{name}={SECRET_VALUE}"
    auth = f"Authorization: Bearer {TOKENS['generic']}\r\n"
    if how == "query":
        request = f"GET /v1/alerts/generic?{fields} HTTP/1.1\r\nHost: x\r\n{auth}\r\n".encode()
    else:
        headers = (auth + "Content-Type: application/x-www-form-urlencoded\r\n").encode()
        request = post("/v1/alerts/generic", headers, fields.encode())
    status, _ = await exchange(port, request)
    return status


@pytest.mark.parametrize("name", ["token", "TOKEN"])
async def test_a_token_parameter_is_never_queued(
    name: str, gateway: IngestService, queues: Queues
) -> None:
    """`token=` (any case) in a query string's alert is dropped, neither queued nor logged."""
    with capture_logs() as logs:
        status = await send_fields(gateway.port, name, "query")
    assert status == 202
    assert not any(SECRET_VALUE in b for b in bodies(queues)), bodies(queues)
    assert SECRET_VALUE not in str(logs)


@pytest.mark.parametrize("how", ["query", "form"])
@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
async def test_a_credential_fields_value_is_never_logged(
    name: str, how: str, gateway: IngestService
) -> None:
    """An alert's fields beside one named as a credential (`api_key`, `password`, ...): its
    value is never logged by the gateway, whatever it queues."""
    with capture_logs() as logs:
        status = await send_fields(gateway.port, name, how)
    assert status == 202
    assert SECRET_VALUE not in str(logs)


@pytest.mark.parametrize(
    ("name", "how"),
    [("token", "form"), ("TOKEN", "form")]
    + [(name, how) for name in CREDENTIAL_NAMES for how in ("query", "form")],
)
async def test_a_credential_fields_value_is_never_queued(
    name: str, how: str, gateway: IngestService, queues: Queues
) -> None:
    """An alert sent as a query string (UptimeRobot's GET webhooks) or a form, beside a field
    named as a credential (`api_key`, `access_token`, `password`: names the redactor itself
    treats as a secret's): its value is not queued, as `token=` is not, and as a credential
    field beside a form's `payload` JSON is not (README: "A credential field's value is never
    queued"). The gateway writes this JSON itself, so nothing byte-for-byte is at stake."""
    assert await send_fields(gateway.port, name, how) == 202
    assert not any(SECRET_VALUE in b for b in bodies(queues)), bodies(queues)


@pytest.mark.parametrize(
    "header",
    ["X_Grafana_Token", "X-Grafana_Token", "x_grafana_token", "Authorization_", "Authorization "],
)
async def test_a_token_header_spelt_with_underscores_is_no_credential(
    header: str, gateway: IngestService, queues: Queues
) -> None:
    """`X_Grafana_Token` (nginx drops such names, some proxies map `_` to `-`): never read as
    the token header, so a proxy's view of who authenticated cannot differ from the
    gateway's: 401 (or 400 for a name that is no token), nothing queued."""
    value = TOKENS["grafana"] if "Grafana" in header or "grafana" in header else "Bearer "
    value += TOKENS["grafana"] if header.startswith("Authorization") else ""
    headers = f"{header}: {value}\r\nContent-Type: application/json\r\n".encode()
    status, body = await exchange(
        gateway.port, post("/v1/alerts/grafana", headers, payload("grafana/group-firing.json"))
    )
    assert status in (400, 401), (header, status)
    assert TOKENS["grafana"].encode() not in body
    assert bodies(queues) == []


def unicode_variants(token: str) -> dict[str, bytes]:
    """The token in other cases and Unicode forms, as the bytes a client would send."""
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in token)
    return {
        "upper": token.upper().encode(),
        "title": token.title().encode(),
        "fullwidth utf-8": fullwidth.encode(),
        "fullwidth nfkc": unicodedata.normalize("NFKC", fullwidth).encode() + b"\xc2\xa0",
        "latin-1 e acute": token.replace("e", "\xe9", 1).encode("latin-1"),
        "combining": (token + "\u0301").encode(),
        "dotless i": token.replace("i", "\u0131", 1).encode(),
        "kelvin": (token.replace("k", "\u212a", 1)).encode(),
    }


@pytest.mark.parametrize("variant", sorted(unicode_variants(TOKENS["generic"])))
async def test_a_token_in_another_case_or_unicode_form_is_401(
    variant: str, gateway: IngestService, queues: Queues
) -> None:
    """A token differing only in case, or written with characters that fold or normalise to
    it (fullwidth letters, the Kelvin sign, a dotless i, a combining accent), or as raw
    non-ASCII bytes in the header: 401 with no detail, never a 500, nothing queued, and the
    bytes sent are never logged."""
    sent = unicode_variants(TOKENS["generic"])[variant]
    assert sent != TOKENS["generic"].encode()
    with capture_logs() as logs:
        status, body = await exchange(
            gateway.port,
            post("/v1/alerts/generic", b"Authorization: Bearer " + sent + b"\r\n", GENERIC),
        )
    assert status in (400, 401), (variant, status, body)
    assert bodies(queues) == []
    text = str(logs)
    assert TOKENS["generic"] not in text and TOKENS["generic"].upper() not in text


async def test_a_credential_in_a_chunked_trailer_authenticates_nothing(
    gateway: IngestService, queues: Queues
) -> None:
    """A chunked request with no credential in its head and a valid `Authorization` (and a
    `Content-Encoding`) in its trailer section: 401, nothing queued; a trailer never adds a
    header that decides anything."""
    head = b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = f"{len(GENERIC):x}\r\n".encode() + GENERIC + b"\r\n0\r\n"
    trailer = f"Authorization: Bearer {TOKENS['generic']}\r\nContent-Encoding: gzip\r\n\r\n"
    status, body = await exchange(gateway.port, head + chunk + trailer.encode())
    assert status == 401, (status, body)
    assert bodies(queues) == []


async def test_a_trailer_does_not_change_an_authenticated_requests_body(
    gateway: IngestService, queues: Queues
) -> None:
    """An authenticated chunked request whose trailer says `Content-Encoding: gzip` and
    `Content-Length: 1`: either refused (400, nothing queued) or the body read as its head
    framed it and queued byte for byte; never decoded or cut by the trailer."""
    head = b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    head += f"Authorization: Bearer {TOKENS['generic']}\r\n\r\n".encode()
    chunk = f"{len(GENERIC):x}\r\n".encode() + GENERIC + b"\r\n0\r\n"
    trailer = b"Content-Encoding: gzip\r\nContent-Length: 1\r\nX-Grafana-Token: x\r\n\r\n"
    status, body = await exchange(gateway.port, head + chunk + trailer)
    assert status in (202, 400), (status, body)
    assert bodies(queues) == ([GENERIC.decode()] if status == 202 else [])


def multipart_bomb(decoded_mib: int) -> bytes:
    """A multipart/form-data body with one `payload` field of `decoded_mib` MiB, gzipped."""
    boundary = b"XBOUNDARYX"
    part = b"--" + boundary + b'\r\nContent-Disposition: form-data; name="payload"\r\n\r\n'
    body = part + b'{"title": "' + b"a" * (decoded_mib << 20) + b'"}\r\n--' + boundary + b"--\r\n"
    return gzip.compress(body, 9)


async def test_a_gzipped_multipart_bomb_is_refused_without_holding_it(
    gateway: IngestService, queues: Queues
) -> None:
    """A gzip body of a few KiB that decodes to a 64 MiB multipart form: refused (413, or 400)
    once the decoded bytes pass 1 MiB, nothing queued, answered promptly."""
    bomb = multipart_bomb(64)
    assert len(bomb) < 200_000
    headers = f"Authorization: Bearer {TOKENS['generic']}\r\nContent-Encoding: gzip\r\n"
    headers += "Content-Type: multipart/form-data; boundary=XBOUNDARYX\r\n"
    status, _ = await exchange(gateway.port, post("/v1/alerts/generic", headers.encode(), bomb))
    assert status in (400, 413), status
    assert bodies(queues) == []


async def test_a_sentry_signature_in_upper_case_hex_is_taken_once(
    gateway: IngestService, queues: Queues
) -> None:
    """Sentry's signature written in upper-case hex (the same bytes): either taken or 401, and
    the same body signed in lower case after it is never queued a second time (the replay
    memory knows a signature by its value, not its spelling)."""
    body = payload("sentry/issue-created.json")
    lower = sentry_headers(body)
    upper = {**lower, "Sentry-Hook-Signature": lower["Sentry-Hook-Signature"].upper()}
    upper["Sentry-Hook-Timestamp"] = lower["Sentry-Hook-Timestamp"] = str(int(time.time()))
    statuses = []
    for headers in (upper, lower):
        text = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        statuses.append(
            (await exchange(gateway.port, post("/v1/alerts/sentry", text.encode(), body)))[0]
        )
    assert len(bodies(queues)) == 1, statuses
    assert statuses[1] in (200, 202), statuses


async def answers(port: int, request: bytes, expected: int) -> list[int]:
    """Statuses of up to `expected` answers to `request`, sent whole, until the gateway closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    got: list[int] = []
    try:
        writer.write(request)
        await writer.drain()
        for _ in range(expected):
            try:
                got.append((await read_answer(reader)).status)
            except (asyncio.IncompleteReadError, ConnectionResetError):
                break
        return got
    finally:
        writer.close()


GOOD = post(
    "/v1/alerts/generic", f"Authorization: Bearer {TOKENS['generic']}\r\n".encode(), GENERIC
)


@pytest.mark.parametrize(
    ("first", "status"),
    [
        (
            post(
                "/v1/alerts/generic",
                f"Authorization: Bearer {TOKENS['generic']}\r\n".encode(),
                b"{}",
            ),
            422,
        ),
        (
            post(
                "/v1/alerts/generic",
                f"Authorization: Bearer {TOKENS['generic']}\r\n".encode(),
                b"{nope",
            ),
            422,
        ),
        (post("/v1/alerts/nosuch", b"", b"{}"), 404),
        (
            post("/v1/alerts/generic", b"Authorization: Bearer wrong-token-000000000\r\n", GENERIC),
            401,
        ),
    ],
    ids=["no alert", "not json", "unknown source", "wrong token"],
)
async def test_a_request_pipelined_after_a_refusal_is_answered_or_closed_never_half_read(
    first: bytes, status: int, gateway: IngestService, queues: Queues
) -> None:
    """A good alert pipelined behind a refused one in one packet: the refusal comes first;
    the good one is then answered 202 and queued once, or the connection is closed without
    an answer (a refusal from the head closes it) and nothing of it is queued; never an
    answer for a request the gateway did not read whole."""
    got = await answers(gateway.port, first + GOOD, 2)
    assert got[:1] == [status], got
    queued = bodies(queues)
    if got[1:] == [202]:
        assert queued == [GENERIC.decode()]
    else:
        assert got[1:] == [] and queued == [], (got, queued)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Sentry-Hook-Resource", "issue\u202e<script>"),
        ("Sentry-Hook-Resource", "x" * 5000),
        ("traceparent", "00-" + "0" * 32 + "-" + "0" * 16 + "-01"),
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\u0000x"),
    ],
)
async def test_a_hostile_carried_header_is_not_queued_as_an_attribute(
    header: str, value: str, gateway: IngestService, queues: Queues
) -> None:
    """A `Sentry-Hook-Resource` or `traceparent` that is not well formed (markup and a bidi
    mark, 5,000 characters, an all-zero trace id, a NUL) is not carried as a message
    attribute; the alert is still queued."""
    raw = f"Authorization: Bearer {TOKENS['generic']}\r\n{header}: ".encode()
    raw += value.encode() + b"\r\n"
    status, body = await exchange(gateway.port, post("/v1/alerts/generic", raw, GENERIC))
    if status != 202:
        assert status == 400, (status, body)  # the parser's refusal of a NUL
        return
    response = queues.client().receive_message(
        QueueUrl=queues.url, MessageAttributeNames=["All"], VisibilityTimeout=0
    )
    (message,) = response["Messages"]
    attributes = message.get("MessageAttributes", {})
    carried = {k.lower(): v["StringValue"] for k, v in attributes.items()}
    assert value not in carried.values(), carried


async def test_a_signed_time_moved_into_the_body_is_never_queued(
    gateway: IngestService, queues: Queues
) -> None:
    """A capture of a Grafana delivery signed with its time (`<ts>:<body>`) replayed without
    the time header, the time and colon moved into the body so that the body-only signature
    matches: never queued (the body is no alert), whether the time is old or fresh."""
    import hashlib
    import hmac

    body = payload("grafana/group-firing.json")
    for stamp in (str(int(time.time()) - 3600), str(int(time.time()))):
        signed_text = stamp.encode() + b":" + body
        digest = hmac.new(TOKENS["grafana"].encode(), signed_text, hashlib.sha256).hexdigest()
        headers = f"X-Grafana-Alerting-Signature: {digest}\r\nContent-Type: application/json\r\n"
        status, _ = await exchange(
            gateway.port, post("/v1/alerts/grafana", headers.encode(), signed_text)
        )
        assert status in (400, 401, 422), (stamp, status)
    assert bodies(queues) == []


#: `token` spelt as a sender's template may spell it: whitespace around it, a NUL, PHP's
#: array brackets, a soft hyphen inside (percent-encoded as sent in a URL).
TOKEN_SPELLINGS = ["token%00", "%20token", "token%20", "token[]", "to%C2%ADken"]


@pytest.mark.parametrize("name", TOKEN_SPELLINGS)
async def test_a_token_parameter_spelt_oddly_is_never_logged(
    name: str, gateway: IngestService
) -> None:
    """`token` with space around it, a NUL, `[]` or a soft hyphen: its value is not logged."""
    with capture_logs() as logs:
        assert await send_fields(gateway.port, name, "query") == 202
    assert SECRET_VALUE not in str(logs)


@pytest.mark.parametrize("name", TOKEN_SPELLINGS)
async def test_a_token_parameter_spelt_oddly_is_never_queued(
    name: str, gateway: IngestService, queues: Queues
) -> None:
    """The query string's `token` spelt with whitespace around it, a NUL, PHP's `[]` or an
    invisible soft hyphen (what the redactor drops before it reads a name) is dropped as
    `token` is: the value is not queued."""
    assert await send_fields(gateway.port, name, "query") == 202
    assert not any(SECRET_VALUE in b for b in bodies(queues)), bodies(queues)
