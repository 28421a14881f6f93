"""What GitHub answers is trusted only as far as it must be: every value of an answer that
triage stores or shows (an issue's or a comment's `html_url`, a moved issue's new location, a
number, a login) is checked for the shape it must have, against the loopback GitHub stub
answering hostile values. Where GitHub shows issues is known (GITHUB_WEB_URL, or an API URL
of GitHub's shape): a URL that is not the issue's there is rebuilt from owner, repository and
number there, with one log line that never holds the value. Behind a proxy it is not known: a
URL of the issue's shape is kept on its own host, one of another shape rebuilt on the API's.
A number or login of the wrong shape is a `bad_response`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from typing import Any

import pytest

from factories import alert, view
from github_stub import GitHubServer
from test_github_later_life import LaterLifeGitHub
from triage.errors import ConfigError, SinkUnavailableError
from triage.models import EffectKind, Priority, Ticket
from triage.settings import Settings, load_settings
from triage.sinks.base import Effect, Target
from triage.sinks.github import GitHubSink, IssueRef
from triage.sinks.github.refs import WebOrigin, trusted_url

TOKEN = "t-bot"
REPO = "acme/ops"
TICKET = Ticket(title="Backup failed", priority=Priority.HIGH, description="pg_dump exited 1")

#: How a hostile or broken answer may spell an issue's URL, given the stub's own base URL
#: (`http://127.0.0.1:<port>`) and the issue's path (`/acme/ops/issues/1`).
HOSTILE_URLS: dict[str, Callable[[str, str], Any]] = {
    "other-host": lambda base, path: f"https://evil.example{path}",
    "other-scheme": lambda base, path: base.replace("http://", "https://") + path,
    "other-port": lambda base, path: "http://127.0.0.1:1" + path,
    "userinfo": lambda base, path: base.replace("//", "//evil.example@") + path,
    "query": lambda base, path: f"{base}{path}?next=https://evil.example",
    "script": lambda base, path: f"javascript:alert(1)//evil.example{path}",
    "zero-padded": lambda base, path: base + path.replace("/issues/", "/issues/0"),
    "huge-number": lambda base, path: base + path.rsplit("/", 1)[0] + "/" + "9" * 5000,
    "other-number": lambda base, path: base + path.rsplit("/", 1)[0] + "/77",
    "not-text": lambda base, path: 5,
    "encoded-host": lambda base, path: f"https://gith%75b.com{path}",
}


def effect(kind: EffectKind, ref: str | None, key: str, n: int = 1) -> Effect:
    shown = alert(f"backup-{n}")
    return Effect(kind, shown.fingerprint, view(shown), TICKET, ref, 1, 1, False, key, Target())


class HostileGitHub(LaterLifeGitHub):
    """The stub, whose issues' and comments' `html_url` are spelled by `spell` (base URL,
    the issue's path) when set."""

    def __init__(self, **kwargs: Any) -> None:
        self.spell: Callable[[str, str], Any] | None = None
        super().__init__(**kwargs)

    def _html(self, repo: str, issue: Any) -> Any:
        path = f"/{repo}/issues/{issue.number}"
        return self.spell(self.url, path) if self.spell else f"{self.url}{path}"

    def comment_ids(self, number: int, repo: str = REPO) -> list[int]:
        """The ids of issue `number`'s comments, oldest first."""
        with self._lock:
            return [c["id"] for c in self._repos[repo][number - 1].comments]

    def _create_comment(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        """A comment's html_url as `spell` writes its issue's, plus the comment's fragment
        (a URL that is no text stays as it is)."""
        status, comment, headers = super()._create_comment(actor, params, query, body)
        if self.spell is not None and isinstance(comment, dict):
            issue = self._issue(params)
            assert issue is not None
            spelled = self._html(params["repo"], issue)
            comment["html_url"] = (
                f"{spelled}#issuecomment-{comment['id']}" if isinstance(spelled, str) else spelled
            )
            issue.comments[-1]["html_url"] = comment["html_url"]
        return status, comment, headers


@pytest.fixture
def github() -> Iterator[HostileGitHub]:
    with HostileGitHub(tokens={TOKEN: "triage-bot"}, repositories=(REPO, "acme/new")) as server:
        yield server


def settings(github: GitHubServer, **more: Any) -> Settings:
    """The stub as GitHub and as where its issues are shown (GITHUB_WEB_URL), so every part of
    an answered URL is checked against a known origin."""
    more.setdefault("github_web_url", github.url)
    return Settings(github_api_url=github.url, github_repository=REPO, github_token=TOKEN, **more)


def behind_a_proxy(github: GitHubServer) -> GitHubSink:
    """A sink whose GITHUB_API_URL is the stub as a proxy in front of GitHub is: no GitHub
    shape, no GITHUB_WEB_URL, so where issues are shown cannot be known."""
    return GitHubSink(settings(github, github_web_url=None))


@pytest.fixture
async def sink(github: HostileGitHub) -> AsyncIterator[GitHubSink]:
    s = GitHubSink(settings(github))
    try:
        yield s
    finally:
        await s.aclose()


def rebuilt(logs: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == "github.answer_url_rebuilt"]


def shown_nowhere(value: Any, logs: list[MutableMapping[str, Any]], *refs: str | None) -> None:
    """The hostile parts of `value` are in no log line and no reference."""
    if not isinstance(value, str):
        return
    for part in (
        "evil.example",
        "javascript",
        "next=",
        "99999",
        "https://127",
        ":1/",
        "/77",
        "%75",
    ):
        if part in value:
            assert part not in repr(logs)
            assert all(part not in (ref or "") for ref in refs)


@pytest.mark.parametrize("spelling", sorted(HOSTILE_URLS))
async def test_an_issue_url_off_its_shape_is_rebuilt_on_the_web_host(
    sink: GitHubSink,
    github: HostileGitHub,
    logs: list[MutableMapping[str, Any]],
    spelling: str,
) -> None:
    """An issue whose html_url is off the web host, another scheme or port, carries userinfo
    or a query, or names another number (or none) is stored as its own URL rebuilt from
    repository and number on the stub's web host, with one `github.answer_url_rebuilt` line
    naming neither the value nor its parts; the incident's later effects reach the issue."""
    github.spell = HOSTILE_URLS[spelling]
    created = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))).ref
    assert created == f"{github.url}/{REPO}/issues/1"
    [line] = rebuilt(logs)
    assert (line["log_level"], line["repository"], line["issue"]) == ("warning", REPO, 1)
    assert line["why"] in ("host", "scheme", "path", "number", "missing")
    found = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))).ref  # a retry finds it
    assert found == created
    closed = await sink.apply(effect(EffectKind.CLOSE, created, "fp:2"))
    assert closed.ref is None  # read through its own path: not taken for a move
    [issue] = github.issues()
    assert (issue["state"], len(issue["comment_bodies"])) == ("closed", 1)
    shown_nowhere(HOSTILE_URLS[spelling](github.url, f"/{REPO}/issues/1"), logs, created, found)


