"""The request shapes the gateway reads besides a JSON body, through its real HTTP server on
127.0.0.1 in front of moto: an alert's fields in the query string (POST without a body, or GET;
a `?token=` is dropped, never queued, logged or taken as a credential), a multipart/form-data form, a form whose one field is a `payload`
of JSON, and UTF-16 JSON that says so by its byte-order mark; and the clear refusal of every
shape around them that it does not read."""

from __future__ import annotations

import codecs
import gzip
import json
from urllib.parse import urlencode

import httpx2
import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import (
    TOKENS,
    bearer,
    payload,
    sentry_headers,
)
from triage.normalize import normalize_body

UPTIMEROBOT = json.loads(payload("uptimerobot/down.json"))
GENERIC = payload("generic/firing.json")
TOKEN = TOKENS["generic"]


def queued(queues: Queues) -> list[str]:
    """The bodies now on the queue (left in place)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [m["Body"] for m in response.get("Messages", [])]


def uptimerobot_query(**extra: str) -> str:
    """UptimeRobot's alert as it sends it with "Send as query string", a token appended (as a
    user who put it in the URL did)."""
    return urlencode({**UPTIMEROBOT, "token": TOKEN, **extra})


def the_fingerprint(body: str) -> str:
    [alert] = normalize_body(body).alerts
    return alert.fingerprint


UPTIMEROBOT_FINGERPRINT = the_fingerprint(json.dumps(UPTIMEROBOT))


# --- The query string ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_an_alert_in_the_query_string_is_queued_as_its_fields_without_the_token(
    client: httpx2.AsyncClient, queues: Queues, method: str
) -> None:
    """UptimeRobot's alert sent as a query string, by POST without a body or by GET, is 202
    and queued as the JSON of its fields (the same incident as its JSON webhook); a `?token=`
    in it is in neither the queued body nor any log line, and a GET's answer is not cached."""
    with capture_logs() as logs:
        answer = await client.request(
            method, f"/v1/alerts/generic?{uptimerobot_query()}", headers=bearer("generic")
        )
    assert answer.status_code == 202, answer.text
    assert answer.json()["alerts"] == 1
    if method == "GET":
        assert answer.headers["Cache-Control"] == "no-store"
        # A GET that says its body is empty is a GET without one.
        zero = {**bearer("generic"), "Content-Length": "0"}
        again = await client.get(f"/v1/alerts/generic?{uptimerobot_query()}", headers=zero)
        assert again.status_code == 202, again.text
    bodies = queued(queues)
    assert [json.loads(body) for body in bodies] == [UPTIMEROBOT] * len(bodies)
    assert the_fingerprint(bodies[0]) == UPTIMEROBOT_FINGERPRINT
    assert TOKEN not in "".join(bodies)
    assert {e["event"] for e in logs} == {"ingest.accepted"}
    assert TOKEN not in repr(logs)


