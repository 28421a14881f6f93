"""Forms whose webhook JSON rides in one field among others (Slack- and Mattermost-style
`payload=` beside `token=` or `channel=`, Uptime Kuma's form-data `data=`, Librato's and
AppOptics' `payload=`), through the gateway's real HTTP server on 127.0.0.1 in front of moto:
queued as that JSON with the other fields beside it and a credential field dropped; forms read
today are read the same; hostile variants are answered clearly and queue nothing."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import bearer, payload
from triage.ingest.carried import carried_json
from triage.ingest.validate import REASON_MAX, check
from triage.normalize import normalize_body

GENERIC_TEXT = payload("generic/firing.json").decode()
GENERIC = json.loads(GENERIC_TEXT)
KUMA_FORM = json.loads(payload("uptimekuma/form-data-down.json"))
KUMA_TEXT = KUMA_FORM["data"]
#: A chat tool's verification token, as Slack and Mattermost post it beside their payload.
SLACK_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
URLENCODED = {"Content-Type": "application/x-www-form-urlencoded", **bearer("generic")}
BOUNDARY = "----triage-form-payload-1b9d"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", **bearer("generic")}
#: Librato's (and AppOptics') webhook JSON, as their documentation shows it: posted as the
#: form's single `payload` field, the format of the github-services webhooks.
LIBRATO = {
    "alert": {"id": 5846005, "name": "collectd.high.load", "runbook_url": "", "version": 2},
    "account": "ops@example.com",
    "trigger_time": 1444177459,
    "conditions": [{"id": 1150670, "type": "above", "threshold": 2, "duration": 300}],
    "violations": {"web-1": [{"metric": "collectd.load", "value": 7.19, "count": 31}]},
}


def queued(queues: Queues) -> list[str]:
    """The bodies now on the queue (left in place)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [m["Body"] for m in response.get("Messages", [])]


def multipart(fields: list[tuple[str, str]]) -> bytes:
    """A multipart/form-data body of text fields."""
    out = b""
    for name, value in fields:
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


async def post_form(
    client: httpx2.AsyncClient, fields: list[tuple[str, str]], kind: str
) -> httpx2.Response:
    """`fields` posted to the generic path as a urlencoded or a multipart form."""
    if kind == "urlencoded":
        return await client.post(
            "/v1/alerts/generic", content=urlencode(fields), headers=URLENCODED
        )
    return await client.post("/v1/alerts/generic", content=multipart(fields), headers=MULTIPART)


def fingerprints(body: str) -> list[str]:
    return [alert.fingerprint for alert in normalize_body(body).alerts]


FORMS = pytest.mark.parametrize("kind", ["urlencoded", "multipart"])


# --- Read as the JSON in the field ---------------------------------------------------------------


@FORMS
async def test_a_json_payload_beside_a_token_is_queued_as_that_json_without_the_token(
    client: httpx2.AsyncClient, queues: Queues, kind: str
) -> None:
    """Slack-style `payload=<json>&token=…` is queued as the JSON exactly as sent; the token's
    value is neither queued, answered nor logged."""
    with capture_logs() as logs:
        answer = await post_form(client, [("payload", GENERIC_TEXT), ("token", SLACK_TOKEN)], kind)
    assert answer.status_code == 202, answer.text
    assert queued(queues) == [GENERIC_TEXT]
    assert SLACK_TOKEN not in answer.text
    assert SLACK_TOKEN not in repr(logs)


@FORMS
async def test_a_json_payload_beside_other_fields_keeps_them_beside_its_json(
    client: httpx2.AsyncClient, queues: Queues, kind: str
) -> None:
    """Mattermost-style `channel=…&payload=<json>&token=…` is queued as the JSON with `channel`
    beside its keys, a credential field (`api_key`, any name that says secret) dropped, and a
    field the JSON already has keeping the JSON's value; the alert is the JSON's own."""
    fields = [
        ("channel", "alerts"),
        ("payload", GENERIC_TEXT),
        ("source", "not the alert's source"),
        ("api_key", "k-0123456789abcdef"),
    ]
    answer = await post_form(client, fields, kind)
    assert answer.status_code == 202, answer.text
    [body] = queued(queues)
    assert json.loads(body) == {**GENERIC, "channel": "alerts"}
    assert fingerprints(body) == fingerprints(GENERIC_TEXT)


@FORMS
async def test_uptime_kumas_form_data_is_queued_as_its_json(
    client: httpx2.AsyncClient, queues: Queues, kind: str
) -> None:
    """Uptime Kuma's form-data body (its JSON in the one field `data`) is queued as that JSON,
    the same incident as its JSON webhook."""
    answer = await post_form(client, [("data", KUMA_TEXT)], kind)
    assert answer.status_code == 202, answer.text
    assert queued(queues) == [KUMA_TEXT]
    assert fingerprints(KUMA_TEXT) != []