async def test_a_created_issue_in_another_repository_is_kept_where_it_was_asked(
    sink: GitHubSink, github: HostileGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """A create answered with the URL of another repository's issue (on the right host) is
    stored as the issue of the repository it was created in: an answer cannot steer the
    incident's later writes into a repository the route does not name."""
    github.fail_next(
        1,
        201,
        body={"number": 4, "html_url": f"{github.url}/evil/ops/issues/4"},
        method="POST",
        path="/issues",
    )
    ref = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))).ref
    assert ref == f"{github.url}/{REPO}/issues/4"
    [line] = rebuilt(logs)
    assert line["why"] == "repository" and "evil" not in repr(logs)


async def test_a_pull_request_url_of_the_issue_is_its_shape_too(
    sink: GitHubSink, github: HostileGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """GitHub may show an issue number as a pull request (`…/pull/1`): that is a shape it
    has, so no line says it was rebuilt; the reference kept names the issue."""
    github.spell = lambda base, path: base + path.replace("/issues/", "/pull/")
    ref = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))).ref
    assert ref == f"{github.url}/{REPO}/issues/1"
    assert rebuilt(logs) == []


@pytest.mark.parametrize("number", [0, -1, 2**31, True, "1", 1.5, None], ids=repr)
async def test_a_created_issue_without_a_usable_number_is_retried_not_kept(
    sink: GitHubSink, github: HostileGitHub, number: Any
) -> None:
    """A create answer whose `number` is no positive issue number within GitHub's range is
    a transient `bad_response`: no reference is built from it, whatever its html_url."""
    body = {"number": number, "html_url": f"{github.url}/{REPO}/issues/1"}
    github.fail_next(1, 201, body=body, method="POST", path="/issues")
    with pytest.raises(SinkUnavailableError) as caught:
        await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))
    assert caught.value.reason == "bad_response"


