"""Hostile alert text the markdown escaping does not see: the links an alert names (a link to a
GitHub issue or pull request puts a back-reference in that issue's timeline, every time an
incident is opened) and the labels made from its team and source (sent as they are). Through
the sink, against the GitHub stand-in on a loopback port."""

from __future__ import annotations

import dataclasses
import itertools
import json
import unicodedata
from typing import Any

import pytest
import regex

from github_stub import GitHubServer
from test_github_sink import ALERT, FakeClock, bot_calls, effect, open_sink
from test_github_sink import github as github  # the fixtures these tests use
from test_github_sink import mono as mono
from test_github_sink import sink as sink
from test_github_sink import wall as wall
from triage.models import EffectKind, Priority, Status, Ticket
from triage.redact import Redactor
from triage.sinks.github import GitHubSink, text
from triage.view import GroupView, MemberView, redact_ticket


def _created(github: GitHubServer) -> dict[str, Any]:
    """The body of the one issue the sink created."""
    [create] = [c for c in bot_calls(github, "POST") if c["path"].endswith("/issues")]
    body: dict[str, Any] = create["body"]
    return body


async def test_links_to_github_issues_and_pulls_leave_no_back_reference(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A runbook or dashboard link to a github.com issue, pull request or discussion goes
    through redirect.github.com (GitHub's domain for links that reference nothing, as
    Dependabot's): still one click away, labelled with the GitHub host it opens, and no
    `mentioned this` line in that issue. Other links are left as they are, labelled with
    their host."""
    alert = ALERT.model_copy(
        update={
            "runbook_url": "https://github.com/victim/repo/issues/1",
            "links": {
                "dashboard": "https://www.github.com/victim/repo/pull/2#discussion_r3",
                "source": "https://GitHub.com/victim/repo/discussions/4",
                "wiki": "https://grafana.example.com/d/x",
            },
        }
    )
    await sink.apply(effect(alert=alert))
    body = _created(github)["body"]
    assert "//github.com" not in body.lower() and "www.github.com" not in body
    assert "[runbook \\(github.com\\)](<https://redirect.github.com/victim/repo/issues/1>)" in body
    assert (
        "[dashboard \\(www&#8203;.github.com\\)]"
        "(<https://redirect.github.com/victim/repo/pull/2#discussion_r3>)" in body
    )
    assert (
        "[source \\(github.com\\)](<https://redirect.github.com/victim/repo/discussions/4>)" in body
    )
    assert "[wiki \\(grafana.example.com\\)](<https://grafana.example.com/d/x>)" in body


async def test_links_to_an_enterprise_servers_issues_are_shown_not_linked(
    github: GitHubServer, mono: FakeClock, wall: FakeClock
) -> None:
    """GitHub Enterprise has no redirect domain: a link to an issue or pull request on the
    server triage writes to (GITHUB_API_URL's host) is shown as inert text, so it references
    nothing; a link to its other pages, or to another host, stays a link."""
    server = github.url.rstrip("/")
    alert = ALERT.model_copy(
        update={
            "runbook_url": f"{server}/victim/repo/issues/1",
            "links": {
                "dashboard": f"{server}/victim/repo/pull/2/files",
                "wiki": f"{server}/acme/runbooks/blob/main/db.md",
                "other": "https://gitea.example.com/victim/repo/issues/3",
            },
        }
    )
    async with open_sink(github, mono, wall) as enterprise:
        await enterprise.apply(effect(alert=alert))
    body = _created(github)["body"]
    shown = server.replace("://", ":&#8203;//")
    assert f"- runbook: {shown}/victim/repo/issues/1" in body
    assert f"- dashboard: {shown}/victim/repo/pull/2/files" in body
    assert f"](<{server}/victim/" not in body
    assert f"[wiki \\(127.0.0.1\\)](<{server}/acme/runbooks/blob/main/db.md>)" in body
    assert (
        "[other \\(gitea.example.com\\)](<https://gitea.example.com/victim/repo/issues/3>)" in body
    )


@pytest.mark.parametrize(
    ("api_url", "host"),
    [
        ("https://api.github.com", "github.com"),
        ("https://ghe.example.com/api/v3", "ghe.example.com"),
        ("https://api.acme.ghe.com", "acme.ghe.com"),
        ("http://127.0.0.1:8080", "127.0.0.1"),
    ],
)
def test_the_web_host_is_read_from_the_api_url(api_url: str, host: str) -> None:
    """The host issues are shown on: api.github.com's is github.com, a server's its own."""
    assert text.web_host(api_url) == host


async def test_labels_from_alert_text_hold_no_invisible_or_control_characters(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A team or source holding zero-width, bidi or control characters is labelled as it reads:
    `team:pay\\u200bments` would be a second label that looks like `team:payments`, and a NUL
    one GitHub refuses, failing the issue; a control character is a space (`display.visible`)."""
    # Past the view's redaction (which drops format characters, not controls): the labels are
    # the sink's last word on what reaches GitHub, whatever the view lets through.
    shown = effect()
    odd = dataclasses.replace(
        shown.alert, team="pay\u200bments\u2060\x00", source="\u202egeneric\x1b[0m"
    )
    shown = dataclasses.replace(shown, alert=odd)
    await sink.apply(shown)
    labels = _created(github)["labels"]
    assert "team:payments" in labels and "source:generic [0m" in labels
    for label in labels:
        assert all(unicodedata.category(ch) not in ("Cc", "Cf") for ch in label), label


async def test_a_link_is_labelled_with_the_host_it_opens_as_dns_spells_it(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """An alert's link shows its name and the host it really opens, in punycode, and points at
    that same spelling: a name that reads like another URL, or a host with a Cyrillic a (U+0430)
    that looks like grafana's, cannot pass for the real one."""
    alert = ALERT.model_copy(
        update={
            "runbook_url": None,
            "links": {"https://grafana.example.com": "https://gr\u0430fana.example.com/d/x"},
        }
    )
    await sink.apply(effect(alert=alert))
    body = _created(github)["body"]
    assert (
        "- [https:&#8203;//grafana.example.com \\(xn--grfana-4nf.example.com\\)]"
        "(<https://xn--grfana-4nf.example.com/d/x>)"
    ) in body
    assert "gr\u0430fana" not in body and "%D0%B0" not in body


@pytest.mark.parametrize(
    "url",
    [
        "https://%67ith%75b.com/victim/repo/issues/1",
        "https://github.com./victim/repo/issues/1",
        "https://bot@GITHUB.com:443/victim/repo/issues/1",
    ],
)
async def test_a_github_link_in_disguise_still_goes_through_the_redirect_domain(
    sink: GitHubSink, github: GitHubServer, url: str
) -> None:
    """A host a browser reads as github.com (percent-encoded letters, a trailing dot, a user
    and port) is github.com: the link goes through redirect.github.com and references
    nothing, labelled with github.com."""
    alert = ALERT.model_copy(update={"runbook_url": url, "links": {}})
    await sink.apply(effect(alert=alert))
    body = _created(github)["body"]
    assert (
        "- [runbook \\(github.com\\)](<https://redirect.github.com/victim/repo/issues/1>)" in body
    )
    assert "](<https://github.com" not in body and "%67ith" not in body


@pytest.mark.parametrize(
    "url",
    [
        'https://a"b.example.com/x',
        "https://gr%20fana.example.com/x",
        "https://%E2%80%AEmoc.example.com/x",
        "https://\uff47ithub.com/victim/repo/issues/1",
    ],
)
async def test_a_link_whose_host_is_no_plain_name_is_not_linked(
    sink: GitHubSink, github: GitHubServer, url: str
) -> None:
    """A host no DNS name spells (a quote, an encoded space or bidi override, full-width
    letters a browser would fold into github.com) cannot be shown as the host it opens:
    the link is left out, and the issue still opens."""
    alert = ALERT.model_copy(update={"runbook_url": None, "links": {"dash": url}})
    await sink.apply(effect(alert=alert))
    body = _created(github)["body"]
    assert "[dash" not in body and "### Links" not in body


#: An AWS access key split by control characters, which the redactor does not see through.
_SPLIT_KEY = "AKIA\x00IOSFODNN7EXAMPLE"
_KEY = "AKIAIOSFODNN7EXAMPLE"


async def test_a_control_character_never_glues_a_credential_together(
    sink: GitHubSink, github: GitHubServer
) -> None:
    """A credential split by a control character in alert or model text passes the real
    redactor (it reads two words), and reaches the issue's title, body, labels, comments and
    a digest entry still split, never whole."""
    split = _SPLIT_KEY
    alert = ALERT.model_copy(
        update={
            "title": f"key {split}",
            "team": split,
            "severity": split,
            "description": split,
            "labels": {"host": split, split: "x"},
            "links": {split: "https://grafana.example.com/d/x"},
        }
    )
    ticket = redact_ticket(
        Ticket(title=split, priority=Priority.HIGH, description=split, steps=(split,)), Redactor()
    )
    member = MemberView("fp-m", f"member {split}", Status.FIRING, ALERT.occurred_at)
    group = GroupView({"host": split}, (member,))
    ref = (await sink.apply(effect(alert=alert, ticket=ticket, group=group))).ref
    update = effect(EffectKind.UPDATE, ref, "fp:2", alert=alert, ticket=ticket, group=group)
    await sink.apply(update)
    await sink.apply(effect(EffectKind.CLOSE, ref, "fp:3", alert=alert, ticket=ticket))
    reopen = effect(EffectKind.REOPEN, ref, "fp:4", alert=alert, ticket=ticket, flapping=True)
    await sink.apply(reopen)
    sent = json.dumps([c["body"] for c in bot_calls(github) if c["body"]], ensure_ascii=False)
    sent += text.digest_entry(effect(alert=alert, ticket=ticket))
    assert _KEY not in sent
    assert "AKIA IOSFODNN7EXAMPLE" in sent


def test_a_group_closed_by_hand_says_the_note_not_that_its_alerts_resolved() -> None:
    """A group incident closed by hand (`triage incidents close`) comments its note, who and
    why; only a close its members' resolves carried says they all resolved."""
    member = MemberView("fp-m", "disk full on host-a", Status.FIRING, ALERT.occurred_at)
    group = GroupView({"host": "a"}, (member,))
    note = "Disk full (closed by alice: replaced the volume)"
    by_hand = ALERT.model_copy(
        update={"status": Status.RESOLVED, "title": note, "description": note}
    )
    comment = text.close_comment(effect(EffectKind.CLOSE, "7", alert=by_hand, group=group))
    assert "closed by alice: replaced the volume" in comment
    assert "alerts of the group resolved" not in comment
    resolved = ALERT.model_copy(update={"status": Status.RESOLVED})
    carried = text.close_comment(effect(EffectKind.CLOSE, "7", alert=resolved, group=group))
    assert "All 1 alerts of the group resolved" in carried


@pytest.mark.parametrize(
    "cluster",
    # q and an acute accent: no precomposed letter, so a label (composed, NFC) keeps two
    ["\N{WOMAN}\u200d\N{PERSONAL COMPUTER}", "\U0001f1eb\U0001f1f7", "q\u0301"],
    ids=["joined emoji", "flag", "accent"],
)
@pytest.mark.parametrize("shift", range(4))
def test_a_label_cut_to_githubs_50_characters_keeps_each_character_whole(
    cluster: str, shift: int
) -> None:
    """A team's label cut to GitHub's 50 characters is cut between user-perceived characters:
    never with a zero-width joiner left at its end (invisible: a second label that looks like
    the first), half a flag, or a letter without its accent."""
    team = "x" * (40 + shift) + cluster * 5
    label = text.label_of_team(team)
    assert len(label) <= 50 and label.startswith("team:")
    kept = label.removeprefix("team:")
    ends = list(itertools.accumulate(len(c) for c in regex.findall(r"\X", team)))
    assert team.startswith(kept) and len(kept) in ends, [hex(ord(c)) for c in kept[-3:]]