async def test_a_token_in_the_query_is_no_credential_and_the_401_says_where_it_goes(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """The right token as `?token=` (or `?TOKEN=`) without a header is 401 saying to send it as
    a header or the URL's user info, which is 202 (Basic, as a client sends `user:token@`); a
    401 without a query token keeps its bare answer; the token is never queued."""
    fields = urlencode(UPTIMEROBOT)
    for name in ("token", "TOKEN"):
        refused = await client.get(f"/v1/alerts/generic?{fields}&{name}={TOKEN}")
        assert refused.status_code == 401
        assert "query string is not read" in refused.json()["error"]
        assert TOKEN not in refused.text
    bare = await client.get(f"/v1/alerts/generic?{fields}")
    assert (bare.status_code, bare.json()["error"]) == (401, "unauthorized")
    assert queued(queues) == []
    url = f"http://triage:{TOKEN}@127.0.0.1:{client.base_url.port}/v1/alerts/generic"
    user_info = await client.get(f"{url}?{fields}&Token={TOKEN}")
    assert user_info.status_code == 202, user_info.text
    [body] = queued(queues)
    assert json.loads(body) == UPTIMEROBOT


async def test_a_body_wins_over_the_query(client: httpx2.AsyncClient, queues: Queues) -> None:
    """A POST with a body and `?monitorID=…&token=…` queues its body byte for byte: the
    query's fields are not merged into it, and its `ingest.accepted` line counts the fields
    left unread (the token is none of them), naming none."""
    with capture_logs() as logs:
        answer = await client.post(
            f"/v1/alerts/generic?{uptimerobot_query()}",
            content=GENERIC,
            headers={"Content-Type": "application/json", **bearer("generic")},
        )
    assert answer.status_code == 202, answer.text
    assert queued(queues) == [GENERIC.decode()]
    (accepted,) = [e for e in logs if e["event"] == "ingest.accepted"]
    assert accepted["query_ignored"] == len(UPTIMEROBOT)
    assert "monitorFriendlyName" not in repr(logs)


async def test_an_alert_read_from_the_query_leaves_nothing_unread(
    client: httpx2.AsyncClient,
) -> None:
    """A body-less POST whose query is its alert, and a POST with a body and no query, log no
    unread query fields."""
    with capture_logs() as logs:
        from_query = await client.post(
            f"/v1/alerts/generic?{uptimerobot_query()}", headers=bearer("generic")
        )
        plain = await client.post(
            "/v1/alerts/generic?token=x",
            content=GENERIC,
            headers={"Content-Type": "application/json", **bearer("generic")},
        )
    assert (from_query.status_code, plain.status_code) == (202, 202)
    lines = [e for e in logs if e["event"] == "ingest.accepted"]
    assert len(lines) == 2
    assert all("query_ignored" not in e for e in lines)


async def test_alertmanagers_api_path_counts_its_unread_query(client: httpx2.AsyncClient) -> None:
    """The API path never reads its query: a rule evaluator's array with `?title=…&x=…` is
    logged with the two fields left unread."""
    with capture_logs() as logs:
        answer = await client.post(
            "/api/v2/alerts?title=x&x=y",
            content=payload("prometheus/api-v2-firing.json"),
            headers=bearer("alertmanager"),
        )
    assert answer.status_code == 200, answer.text
    (accepted,) = [e for e in logs if e["event"] == "ingest.accepted"]
    assert accepted["query_ignored"] == 2


async def test_query_requests_the_gateway_does_not_read_are_refused_clearly(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A GET with a body (400), a HEAD (405), a GET or POST with no alert fields (422 saying
    where the alert goes), percent-escapes that are no UTF-8 (422) and more than 1,000
    parameters (400) are refused, naming why; nothing is queued."""
    auth = bearer("generic")
    with_body = await client.request(
        "GET", f"/v1/alerts/generic?{uptimerobot_query()}", content=GENERIC, headers=auth
    )
    assert with_body.status_code == 400
    assert "GET" in with_body.json()["error"]
    head = await client.head(f"/v1/alerts/generic?{uptimerobot_query()}", headers=auth)
    assert head.status_code == 405
    assert {m.strip() for m in head.headers["Allow"].split(",")} == {"GET", "POST"}
    for method in ("GET", "POST"):
        empty = await client.request(method, f"/v1/alerts/generic?token={TOKEN}", headers=auth)
        assert empty.status_code == 422, (method, empty.text)
        assert "query string" in empty.json()["error"]
    bad = await client.get("/v1/alerts/generic?monitorFriendlyName=%FF", headers=auth)
    assert bad.status_code == 422
    assert "not UTF-8" in bad.json()["error"]
    many = await client.get("/v1/alerts/generic?" + "a=1&" * 1001, headers=auth)
    assert many.status_code == 400
    assert "1,000" in many.json()["error"]
    assert queued(queues) == []


async def test_sentrys_query_is_never_read_and_it_takes_no_get(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """Sentry's signature covers the body only: an empty body signed, with alert fields in the
    query, is 422 (the fields would pass unsigned); a GET to Sentry's path is 405."""
    fields = urlencode({"title": "forged", "dedup_key": "x"})
    signed_empty = await client.post(f"/v1/alerts/sentry?{fields}", headers=sentry_headers(b""))
    assert signed_empty.status_code == 422, signed_empty.text
    get = await client.get(f"/v1/alerts/sentry?{fields}", headers=sentry_headers(b""))
    assert get.status_code == 405
    assert get.headers["Allow"] == "POST"
    assert queued(queues) == []


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
async def test_a_source_that_does_not_exist_allows_no_method(
    client: httpx2.AsyncClient, method: str
) -> None:
    """HEAD or OPTIONS on `/v1/alerts/<not a source>` is 404, as GET and POST there are: no
    405 naming methods that path does not take either."""
    answer = await client.request(method, "/v1/alerts/pagerduty", headers=bearer("generic"))
    assert answer.status_code == 404
    assert "Allow" not in answer.headers


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "OPTIONS"])
@pytest.mark.parametrize("path", ["/v1/alerts/sentry", "/v1/alerts/sentr%79"])
async def test_sentrys_path_allows_only_post(
    client: httpx2.AsyncClient, method: str, path: str
) -> None:
    """Every method but POST on Sentry's path (its name percent-escaped too) is 405 with
    `Allow: POST`: the header names only what the path takes, never the GET other sources'
    paths take."""
    answer = await client.request(method, path, headers=sentry_headers(b""))
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"