@pytest.mark.parametrize("spelling", ["other-host", "other-scheme", "userinfo", "query"])
async def test_a_moved_issues_new_url_off_its_shape_is_rebuilt(
    sink: GitHubSink,
    github: HostileGitHub,
    logs: list[MutableMapping[str, Any]],
    spelling: str,
) -> None:
    """An issue transferred to another repository is followed there, and its new reference
    is rebuilt on the web host from the repository and number GitHub names, not kept as the
    URL answered."""
    ref = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))).ref
    number = github.transfer(1, "acme/new")
    github.spell = HOSTILE_URLS[spelling]
    applied = await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    assert applied.ref == f"{github.url}/acme/new/issues/{number}"
    assert len(github.issues("acme/new")[0]["comment_bodies"]) == 1
    assert [line["why"] for line in rebuilt(logs)] in (["host"], ["scheme"], ["path"])
    shown_nowhere(HOSTILE_URLS[spelling](github.url, "/acme/new/issues/1"), logs, applied.ref)


@pytest.mark.parametrize(
    "where",
    ["/../x/issues/1", "/" + "o" * 40 + "/new/issues/1", "/acme/" + "n" * 101 + "/issues/1"],
    ids=["dots", "long-owner", "long-name"],
)
async def test_a_moved_issue_answered_in_no_repository_github_allows_is_not_followed(
    sink: GitHubSink, github: HostileGitHub, where: str
) -> None:
    """A read whose html_url names an owner or repository no GitHub account or repository
    can have (`..`, an owner over 39 characters, a name over 100) is taken for no move: no
    reference to it is handed back and no call is built from it."""
    ref = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))).ref
    github.spell = lambda base, path: base + where
    applied = await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    assert applied.ref is None
    named = ("/x/", "o" * 40, "n" * 101)
    assert not [c for c in github.calls if any(part in c["path"] for part in named)]


@pytest.mark.parametrize("spelling", ["other-host", "other-number", "not-text"])
async def test_a_digest_entrys_url_off_its_shape_is_rebuilt(
    github: HostileGitHub, logs: list[MutableMapping[str, Any]], spelling: str
) -> None:
    """In a storm, a digest entry whose comment URL is off the web host, names another issue
    or is no text is stored as the digest issue's URL with the comment's own id, rebuilt."""
    sink = GitHubSink(settings(github, github_create_per_hour=2))
    try:
        await sink.apply(effect(EffectKind.OPEN, None, "k1", n=1))  # an issue; the digest next
        github.spell = HOSTILE_URLS[spelling]
        ref = (await sink.apply(effect(EffectKind.OPEN, None, "k2", n=2))).ref
    finally:
        await sink.aclose()
    [digest] = [i for i in github.issues() if i["title"].startswith("[triage] Alert storm")]
    assert ref is not None and ref.startswith(f"{github.url}/{REPO}/issues/{digest['number']}#")
    [entry] = github.comment_ids(digest["number"])
    assert IssueRef.parse(ref) == IssueRef(REPO, digest["number"], comment_id=entry)
    assert {line["why"] for line in rebuilt(logs)} <= {"scheme", "number", "missing"}
    shown_nowhere(HOSTILE_URLS[spelling](github.url, f"/{REPO}/issues/2"), logs, ref)


@pytest.mark.parametrize(
    "login", ["bot\nadmin", "o" * 40, "../admin", "<b>bot</b>", "", 7], ids=repr
)
async def test_a_login_of_no_shape_github_allows_is_a_bad_answer(
    sink: GitHubSink, github: HostileGitHub, login: Any
) -> None:
    """Our own login, shown by `triage check` and compared with every author, must be one
    GitHub allows: anything else is a `bad_response`, never shown."""
    github.fail_next(1, 200, body={"login": login}, method="GET", path="/user")
    with pytest.raises(SinkUnavailableError) as caught:
        await sink.probe()
    assert caught.value.reason == "bad_response"
    assert not (isinstance(login, str) and login and login in str(caught.value))


async def test_a_hand_close_by_a_login_of_no_shape_is_logged_without_it(
    sink: GitHubSink, github: HostileGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """An issue closed by someone whose login GitHub could not have given (markup, a line
    break) is still left alone in the hold, and the line that says so names no closer."""
    ref = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))).ref
    closed = {
        "number": 1,
        "state": "closed",
        "closed_at": "2999-01-01T00:00:00Z",
        "closed_by": {"login": "<script>evil</script>"},
        "html_url": f"{github.url}/{REPO}/issues/1",
    }
    github.fail_next(1, 200, body=closed, method="GET", path="/issues/1")
    applied = await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    assert applied.skipped == "closed by hand within the hold"
    [line] = [e for e in logs if e["event"] == "github.hand_closed"]
    assert line["closed_by"] is None and "script" not in repr(logs)


