"""The gateway queues no form or query-string field whose value the redactor blanks by the name
it stands under (its name alone, or its name and its value's shape: `named_value_secret`), in
every way fields reach the queue (a urlencoded form, a multipart one, a blank request's query
string, the fields beside a carried `payload` JSON); the values the redactor keeps are queued;
the answer and the `ingest.accepted` line name what was dropped. Through the gateway's real
HTTP server on 127.0.0.1 in front of moto, and in-process against the redactor itself."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest

from daemon_harness import Queues
from ingest_harness import bearer, payload
from triage.ingest.credentials import credential_field, sift
from triage.ingest.query import read_query
from triage.ingest.validate import fields_json
from triage.redact import Redactor

#: A password that only the name it stands under says is one.
PASSWORD = "Xk7pL2mR9tQwE4rT"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJvcHMtYm90IiwiaWF0IjoxNzAwMDAwMDAwfQ"
    ".Qm9aV3p0c0xqS2ZyTk1wWmRHdXZiVjhhR2s1cE5qTmhPRGc"
)
#: Fields the redactor blanks by the name and the value's shape together, though the name
#: alone is no secret's; and one whose camel-case name says secret only as written.
SHAPED = {
    "pass": PASSWORD,
    "jwt": JWT,
    "bearer": "Bq7wT2nX9kL4mZ8rV3cY6pH1sD5fG0jA2eU7iO4",
    "ssh_key": PASSWORD,
    "kubeconfig": PASSWORD,
    "community": PASSWORD,
    "session": "s3cr3t-s3ss10n-v4lu3-9f2k",
    "accessKeySecret": PASSWORD,
}
#: The same names with values the redactor keeps under them: a test's count, a shift, a
#: setting, SNMP's default community, a key file's path.
KEPT = {
    "pass": "142",
    "session": "morning",
    "jwt": "RS256",
    "community": "public",
    "ssh_key": "~/.ssh/id_rsa",
}
URLENCODED = {"Content-Type": "application/x-www-form-urlencoded", **bearer("generic")}
BOUNDARY = "----triage-round4-fields-7c1e"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", **bearer("generic")}
GENERIC_TEXT = payload("generic/firing.json").decode()


def multipart(fields: list[tuple[str, str]]) -> bytes:
    """A multipart/form-data body of text fields."""
    out = b""
    for name, value in fields:
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


async def post(client: httpx2.AsyncClient, fields: list[tuple[str, str]], way: str) -> Any:
    """`fields` sent to the generic path `way`: as a urlencoded form, a multipart one, or the
    query string of a blank POST; the 202's JSON."""
    if way == "urlencoded":
        answer = await client.post(
            "/v1/alerts/generic", content=urlencode(fields), headers=URLENCODED
        )
    elif way == "multipart":
        answer = await client.post(
            "/v1/alerts/generic", content=multipart(fields), headers=MULTIPART
        )
    else:
        answer = await client.post(
            f"/v1/alerts/generic?{urlencode(fields)}", headers=bearer("generic")
        )
    assert answer.status_code == 202, answer.text
    return answer.json()


def queued(queues: Queues) -> list[str]:
    """Every body on the queue, each once (received until none is left; they stay hidden)."""
    bodies: dict[str, str] = {}
    while True:
        answer = queues.client().receive_message(
            QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=300
        )
        if not answer.get("Messages"):
            return list(bodies.values())
        bodies |= {m["MessageId"]: m["Body"] for m in answer["Messages"]}


WAYS = pytest.mark.parametrize("way", ["urlencoded", "multipart", "query"])


@WAYS
async def test_a_field_secret_by_its_name_and_shape_is_never_queued(
    client: httpx2.AsyncClient, queues: Queues, way: str
) -> None:
    """Each field the redactor blanks by its name and its value's shape (`pass`, `jwt`,
    `bearer`, `ssh_key`, `kubeconfig`, `community`, `session`, `accessKeySecret`) is dropped:
    the alert is queued with its title and without the value."""
    for name, value in SHAPED.items():
        await post(client, [("title", f"disk full ({name})"), (name, value)], way)
    bodies = [json.loads(body) for body in queued(queues)]
    assert sorted(body["title"] for body in bodies) == sorted(f"disk full ({n})" for n in SHAPED)
    assert [body for body in bodies if set(body) != {"title"}] == []


@WAYS
async def test_a_value_the_redactor_keeps_is_queued(
    client: httpx2.AsyncClient, queues: Queues, way: str
) -> None:
    """`pass=142`, `session=morning`, `jwt=RS256`, `community=public` and a key file's path
    stay fields of the queued alert, and the answer names nothing dropped."""
    answer = await post(client, [("title", "batch done"), *KEPT.items()], way)
    [body] = queued(queues)
    assert json.loads(body) == {"title": "batch done", **KEPT}
    assert "dropped_fields" not in answer


@pytest.mark.parametrize("way", ["urlencoded", "multipart"])
async def test_a_shaped_field_beside_a_carried_payload_is_not_queued(
    client: httpx2.AsyncClient, queues: Queues, way: str
) -> None:
    """A `payload` field's JSON queued with the form's other fields beside its keys keeps
    `channel` there and drops `pass` and `session` holding secrets' shapes."""
    fields = [
        ("channel", "alerts"),
        ("payload", GENERIC_TEXT),
        ("pass", PASSWORD),
        ("session", SHAPED["session"]),
    ]
    answer = await post(client, fields, way)
    [body] = queued(queues)
    assert json.loads(body) == {**json.loads(GENERIC_TEXT), "channel": "alerts"}
    assert answer["dropped_fields"] == ["pass", "session"]


