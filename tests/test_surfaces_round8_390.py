"""Round 8 surface fixes (helper 390): silences read an alert as the store shows it, Slack's
plain-text post links nothing of the alert's, a label's value cannot forge a fact in Slack's
Where or GitHub's Labels row, and a listing says the limit it used so paging skips nothing."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import alert
from test_operator_api import BEARER, serving
from test_silences import Rig
from test_slack_sink import ALERT, TICKET
from test_slack_sink import effect as slack_effect
from triage.incidents import Action
from triage.incidents.lifecycle import Policy
from triage.incidents.sqlite import SQLiteStore
from triage.models import Alert, EffectKind, Status
from triage.sinks import slack
from triage.sinks.github.text import issue_body

# --- silences ------------------------------------------------------------------------------


def _again(firing: Alert, minutes: float, status: Status = Status.FIRING) -> Alert:
    """`firing` as it comes again `minutes` after T0, with `status`."""
    return firing.model_copy(
        update={"occurred_at": firing.occurred_at + timedelta(minutes=minutes), "status": status}
    )


async def _opened_and_closed(r: Rig, firing: Alert) -> None:
    """`firing` opens its incident and resolves five minutes later (the sinks hear both)."""
    assert await r.pipeline.handle(firing, "m0") is Action.OPEN
    r.clock.at(5)
    assert await r.pipeline.handle(_again(firing, 5, Status.RESOLVED), "m1") is Action.CLOSE


async def test_a_silence_on_a_label_as_listed_holds_the_refire_and_the_sweep_keeps_it() -> None:
    """A label whose value repeats the alert's `db_password` is stored without it; a silence
    on that label as the stored incident shows it holds the alert firing again, and the
    sweep, which matches the stored incident, keeps it held: no sink hears of the reopen."""
    firing = alert("login").model_copy(
        update={"labels": {"db_password": "hunter2xyz", "instance": "db-hunter2xyz"}}
    )
    r = Rig()
    await _opened_and_closed(r, firing)
    [stored] = await r.store.incidents()
    listed = stored.labels["instance"]
    assert "hunter2xyz" not in listed
    await r.silence(f"instance={listed}")
    sent = len(r.sink.effects)
    r.clock.at(10)
    assert await r.pipeline.handle(_again(firing, 10), "m2") is Action.SILENCED
    r.clock.at(30)
    await r.sweep().once()
    assert len(r.sink.effects) == sent


async def test_a_secret_named_in_the_description_is_out_of_the_title_matched() -> None:
    """A value the description names as a password (`password=…`) is taken out of the title
    the store keeps; a silence on that title as listed holds the alert when it fires again."""
    firing = alert("login").model_copy(
        update={
            "title": "login failed for s3cretvalue9",
            "description": "the job logs in with password=s3cretvalue9 and fails",
        }
    )
    r = Rig()
    await _opened_and_closed(r, firing)
    [stored] = await r.store.incidents()
    assert "s3cretvalue9" not in stored.title
    await r.silence(f"title={stored.title}")
    r.clock.at(10)
    assert await r.pipeline.handle(_again(firing, 10), "m2") is Action.SILENCED


# --- Slack: the plain-text post --------------------------------------------------------------

#: What Slack would link or mention in mrkdwn it formats: a URL's `://`, a domain's dot
#: between names (`www.evil`, `evil.com`), a channel's `#name`.
_LINKABLE = re.compile(r"://|[^\W_]\.[^\W\d_]|(?<![\w&])#[\w-]")
_ZERO_WIDTH = re.compile("[\u200b\u200d]")


def _outside_our_links(text: str) -> str:
    """`text` without triage's own `<url|label>` links."""
    return re.sub(r"<[^<>]*>", "", text)


@pytest.mark.parametrize(
    "title",
    [
        "Sign-in broken: use HTTPS://evil.example/reset",
        "reset at www.evil.example today",
        "reset at evil.com/reset or mail help@evil.com",
        "post in #general and #ops-alerts",
        "ftp://files.evil.example/x and javascript://x",
    ],
)
def test_nothing_in_the_plain_text_post_is_a_link_and_nothing_is_lost(title: str) -> None:
    """The plain-text post (mrkdwn Slack formats itself) shows the alert's URL, bare domain,
    `www.` name or `#channel` with a zero-width character that stops Slack linking it, and
    reads as the title did once those are taken out."""
    message = slack.plain_message(slack_effect(ticket=TICKET.model_copy(update={"title": title})))
    line = message["text"].split("\n")[-1]
    assert not _LINKABLE.search(_outside_our_links(line)), line
    assert title in _ZERO_WIDTH.sub("", line)