@pytest.mark.parametrize(
    "ref",
    [
        "https://github.com/acme/ops/issues/" + "9" * 5000,
        f"https://github.com/acme/ops/issues/{2**31}",
        f"https://github.com/acme/ops/issues/1#issuecomment-{2**63}",
        "https://github.com/" + "o" * 40 + "/ops/issues/1",
        "https://github.com/acme/" + "n" * 101 + "/issues/1",
    ],
    ids=["huge", "past-int32", "comment-past-int64", "long-owner", "long-name"],
)
def test_a_reference_out_of_githubs_ranges_names_nothing(ref: str) -> None:
    """A stored reference whose number is past GitHub's range (or too long for Python to
    read) or whose owner or name is longer than GitHub allows names nothing, never an error."""
    assert IssueRef.parse(ref) is None


@pytest.mark.parametrize(
    ("api_url", "web_url", "origin", "fixed"),
    [
        ("https://api.github.com", None, "https://github.com", True),
        ("https://api.github.com/", None, "https://github.com", True),
        ("https://ghe.example/api/v3", None, "https://ghe.example", True),
        ("https://ghe.example/api/v3/", None, "https://ghe.example", True),
        ("https://api.acme.ghe.com", None, "https://acme.ghe.com", True),
        ("https://GHE.example:8443/api/v3", None, "https://ghe.example:8443", True),
        ("https://api.github.com:443", None, "https://github.com", True),
        ("https://ghproxy.corp", None, "https://ghproxy.corp", False),
        ("https://api.proxy.corp", None, "https://api.proxy.corp", False),
        ("https://ghproxy.corp/github", None, "https://ghproxy.corp", False),
        ("http://127.0.0.1:4010", None, "http://127.0.0.1:4010", False),
        ("http://[::1]:4010", None, "http://[::1]:4010", False),
        ("https://ghproxy.corp", "https://github.com", "https://github.com", True),
        ("https://ghproxy.corp", "https://GHE.example:443/", "https://ghe.example", True),
        ("https://api.github.com", "http://127.0.0.1:4010", "http://127.0.0.1:4010", True),
    ],
)
def test_the_web_origin_is_github_web_url_else_read_from_a_github_shaped_api_url(
    api_url: str, web_url: str | None, origin: str, fixed: bool
) -> None:
    """Issues are shown on GITHUB_WEB_URL when it is set; else on the web host of an API URL
    of GitHub's shape (github.com for api.github.com, acme.ghe.com for api.acme.ghe.com, an
    Enterprise Server's own host for its /api/v3), known; any other API URL (a proxy, a
    stand-in) leaves it unknown, its own origin only where a wrong answer is rebuilt."""
    shown = WebOrigin.of(api_url, web_url)
    assert shown.url(IssueRef("acme/ops", 12)) == f"{origin}/acme/ops/issues/12"
    assert shown.fixed is fixed


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("https://evil.example/acme/ops/issues/12", "https://github.com/acme/ops/issues/12"),
        (
            "http://github.com/acme/ops/issues/7#issuecomment-99",
            "https://github.com/acme/ops/issues/7#issuecomment-99",
        ),
        ("https://github.com/acme/ops/issues/12?x=1", "https://github.com/acme/ops/issues/12"),
        ("javascript:alert(1)", None),
    ],
)
def test_a_stored_reference_is_shown_on_the_web_host(stored: str, shown: str | None) -> None:
    """A reference kept before answers' URLs were checked is shown as the URL of what it
    names on the web host of GITHUB_API_URL, or not at all when it names nothing."""
    assert WebOrigin.of("https://api.github.com").rebuild(stored) == shown


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("https://github.com/acme/ops/issues/12", "https://github.com/acme/ops/issues/12"),
        ("HTTPS://GitHub.com:443/acme/ops/issues/12", "https://github.com/acme/ops/issues/12"),
        ("https://x@github.com/acme/ops/issues/12", "https://ghproxy.corp/acme/ops/issues/12"),
        ("https://github.com/acme/ops/issues/12?x=1", "https://ghproxy.corp/acme/ops/issues/12"),
        ("javascript:alert(1)", None),
    ],
)
def test_behind_a_proxy_a_stored_reference_is_shown_on_its_own_host_if_well_formed(
    stored: str, shown: str | None
) -> None:
    """Behind a proxy (GITHUB_API_URL of no GitHub shape, no GITHUB_WEB_URL) a stored
    reference of an issue's shape is shown on its own host, canonically; one with user info or
    a query on the API URL's own host."""
    assert WebOrigin.of("https://ghproxy.corp").rebuild(stored) == shown


