"""What GitHub answers is trusted only as far as it must be: every value of an answer that
triage stores or shows (an issue's or a comment's `html_url`, a moved issue's new location, a
number, a login) is checked for the shape it must have, against the loopback GitHub stub
answering hostile values. A URL that is not the issue's on the web host that belongs to
GITHUB_API_URL is rebuilt from owner, repository and number there, with one log line that
never holds the value; a number or login of the wrong shape is a `bad_response`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from typing import Any

import pytest

from factories import alert, view
from github_stub import GitHubServer
from test_github_later_life import LaterLifeGitHub
from triage.errors import SinkUnavailableError
from triage.models import EffectKind, Priority, Ticket
from triage.settings import Settings
from triage.sinks.base import Effect, Target
from triage.sinks.github import GitHubSink, IssueRef
from triage.sinks.github.refs import WebOrigin

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
    return Settings(github_api_url=github.url, github_repository=REPO, github_token=TOKEN, **more)


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
    for part in ("evil.example", "javascript", "next=", "99999", "https://127", ":1/", "/77"):
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
    ("api_url", "origin"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://api.github.com/", "https://github.com"),
        ("https://ghe.example/api/v3", "https://ghe.example"),
        ("https://api.acme.ghe.com", "https://acme.ghe.com"),
        ("https://GHE.example:8443/api/v3", "https://ghe.example:8443"),
        ("http://127.0.0.1:4010", "http://127.0.0.1:4010"),
        ("http://[::1]:4010", "http://[::1]:4010"),
        ("https://api.github.com:443", "https://github.com"),
    ],
)
def test_the_web_origin_belongs_to_the_api_url(api_url: str, origin: str) -> None:
    """Issues are shown on the web host that belongs to GITHUB_API_URL: github.com for
    api.github.com, an Enterprise Server's own host for its /api/v3, any other API's own
    host (a loopback stand-in on http keeps its scheme and port)."""
    assert WebOrigin.of(api_url).url(IssueRef("acme/ops", 12)) == f"{origin}/acme/ops/issues/12"


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
