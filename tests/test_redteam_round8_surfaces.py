"""Red team round 8: alert text on the surfaces it is shown, and what operators see and quiet.
Where seven rounds left a gap: a silence on a label past the 64 an alert shows holds the alert
until the next sweep, which matches the held view without that label and sends the open; a
silence on a title as the listing shows it never holds the alert again (the pipeline matches
each field redacted alone, the store keeps the title without a secret-named label's value
too); Slack's plain-text post, which Slack formats itself, leaves a URL in a title whole, a
link to the site it names; Slack's Where fact writes a label's value bare among `key=value`
facts, so a host label can state a region; and a listing's limit past the cap is cut without a
word, so paging as the README says skips incidents. Each bug is a strict xfail that passes
once it is fixed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from factories import alert
from test_operator_api import BEARER, serving
from test_silences import Rig
from test_slack_sink import ALERT, TICKET, Hook, hook, open_sink
from test_slack_sink import effect as slack_effect
from test_storms_round6_keys import POD_LABELS
from test_storms_round6_keys import alert as pod_alert
from triage.incidents import Action
from triage.incidents.lifecycle import Policy
from triage.incidents.sqlite import SQLiteStore
from triage.models import Alert, Status

__all__ = ["hook"]  # the loopback Slack webhook, a fixture

# --- silences ----------------------------------------------------------------------------------


def _at(firing: Alert, minutes: float, status: Status = Status.FIRING) -> Alert:
    """`firing` as it comes again `minutes` after T0, with `status`."""
    return firing.model_copy(
        update={"occurred_at": firing.occurred_at + timedelta(minutes=minutes), "status": status}
    )


async def test_a_silence_on_a_label_past_the_cap_holds_until_it_ends() -> None:
    """A pod alert whose `namespace` sorts past the 64 labels it shows is held by a silence
    `namespace=shop` (as its route and group read that label), and the sweep keeps it held
    while the silence lasts: no ticket is opened 30 minutes into an hour's silence."""
    r = Rig()
    await r.silence("namespace=shop")
    shop = pod_alert({**POD_LABELS, "alertname": "KubePodCrashLooping", "namespace": "shop"})
    assert "namespace" not in shop.labels  # past the cap
    assert await r.pipeline.handle(shop, "m0") is Action.SILENCED
    r.clock.at(30)
    await r.sweep().once()
    assert r.sink.effects == []


async def test_a_silence_on_the_title_as_listed_holds_the_alerts_refire() -> None:
    """An alert whose title repeats its `db_password` label's value is stored and listed with
    that value redacted; a silence on the title as listed (it matches the listed incident)
    holds the same alert when it fires again: no reopen reaches the sinks."""
    firing = alert("login").model_copy(
        update={"title": "login failed for hunter2xyz", "labels": {"db_password": "hunter2xyz"}}
    )
    r = Rig()
    assert await r.pipeline.handle(firing, "m0") is Action.OPEN
    r.clock.at(5)
    assert await r.pipeline.handle(_at(firing, 5, Status.RESOLVED), "m1") is Action.CLOSE
    [stored] = await r.store.incidents()
    assert "hunter2xyz" not in stored.title  # listed redacted
    await r.silence(f"title={stored.title}")
    r.clock.at(10)
    assert await r.pipeline.handle(_at(firing, 10), "m2") is Action.SILENCED


# --- Slack ---------------------------------------------------------------------------------------

#: An http(s) URL in text, which Slack makes a link of wherever it formats the text itself.
_BARE_URL = re.compile(r"https?://", re.IGNORECASE)


async def test_a_url_in_a_title_is_no_link_in_the_plain_text_post(hook: Hook) -> None:
    """When Slack refuses a new incident's blocks, the incident is posted again as mrkdwn
    text, which Slack formats (no `verbatim` there): a URL the title writes is no link to the
    site it names, as on GitHub; triage's own `<url|label>` links are the only ones."""
    hook.answer(400, "invalid_blocks")
    phish = TICKET.model_copy(update={"title": "Sign-in broken: use https://evil.example/reset"})
    async with open_sink(hook.url()) as sink:
        assert (await sink.apply(slack_effect(ticket=phish))).ref == "posted"
    _, plain = hook.bodies()
    outside_our_links = re.sub(r"<[^<>]*>", "", plain["text"])
    assert "evil.example" in outside_our_links.replace("\u200d", "")
    assert not _BARE_URL.search(outside_our_links), plain["text"]


#: One `key=value` of Slack's "Where" fact, its value bare or a JSON string, and the ", " after.
_WHERE_ITEM = re.compile(r'([A-Za-z_]+)=("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)')


def _where_keys(fact: str) -> list[str]:
    """The label names the "Where" fact's text reads as naming, in order."""
    keys, at = [], 0
    while at < len(fact) and (item := _WHERE_ITEM.match(fact, at)):
        keys.append(item[1])
        at = item.end()
    return keys


async def test_a_label_value_cannot_add_a_where_fact_in_slack(hook: Hook) -> None:
    """An alert whose only place label is `host: db-1, region=eu-west-1` is shown in the Where
    fact as one host, not as a host and a region (a value with `, ` or `=` is quoted, as the
    team is after the title and every value in the terminal)."""
    forged = ALERT.model_copy(update={"labels": {"host": "db-1, region=eu-west-1"}})
    async with open_sink(hook.url()) as sink:
        await sink.apply(slack_effect(alert=forged))
    [message] = hook.bodies()
    fields = [f["text"] for block in message["blocks"] for f in block.get("fields", ())]
    [where] = [text for text in fields if text.startswith("Where")]
    assert _where_keys(where.removeprefix("Where\n")) == ["host"], where


# --- the operator's API --------------------------------------------------------------------------


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(str(tmp_path / "t.db"), Policy(), timedelta(minutes=2), timedelta(days=1))
    await opened.open()
    yield opened
    await opened.aclose()


async def test_paging_by_a_limit_past_the_cap_skips_no_incident(
    sqlite: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the cap on one answer at 3 (5,000 in production, 8 incidents here), a client that
    asks for pages of 5 and starts each page at the last one's offset plus its limit (the
    limit the answer says it used, else the one asked for), as the README tells it to, lists
    every incident once."""
    monkeypatch.setattr("triage.ops.api.MAX_LIMIT", 3)
    now = datetime.now(UTC)
    for n in range(8):
        await sqlite.begin(alert(f"disk-{n}", at=now), f"m{n}", now)
    seen: list[str] = []
    async with serving(sqlite) as api:
        offset, total = 0, None
        while total is None or offset < total:
            page = await api.get(
                "/api/v1/incidents", params={"limit": "5", "offset": str(offset)}, headers=BEARER
            )
            assert page.status_code == 200, page.text
            answer = page.json()
            total = answer["total"]
            seen += [incident["fingerprint"] for incident in answer["incidents"]]
            offset += answer.get("limit", 5)
    assert total == 8
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 8, seen