@pytest.mark.parametrize(
    ("answered", "kept", "why"),
    [
        ("https://github.com/acme/ops/issues/7#issuecomment-99", "https://github.com", None),
        ("https://github.com:443/ACME/Ops/pull/7#issuecomment-99", "https://github.com", None),
        (
            "http://ghe.example:8080/acme/ops/issues/7#issuecomment-99",
            "http://ghe.example:8080",
            None,
        ),
        ("https://github.com/acme/ops/issues/7#issuecomment-98", "https://ghproxy.corp", "number"),
        ("https://github.com/acme/ops/issues/7", "https://ghproxy.corp", "number"),
        (
            "https://github.com/acme/web/issues/7#issuecomment-99",
            "https://ghproxy.corp",
            "repository",
        ),
        ("ftp://github.com/acme/ops/issues/7#issuecomment-99", "https://ghproxy.corp", "scheme"),
        ("https://git hub.com/acme/ops/issues/7#issuecomment-99", "https://ghproxy.corp", "host"),
        ("https://github.com:0/acme/ops/issues/7#issuecomment-99", "https://ghproxy.corp", "host"),
    ],
)
def test_behind_a_proxy_a_comment_url_is_kept_on_its_host_only_in_the_comments_shape(
    logs: list[MutableMapping[str, Any]], answered: str, kept: str, why: str | None
) -> None:
    """Behind a proxy a digest entry's answered URL is kept on its own host only when it is
    the comment's (scheme, host, repository, number and fragment); otherwise it is rebuilt on
    the API URL's own host with one warning naming the part."""
    comment = IssueRef("acme/ops", 7, comment_id=99)
    url = trusted_url(answered, comment, WebOrigin.of("https://ghproxy.corp"))
    assert url == f"{kept}/acme/ops/issues/7#issuecomment-99"
    assert [line["why"] for line in rebuilt(logs)] == ([why] if why else [])


def test_a_default_port_in_an_answer_is_no_difference() -> None:
    """`https://github.com:443/…` is github.com's URL: no part of it differs."""
    origin = WebOrigin.of("https://api.github.com")
    assert origin.fault("https://github.com:443/acme/ops/issues/12", IssueRef(REPO, 12)) is None


@pytest.mark.parametrize(
    ("answered", "kept"),
    [
        ("https://github.com/acme/ops/issues/1", "https://github.com/acme/ops/issues/1"),
        ("https://GitHub.com:443/ACME/ops/pull/1", "https://github.com/acme/ops/issues/1"),
        ("http://[::1]:80/acme/ops/issues/1", "http://[::1]/acme/ops/issues/1"),
    ],
    ids=["github", "spelled-otherwise", "ipv6"],
)
async def test_behind_a_proxy_githubs_answered_url_is_kept_without_a_warning(
    github: HostileGitHub, logs: list[MutableMapping[str, Any]], answered: str, kept: str
) -> None:
    """With a proxy as GITHUB_API_URL (no GitHub shape, no GITHUB_WEB_URL) the answered
    `https://github.com/…` URL of the issue is kept on its host (canonically: lower case, no
    default port, the issue's path) with no warning, and later effects still reach the issue."""
    github.spell = lambda base, path: answered
    sink = behind_a_proxy(github)
    try:
        ref = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))).ref
        closed = await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2"))
    finally:
        await sink.aclose()
    assert (ref, rebuilt(logs)) == (kept, [])
    assert closed.ref is None
    [issue] = github.issues()
    assert issue["state"] == "closed"