async def test_alertmanagers_api_path_never_reads_its_query(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A rule evaluator's array posted to `/api/v2/alerts?title=…` is queued as sent, the query
    not read; an empty body there is 422, not the query's fields; a GET there is 405."""
    alerts = payload("prometheus/api-v2-firing.json")
    auth = bearer("alertmanager")
    answer = await client.post("/api/v2/alerts?title=x", content=alerts, headers=auth)
    assert answer.status_code == 200, answer.text
    assert queued(queues) == [alerts.decode()]
    empty = await client.post("/api/v2/alerts?title=x&dedup_key=y", headers=auth)
    assert empty.status_code == 422
    get = await client.get("/api/v2/alerts?title=x", headers=auth)
    assert get.status_code == 405


# --- multipart/form-data -------------------------------------------------------------------------

BOUNDARY = "----triage-test-7MA4YWxkTrZu0gW"


def multipart(
    parts: list[tuple[str, bytes, dict[str, str]]], boundary: str = BOUNDARY, close: bool = True
) -> bytes:
    """A multipart/form-data body: each part a (disposition params, value, extra headers)."""
    out = b""
    for disposition, value, headers in parts:
        out += f"--{boundary}\r\n".encode()
        out += f"Content-Disposition: form-data; {disposition}\r\n".encode()
        out += b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
        out += b"\r\n" + value + b"\r\n"
    if close:
        out += f"--{boundary}--\r\n".encode()
    return out


def field(name: str, value: str | bytes, **headers: str) -> tuple[str, bytes, dict[str, str]]:
    data = value.encode() if isinstance(value, str) else value
    return (f'name="{name}"', data, headers)


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", **bearer("generic")}


async def test_a_multipart_form_is_queued_as_the_json_of_its_fields(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """UptimeRobot's fields posted as multipart/form-data (gzip-encoded too) are 202 and
    queued as the JSON object of the fields, the same incident as the JSON webhook."""
    body = multipart([field(name, value) for name, value in UPTIMEROBOT.items()])
    plain = await client.post("/v1/alerts/generic", content=body, headers=MULTIPART)
    assert plain.status_code == 202, plain.text
    compressed = await client.post(
        "/v1/alerts/generic",
        content=gzip.compress(body),
        headers={**MULTIPART, "Content-Encoding": "gzip"},
    )
    assert compressed.status_code == 202, compressed.text
    bodies = queued(queues)
    assert [json.loads(b) for b in bodies] == [UPTIMEROBOT, UPTIMEROBOT]
    assert {the_fingerprint(b) for b in bodies} == {UPTIMEROBOT_FINGERPRINT}


async def test_a_form_whose_one_field_is_a_json_payload_is_queued_as_that_json(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A form (multipart, or urlencoded as GitHub's and Travis's form webhooks post) whose only
    field is `payload`, holding JSON, is queued as that JSON: the generic alert it carries."""
    text = GENERIC.decode()
    as_multipart = multipart([field("payload", text, **{"Content-Type": "application/json"})])
    first = await client.post("/v1/alerts/generic", content=as_multipart, headers=MULTIPART)
    assert first.status_code == 202, first.text
    urlencoded = {"Content-Type": "application/x-www-form-urlencoded", **bearer("generic")}
    second = await client.post(
        "/v1/alerts/generic", content=urlencode({"payload": text}), headers=urlencoded
    )
    assert second.status_code == 202, second.text
    assert queued(queues) == [text, text]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "says"),
    [
        (
            multipart([field("payload", "{}"), ('name="thumb"; filename="a.png"', b"\x89PNG", {})]),
            f"multipart/form-data; boundary={BOUNDARY}",
            415,
            "file",
        ),
        (
            multipart([field("a", "1")], close=False),
            f"multipart/form-data; boundary={BOUNDARY}",
            400,
            "closing boundary",
        ),
        (
            multipart([field("a", b"--x--", **{"Content-Type": "multipart/mixed; boundary=x"})]),
            f"multipart/form-data; boundary={BOUNDARY}",
            400,
            "nested multipart",
        ),
        (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\n1\r\n"
            f"--{BOUNDARY}--\r\n".encode(),
            f"multipart/form-data; boundary={BOUNDARY}",
            400,
            "line",
        ),
        (b"", "multipart/form-data", 400, "boundary"),
        (b"", 'multipart/form-data; boundary="a\\"b"', 400, "boundary"),
        (b"", f"multipart/mixed; boundary={BOUNDARY}", 415, "multipart/mixed"),
    ],
    ids=["file", "no-close", "nested", "bare-lf", "no-boundary", "bad-boundary", "mixed"],
)
async def test_multipart_bodies_the_gateway_does_not_read_are_refused_clearly(
    client: httpx2.AsyncClient,
    queues: Queues,
    body: bytes,
    content_type: str,
    status: int,
    says: str,
) -> None:
    """A file part (415), a body without its closing boundary (400), a nested multipart (400),
    a part head with a bare LF (400), no or a malformed boundary (400, from the head) and
    another multipart type (415) are refused naming why; nothing is queued."""
    headers = {**bearer("generic"), "Content-Type": content_type}
    with capture_logs() as logs:
        answer = await client.post("/v1/alerts/generic", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert says in answer.json()["error"]
    assert queued(queues) == []
    [line] = [e for e in logs if e["event"] == "ingest.refused"]
    assert line["status"] == status


# --- Byte-order marks ----------------------------------------------------------------------------


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8])
async def test_json_led_by_a_byte_order_mark_is_read_in_the_encoding_it_names(
    client: httpx2.AsyncClient, queues: Queues, bom: bytes
) -> None:
    """JSON in UTF-16 (either order) or UTF-8 behind its byte-order mark and no charset (what
    PowerShell's and .NET's writers send) is 202, queued as that text in UTF-8."""
    codec = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}.get(bom, "utf-8")
    text = GENERIC.decode()
    answer = await client.post(
        "/v1/alerts/generic",
        content=bom + text.encode(codec),
        headers={**bearer("generic"), "Content-Type": "application/json"},
    )
    assert answer.status_code == 202, answer.text
    [body] = queued(queues)
    assert json.loads(body.lstrip("\ufeff")) == json.loads(text)


# --- Batches of alerts: NDJSON, or a JSON array (log shippers' HTTP outputs) ---------------------


def script_alert(n: int) -> dict[str, str]:
    return {"title": f"disk {n} full", "dedup_key": f"disk-{n}", "severity": "high"}


def every_queued(queues: Queues, count: int) -> list[str]:
    """The distinct bodies on the queue, received until `count` are seen (or 20 receives)."""
    bodies: list[str] = []
    for _ in range(20):
        bodies += queued(queues)
        bodies = sorted(set(bodies))
        if len(bodies) >= count:
            break
    return bodies


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        ("".join(json.dumps(script_alert(n)) + "\n" for n in range(3)), None),
        ("\r\n".join(json.dumps(script_alert(n)) for n in range(3)) + "\r\n\r\n", None),
        ("[" + ", ".join(json.dumps(script_alert(n)) for n in range(3)) + "]\n", None),
        ("".join(json.dumps(script_alert(n)) + "\n" for n in range(3)), "gzip"),
        ("\n".join(json.dumps(script_alert(n), indent=2) for n in range(3)), None),
    ],
    ids=["ndjson", "ndjson-crlf", "array", "ndjson-gzip", "concatenated-pretty"],
)
async def test_a_batch_of_script_alerts_is_queued_one_message_each(
    client: httpx2.AsyncClient, queues: Queues, body: str, encoding: str | None
) -> None:
    """NDJSON (Vector's `newline_delimited` framing, Fluent Bit's json_lines), a JSON array of
    alert objects (Vector's json, Logstash's json_batch) or pretty objects one after another,
    gzip-encoded too, on the generic path: 202 with every alert counted, each alert queued as
    its own message, its text as sent."""
    headers = {**bearer("generic"), "Content-Type": "application/x-ndjson"}
    data = body.encode()
    if encoding:
        data, headers["Content-Encoding"] = gzip.compress(data), encoding
    answer = await client.post("/v1/alerts/generic", content=data, headers=headers)
    assert answer.status_code == 202, answer.text
    assert (answer.json()["alerts"], answer.json()["messages"]) == (3, 3)
    bodies = every_queued(queues, 3)
    assert sorted(json.loads(b)["dedup_key"] for b in bodies) == ["disk-0", "disk-1", "disk-2"]
    assert all(b in body for b in bodies)  # each as sent, not written again


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (
            json.dumps(script_alert(1)) + "\n" + '{"title": ""}\n',
            422,
            "alert 2 of 2: invalid: title is missing or empty",
        ),
        (json.dumps(script_alert(1)) + '\n{"title": "x"\n', 422, "alert 2 is not valid JSON"),
        (json.dumps(script_alert(1)) + "\n[1]\n", 422, "alert 2 is not a JSON object"),
        ("[" + ", ".join([json.dumps(script_alert(1))] * 101) + "]", 413, "more than 100"),
        ("".join(json.dumps(script_alert(1)) + "\n" for _ in range(101)), 413, "more than 100"),
        (payload("prometheus/api-v2-firing.json").decode(), 422, "wrong_source"),
        (json.dumps(script_alert(1)) + " " + json.dumps(script_alert(2)), 422, "not valid JSON"),
    ],
    ids=[
        "invalid-alert",
        "broken-line",
        "not-object",
        "array-101",
        "ndjson-101",
        "prom",
        "same-line",
    ],
)
async def test_a_batch_with_a_bad_alert_is_refused_whole_naming_it(
    client: httpx2.AsyncClient, queues: Queues, body: str, status: int, says: str
) -> None:
    """A batch with one alert the daemon cannot read, a line that is no JSON object, or over
    100 alerts is refused whole, naming which and why, nothing queued; a Prometheus array on
    the generic path is still its wrong-source 422, and two objects on one line are no batch."""
    answer = await client.post("/v1/alerts/generic", content=body, headers=bearer("generic"))
    assert answer.status_code == status, answer.text
    assert says in answer.json()["error"]
    assert queued(queues) == []


async def test_a_batch_is_read_only_on_the_generic_and_threshold_paths(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """Grafana's path reads one webhook per request: NDJSON there is 422, as before."""
    grafana = payload("grafana/group-firing.json").decode().replace("\n", " ")
    answer = await client.post(
        "/v1/alerts/grafana", content=f"{grafana}\n{grafana}\n", headers=bearer("grafana")
    )
    assert answer.status_code == 422, answer.text
    assert queued(queues) == []