async def test_a_value_beside_carried_json_naming_a_secret_is_not_queued(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A `payload` JSON that names a secret (`"name": "DB_PASSWORD"`) with the form's `value`
    field beside it would be a name/value object the redactor blanks: it is queued without
    the value, and the answer names it."""
    carried = json.dumps({"title": "rotate", "name": "DB_PASSWORD"})
    answer = await post(client, [("payload", carried), ("value", PASSWORD)], "urlencoded")
    [body] = queued(queues)
    assert json.loads(body) == json.loads(carried)
    assert answer["dropped_fields"] == ["value"]


@pytest.mark.parametrize(
    "name",
    ["PASS", " pass", "pass[]", "pa\u200bss", "AccessKeySecret", "access_key_secret"],
)
async def test_a_name_spelt_loosely_is_dropped_as_it_reads(
    client: httpx2.AsyncClient, queues: Queues, name: str
) -> None:
    """A shaped name in other case, with a space, a PHP `[]` or an invisible character in it,
    or a secret's name in camel case, is dropped as the name it reads as."""
    await post(client, [("title", "disk full"), (name, PASSWORD)], "urlencoded")
    [body] = queued(queues)
    assert PASSWORD not in body


async def test_a_name_value_form_naming_a_secret_loses_its_value(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A form that is a name/value object whose name says secret (`name=DB_PASSWORD&value=…`)
    is queued without the value; one naming no secret keeps it."""
    await post(client, [("title", "t1"), ("name", "DB_PASSWORD"), ("value", PASSWORD)], "query")
    await post(client, [("title", "t2"), ("name", "DB_HOST"), ("value", "db-1")], "query")
    bodies = {b["title"]: b for b in map(json.loads, queued(queues))}
    assert bodies["t1"] == {"title": "t1", "name": "DB_PASSWORD"}
    assert bodies["t2"] == {"title": "t2", "name": "DB_HOST", "value": "db-1"}


async def test_a_header_pair_sent_as_one_name_twice_loses_its_value(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """`h=Authorization&h=Bearer …` (a [name, value] pair the redactor blanks) is queued as
    `h=Authorization` alone."""
    fields = [("title", "t"), ("h", "Authorization"), ("h", f"Bearer {PASSWORD}")]
    await post(client, fields, "urlencoded")
    [body] = queued(queues)
    assert json.loads(body) == {"title": "t", "h": "Authorization"}


@WAYS
async def test_the_answer_and_the_line_name_the_dropped_fields(
    client: httpx2.AsyncClient,
    queues: Queues,
    logs: list[MutableMapping[str, Any]],
    way: str,
) -> None:
    """The 202 and the `ingest.accepted` line name each dropped field once, in the order sent
    (a credential by its name, a shaped one by its value), and hold no dropped value."""
    fields = [("title", "t"), ("api_key", PASSWORD), ("pass", PASSWORD), ("api_key", "k2")]
    answer = await post(client, fields, way)
    [line] = [e for e in logs if e["event"] == "ingest.accepted"]
    assert answer["dropped_fields"] == ["api_key", "pass"]
    assert line["dropped_fields"] == ["api_key", "pass"]
    assert PASSWORD not in json.dumps(answer) + repr(line)


async def test_a_dropped_name_holding_a_secret_is_shown_redacted(
    client: httpx2.AsyncClient, queues: Queues, logs: list[MutableMapping[str, Any]]
) -> None:
    """A dropped field's name is hostile text: one holding a token is redacted in the answer
    and the line."""
    token = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    name = f"{token}_password"
    answer = await post(client, [("title", "t"), (name, PASSWORD)], "urlencoded")
    [line] = [e for e in logs if e["event"] == "ingest.accepted"]
    assert len(answer["dropped_fields"]) == 1
    assert token not in json.dumps(answer) + repr(line)


# --- in-process: the gateway's rule is the redactor's ----------------------------------------


#: Forms whose every field the redactor keeps or blanks by its name: a mix of each rule.
FORMS: list[list[tuple[str, str]]] = [
    [("title", "t"), *SHAPED.items(), *KEPT.items()],
    [("title", "t"), ("name", "DB_PASSWORD"), ("value", PASSWORD)],
    [("title", "t"), ("key", "api_key"), ("Value", PASSWORD)],
    [("title", "t"), ("h", "password"), ("h", PASSWORD)],
    [("title", "t"), ("password", "YES"), ("token", PASSWORD), ("api_key", "")],
]


@pytest.mark.parametrize("fields", FORMS)
def test_the_redactor_blanks_nothing_the_gateway_queues(fields: list[tuple[str, str]]) -> None:
    """The JSON a form is queued as (`fields_json`) is left with no value the redactor's
    `value` blanks by its name, and sifting it again drops nothing more."""
    queued_json = json.loads(fields_json(fields))
    shown = Redactor().value(queued_json)
    assert "[REDACTED:password]" not in json.dumps(shown)
    kept = sift(fields).kept
    assert sift(kept).kept == kept


def test_before_authentication_only_the_name_is_asked() -> None:
    """The query string read from the head (unauthenticated) drops a credential's name, not a
    shaped value, which costs more: `pass` is still a field there, dropped by `sift` later."""
    query = read_query(urlencode({"title": "t", "api_key": "k", "pass": PASSWORD}))
    assert query.fields == (("title", "t"), ("pass", PASSWORD))
    assert query.dropped == ("api_key",)
    assert sift(query.fields).dropped == ("pass",)


def test_a_camel_case_secret_name_is_a_credential() -> None:
    """`accessKeySecret` says secret as written, though not once case-folded: it is asked as
    written too."""
    assert credential_field("accessKeySecret")
    assert credential_field("\u200baccessKeySecret[]")
    assert not credential_field("title")