@pytest.mark.parametrize(
    "spelling",
    ["userinfo", "query", "script", "zero-padded", "other-number", "not-text", "encoded-host"],
)
async def test_behind_a_proxy_an_answered_url_off_the_issues_shape_is_rebuilt_on_the_api_host(
    github: HostileGitHub, logs: list[MutableMapping[str, Any]], spelling: str
) -> None:
    """Behind a proxy an answered URL with user info, a query, another scheme, path or number,
    a host no DNS name spells, or none at all is not kept: the reference is rebuilt on the API
    URL's own host, with one warning that names the part, never the value."""
    github.spell = HOSTILE_URLS[spelling]
    sink = behind_a_proxy(github)
    try:
        ref = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))).ref
    finally:
        await sink.aclose()
    assert ref == f"{github.url}/{REPO}/issues/1"
    [line] = rebuilt(logs)
    assert line["why"] in ("host", "scheme", "path", "number", "missing")
    shown_nowhere(HOSTILE_URLS[spelling](github.url, f"/{REPO}/issues/1"), logs, ref)


async def test_github_web_url_is_where_every_reference_is_kept(
    github: HostileGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """GITHUB_WEB_URL names where issues are shown, whatever the API URL: an answer already
    there is kept with no warning, one elsewhere (the stub's own, on http) is rebuilt there
    with one warning."""
    sink = GitHubSink(settings(github, github_web_url="https://GHE.example:443/"))
    try:
        first = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1", n=1))).ref
        github.spell = lambda base, path: f"https://ghe.example{path}"
        second = (await sink.apply(effect(EffectKind.OPEN, None, "fp:2", n=2))).ref
    finally:
        await sink.aclose()
    assert (first, second) == (
        f"https://ghe.example/{REPO}/issues/1",
        f"https://ghe.example/{REPO}/issues/2",
    )
    assert [line["why"] for line in rebuilt(logs)] == ["scheme"]


async def test_an_alerts_link_to_an_issue_on_github_web_url_references_nothing(
    github: HostileGitHub,
) -> None:
    """Behind a proxy, the Enterprise server GITHUB_WEB_URL names is where issues are shown:
    an alert's link to one of its issues is written as inert text, so it puts no "mentioned
    this" line in that issue's timeline."""
    linked = alert("backup-1").model_copy(
        update={"runbook_url": "https://ghe.example/victim/repo/issues/1"}
    )
    sink = GitHubSink(settings(github, github_web_url="https://ghe.example"))
    try:
        await sink.apply(
            Effect(
                EffectKind.OPEN,
                linked.fingerprint,
                view(linked),
                TICKET,
                None,
                1,
                1,
                False,
                "fp:1",
                Target(),
            )
        )
    finally:
        await sink.aclose()
    [issue] = github.issues()
    assert "- runbook: https:&#8203;//ghe.example/victim/repo/issues/1" in issue["body"]
    assert "(<https://ghe.example/" not in issue["body"]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("https://bot:s3cr3t@github.com", "user and password"),
        ("https://s3cr3t@github.com", "user and password"),
        ("https://github.com/acme", "no path"),
        ("https://github.com?s3cr3t=1", "no path"),
        ("https://github.com#s3cr3t", "no path"),
        ("ftp://github.com", "http:// or https://"),
        ("github.com", "http:// or https://"),
        ("https://", "http:// or https://"),
        ("https://github.com:99999", "port"),
        ("https://git hub.com", "http:// or https://"),
    ],
)
def test_a_github_web_url_that_is_no_origin_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, value: str, says: str
) -> None:
    """GITHUB_WEB_URL must be an http(s) origin (scheme, host, port): user info, a path, a
    query, a fragment, another scheme or a bad port stop start-up in one line that names the
    variable and quotes none of the value."""
    monkeypatch.setenv("GITHUB_WEB_URL", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("GITHUB_WEB_URL: ") and says in message and "\n" not in message
    assert "s3cr3t" not in message and "acme" not in message


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("https://github.com", "https://github.com"),
        ("https://ghe.example:8443/", "https://ghe.example:8443"),
        ("http://127.0.0.1:4010", "http://127.0.0.1:4010"),
        ("'https://GHE.example' ", "https://ghe.example"),
    ],
)
def test_a_github_web_url_is_read_as_the_origin_issues_are_shown_on(
    monkeypatch: pytest.MonkeyPatch, value: str, origin: str
) -> None:
    """An origin, with a trailing slash, quotes or upper case as people write it, is accepted
    and is where issues are shown behind a proxy."""
    monkeypatch.setenv("GITHUB_API_URL", "https://ghproxy.corp")
    monkeypatch.setenv("GITHUB_WEB_URL", value)
    loaded = load_settings()
    shown = WebOrigin.of(loaded.github_api_url, loaded.github_web_url)
    assert shown.url(IssueRef(REPO, 12)) == f"{origin}/{REPO}/issues/12"