def test_the_fallback_of_every_block_message_links_nothing_either() -> None:
    """The `text` sent beside the blocks (notifications, and clients without blocks) is
    mrkdwn too: a URL in the title is no link there either."""
    phish = TICKET.model_copy(update={"title": "use https://evil.example/reset"})
    for message in (
        slack.open_message(slack_effect(ticket=phish)),
        slack.follow_up_message(slack_effect(EffectKind.REOPEN, ticket=phish)),
    ):
        assert not _LINKABLE.search(_outside_our_links(message["text"])), message["text"]


# --- Slack's Where fact and GitHub's Labels row ----------------------------------------------

#: One `key=value` of a fact, its value bare or a JSON string, and the ", " after it.
_ITEM = re.compile(r'([^=,"\s]+|"(?:[^"\\]|\\.)*")=("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)')


def _pairs(text: str) -> list[tuple[str, str]]:
    """The `key=value` pairs `text` reads as, each JSON string read back; [] when it does not
    read as pairs to its end."""
    pairs, at = [], 0
    while at < len(text):
        item = _ITEM.match(text, at)
        if item is None or item.end() == at:
            return []
        key, value = (json.loads(s) if s.startswith('"') else s for s in (item[1], item[2]))
        pairs.append((key, value))
        at = item.end()
    return pairs


def _where(message: dict[str, Any]) -> str:
    fields = [f["text"] for block in message["blocks"] for f in block.get("fields", ())]
    [where] = [text for text in fields if text.startswith("Where\n")]
    return str(where.removeprefix("Where\n"))


@pytest.mark.parametrize(
    "host",
    ["db-1, region=eu-west-1", "db-1,region=eu-west-1", 'db-1", region="eu', "a=b", "db 1"],
)
def test_a_where_value_reads_as_itself_alone(host: str) -> None:
    """However a `host` label's value is written (`, `, `=`, a quote, a space), Slack's Where
    fact reads as the region and that one host, its value whole; plain values stay bare."""
    labels = {"region": "eu-west-1", "host": host}
    forged = ALERT.model_copy(update={"labels": labels})
    where = _where(slack.open_message(slack_effect(alert=forged)))
    assert _pairs(where) == [("region", "eu-west-1"), ("host", host)], where
    assert where.startswith("region=eu-west-1, ")


def _labels_row(labels: dict[str, str]) -> str:
    """The Labels row of the issue GitHub gets for ALERT with `labels`, as GitHub shows it
    (markdown's backslash escapes taken out)."""
    body = issue_body(slack_effect(alert=ALERT.model_copy(update={"labels": labels})))
    [row] = [line for line in body.splitlines() if line.startswith("| Labels |")]
    shown = row.removeprefix("| Labels | ").removesuffix(" |")
    return re.sub(r"\\(.)", r"\1", shown.replace("&#8203;", ""))


@pytest.mark.parametrize(
    "labels",
    [
        {"host": "db-1, region=eu-west-1"},
        {"host": 'db-1", region="eu'},
        {"a, region": "eu-west-1"},
        {"service": "checkout", "team=ops": "x"},
    ],
)
def test_a_label_cannot_add_a_label_to_githubs_facts(labels: dict[str, str]) -> None:
    """GitHub's Labels row reads as exactly the alert's labels, whatever a key or a value
    writes (`, `, `=`, a quote): those are JSON strings; plain ones stay bare."""
    row = _labels_row(labels)
    assert _pairs(row) == sorted(labels.items()), row


def test_plain_labels_stay_bare_on_github() -> None:
    """Labels of plain words read as they always have: `key=value, key=value`."""
    assert _labels_row({"region": "eu-west-1", "host": "db-1"}) == "host=db-1, region=eu-west-1"


# --- the operator's API: paging -------------------------------------------------------------


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(str(tmp_path / "t.db"), Policy(), timedelta(minutes=2), timedelta(days=1))
    await opened.open()
    yield opened
    await opened.aclose()


async def test_a_listing_says_the_limit_and_offset_it_used(
    sqlite: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer names the `limit` it used (the one asked for, the default, or the cap when
    more was asked) and its `offset`, so the next page's offset is theirs added."""
    monkeypatch.setattr("triage.ops.api.MAX_LIMIT", 3)
    now = datetime.now(UTC)
    for n in range(4):
        await sqlite.begin(alert(f"disk-{n}", at=now), f"m{n}", now)
    async with serving(sqlite) as api:
        answers = [
            (await api.get("/api/v1/incidents" + query, headers=BEARER)).json()
            for query in ("?limit=9&offset=1", "?limit=2", "")
        ]
    assert [(a["limit"], a["offset"], len(a["incidents"])) for a in answers] == [
        (3, 1, 3),
        (2, 0, 2),
        (3, 0, 3),  # the default (500) past the cap too
    ]