async def test_librato_s_payload_form_is_read_as_its_json(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """Librato's and AppOptics' form (`payload=<json>`) is read as that JSON: it is queued as
    the JSON alone, which the daemon reads as a `librato` alert."""
    answer = await post_form(client, [("payload", json.dumps(LIBRATO))], "urlencoded")
    assert answer.status_code == 202, answer.text
    assert [json.loads(body) for body in queued(queues)] == [LIBRATO]
    assert fingerprints(json.dumps(LIBRATO)) != []


# --- Forms read today are read the same ----------------------------------------------------------


async def test_a_form_read_as_its_fields_today_is_still_read_so(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A form that is an alert by its own fields, with JSON in a `data` field, and one whose
    `payload` holds text that is not JSON, are queued as the JSON of their fields, as before,
    without a credential field (`token`)."""
    with_json = [("title", "Disk full"), ("data", '{"host": "db-7"}'), ("token", "t")]
    with_text = [("title", "Disk full"), ("payload", "{not json"), ("channel", "ops")]
    for fields in (with_json, with_text):
        answer = await post_form(client, fields, "urlencoded")
        assert answer.status_code == 202, answer.text
    assert [json.loads(b) for b in queued(queues)] == [dict(with_json[:2]), dict(with_text)]


# --- Hostile variants ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        (
            [("payload", GENERIC_TEXT), ("data", GENERIC_TEXT)],
            "more than one field holds JSON (payload, data)",
        ),
        (
            [("payload", GENERIC_TEXT), ("payload", GENERIC_TEXT), ("token", "t")],
            "more than one field holds JSON (payload, payload)",
        ),
        (
            [("payload", json.dumps([GENERIC])), ("channel", "ops")],
            "the form's payload field holds a JSON array",
        ),
        (
            [("payload", json.dumps({"payload": urlencode(GENERIC)})), ("channel", "ops")],
            "the JSON in the form's payload field: unknown_format",
        ),
        (
            [("data", '{"n": 1}')] * 1000,
            "more than one field holds JSON (data, data and 998 more)",
        ),
    ],
    ids=["two-fields", "one-name-twice", "array", "nested-form", "a-thousand"],
)
async def test_hostile_json_fields_are_refused_clearly(
    client: httpx2.AsyncClient, queues: Queues, fields: list[tuple[str, str]], says: str
) -> None:
    """Two fields of JSON (a thousand: named two and counted), a JSON array beside other
    fields, and a form nested in the JSON (read once, never unwrapped again) are 422 naming
    why in one short line; nothing is queued."""
    with capture_logs() as logs:
        answer = await post_form(client, fields, "urlencoded")
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert says in error
    assert len(error) <= REASON_MAX
    assert queued(queues) == []
    [line] = [e for e in logs if e["event"] == "ingest.refused"]
    assert line["status"] == 422


async def test_a_field_of_a_mebibyte_is_refused_as_too_large(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A JSON field of 1 MiB beside a channel is 413, nothing queued."""
    big = json.dumps({**GENERIC, "description": "x" * (1024 * 1024)})
    answer = await post_form(client, [("payload", big), ("channel", "ops")], "urlencoded")
    assert answer.status_code == 413, answer.text
    assert queued(queues) == []


def test_a_json_field_is_looked_for_only_when_the_fields_are_no_alert() -> None:
    """In process: a form its fields make an alert is read by its fields even when one field
    holds another alert's JSON; the same form without the title is read as that JSON."""
    other = json.dumps({**GENERIC, "title": "another alert"})
    fields: list[tuple[str, Any]] = [("title", "Disk full"), ("payload", other)]
    as_fields = check("generic", urlencode(fields).encode(), None, str, form=True)
    assert json.loads(as_fields.text) == dict(fields)
    untitled = urlencode([("payload", other), ("x", "1")]).encode()
    as_json = check("generic", untitled, None, str, form=True)
    assert json.loads(as_json.text) == {**json.loads(other), "x": "1"}


def test_the_fields_beside_a_json_field_are_added_inside_its_braces() -> None:
    """In process: the other fields are added inside the JSON's closing brace, its own text
    (numbers no float holds, spacing) left as sent; an empty object takes them alone."""
    sent = '{"title":"Disk full","ratio":0.10000000000000000555,"n":12345678901234567890123}\n'
    fields = urlencode([("payload", sent), ("channel", "ops")]).encode()
    checked = check("generic", fields, None, str, form=True)
    assert checked.text == sent.rstrip()[:-1] + ',"channel": "ops"}'
    empty = carried_json([("payload", "{ }"), ("channel", "ops")])
    assert empty is not None
    assert empty.text == '{ "channel": "ops"}'


async def test_a_json_field_in_the_query_string_is_read_as_that_json(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A GET whose query holds `payload=<json>` beside `channel` (and a `?token=`, never a
    field) is queued as that JSON with `channel` beside its keys."""
    query = urlencode({"payload": GENERIC_TEXT, "channel": "ops", "token": SLACK_TOKEN})
    answer = await client.get(f"/v1/alerts/generic?{query}", headers=bearer("generic"))
    assert answer.status_code == 202, answer.text
    [body] = queued(queues)
    assert json.loads(body) == {**GENERIC, "channel": "ops"}
    assert SLACK_TOKEN not in body
