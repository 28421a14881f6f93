"""`triage check` warns when a repository issues go to lacks a label triage relies on
(`triage`, `priority:P0`…`P3`, `triage-digest`) and the token may not create it, saying what
happens without it; it never fails the check for that alone. Against the loopback GitHub stub,
taught labels, a repository's `permissions` and an App installation's permissions."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from github_stub import Answer, GitHubServer, StubApp
from triage.ops.check import run_checks
from triage.settings import Settings

TOKEN = "t-bot"
EVERY_LABEL = {
    "triage",
    "triage-digest",
    "flapping",
    "priority:P0",
    "priority:P1",
    "priority:P2",
    "priority:P3",
}
ROUTES = """
[[route]]
name = "payments"
sinks = ["github"]
match = { team = ["payments"] }
github = { repository = "acme/payments" }
"""
_LABEL = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/labels/(?P<name>[^/]+)")
_LABELS = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/labels")
_REPO = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)")
_INSTALLATION = re.compile(r"/app/installations/(?P<iid>\d+)")


class LabelledGitHub(GitHubServer):
    """The stub with `GET /repos/{r}/labels/{name}` (404 for a label the repository lacks),
    `permissions` in `GET /repos/{r}` as GitHub shows them to a user's token, and
    `GET /app/installations/{id}` (JWT) with the installation's permissions."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: Each repository's labels; one not named has every label triage uses.
        self.labels: dict[str, set[str]] = {}
        #: Each repository's `permissions` for the token; one not named: push access.
        self.permissions: dict[str, dict[str, bool]] = {}
        #: The App installation's permissions.
        self.installation_permissions: dict[str, str] = {"issues": "write", "metadata": "read"}

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Answer:
        answer = super()._route(method, path, query, headers, body)
        if method != "GET":
            return answer
        if answer[0] == 404 and (found := _INSTALLATION.fullmatch(path)):
            return self._installation(headers, int(found["iid"]))
        if answer[0] == 404 and (found := _LABEL.fullmatch(path)):
            return self._label(headers, found["repo"], unquote(found["name"]))
        if answer[0] == 404 and (found := _LABELS.fullmatch(path)):
            return self._list_labels(headers, found["repo"], query)
        if answer[0] == 200 and (found := _REPO.fullmatch(path)):
            every = {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True}
            permissions = self.permissions.get(found["repo"], every)
            return 200, {**answer[1], "permissions": permissions}, answer[2]
        return answer

    def _label(self, headers: dict[str, str], repo: str, name: str) -> Answer:
        if self._actor(headers) is None:
            return 401, {"message": "Bad credentials"}, {}
        if repo not in self._repos or name not in self.labels.get(repo, EVERY_LABEL):
            return 404, {"message": "Not Found"}, {}
        return 200, {"name": name, "color": "ededed"}, {}

    def _list_labels(self, headers: dict[str, str], repo: str, query: dict[str, str]) -> Answer:
        """One page of the repository's labels, sorted by name as GitHub pages them."""
        if self._actor(headers) is None:
            return 401, {"message": "Bad credentials"}, {}
        if repo not in self._repos:
            return 404, {"message": "Not Found"}, {}
        names = sorted(self.labels.get(repo, EVERY_LABEL))
        per_page, page = min(100, int(query.get("per_page", 30))), int(query.get("page", 1))
        shown = names[(page - 1) * per_page : page * per_page]
        return 200, [{"name": name, "color": "ededed"} for name in shown], {}

    def _installation(self, headers: dict[str, str], iid: int) -> Answer:
        token = headers.get("authorization", "").partition(" ")[2]
        if self.app is None or iid != self.app.installation_id:
            return 404, {"message": "Not Found"}, {}
        if self._jwt_problem(token):
            return 401, {"message": "A JSON web token could not be decoded"}, {}
        return 200, {"id": iid, "permissions": dict(self.installation_permissions)}, {}


@pytest.fixture
def github() -> Iterator[LabelledGitHub]:
    with LabelledGitHub(
        tokens={TOKEN: "triage-bot"}, repositories=("acme/ops", "acme/payments")
    ) as server:
        yield server


def settings_for(github: GitHubServer, tmp_path: Path, **values: Any) -> Settings:
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    given: dict[str, Any] = {
        "store_url": f"sqlite:///{tmp_path}/t.db",
        "sinks": ("github",),
        "llm_provider": "none",
        "github_api_url": github.url,
        "github_repository": "acme/ops",
        "routes_file": routes,
        "github_token": TOKEN,
    }
    return Settings(**{**given, **values})


async def check_output(settings: Settings) -> list[str]:
    """The `github` lines `triage check` prints (its other checks fail here: no queue)."""
    out = io.StringIO()
    await run_checks(settings, out)
    return [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["github"]]


async def test_labels_present_or_creatable_say_nothing(
    github: LabelledGitHub, tmp_path: Path
) -> None:
    """A repository lacking labels whose token has push access (it creates them) and one with
    every label: the github line stays ok."""
    github.labels["acme/payments"] = set()
    [line] = await check_output(settings_for(github, tmp_path))
    assert line.startswith("ok    github   acme/ops readable as triage-bot"), line


async def test_a_missing_label_the_token_may_not_create_is_a_warning(
    github: LabelledGitHub, tmp_path: Path
) -> None:
    """A route's repository without `triage-digest` and `priority:P0`, whose token has triage
    but not push access: one warning naming the repository, each label and what happens
    without it (a label named in another case is there); the check still passes."""
    github.permissions["acme/payments"] = {"push": False, "triage": True, "pull": True}
    named = EVERY_LABEL - {"triage-digest", "priority:P0", "priority:P1"}
    github.labels["acme/payments"] = named | {"Priority:P1"}  # GitHub's names ignore case
    [line] = await check_output(settings_for(github, tmp_path))
    assert line.startswith("warn  github   acme/ops readable as triage-bot;"), line
    assert "P1" not in line
    assert "acme/payments lacks 'priority:P0'" in line
    assert "'triage-digest'" in line and "labelled 'triage' alone" in line
    assert "acme/ops" not in line.partition(";")[2]
    asked = [c["path"] for c in github.calls if "/labels" in c["path"]]
    assert asked == ["/repos/acme/payments/labels"]  # one page holds all its labels


async def test_a_repository_with_many_labels_is_asked_label_by_label(
    github: LabelledGitHub, tmp_path: Path
) -> None:
    """A repository whose first page of labels is full (100) may have more: those triage
    relies on that the page lacks are each asked for, and only those."""
    github.permissions["acme/ops"] = {"push": False, "triage": True, "pull": True}
    many = {f"area:{n:03}" for n in range(120)}
    github.labels["acme/ops"] = many | (EVERY_LABEL - {"priority:P2"})
    [line] = await check_output(settings_for(github, tmp_path))
    assert "acme/ops lacks 'priority:P2'" in line, line
    asked = [c["path"] for c in github.calls if "/repos/acme/ops/labels" in c["path"]]
    assert asked[0] == "/repos/acme/ops/labels"
    assert len(asked) == 1 + len(EVERY_LABEL)  # the page held only area: labels


async def test_a_missing_triage_label_says_issues_are_refused(
    github: LabelledGitHub, tmp_path: Path
) -> None:
    """Without `triage` (and a token that may not create it) GitHub refuses every new issue
    there: the warning says so."""
    github.permissions["acme/ops"] = {"push": False, "triage": True, "pull": True}
    github.labels["acme/ops"] = EVERY_LABEL - {"triage"}
    [line] = await check_output(settings_for(github, tmp_path))
    assert line.startswith("warn  github"), line
    assert "acme/ops lacks 'triage'" in line and "refuses every new issue" in line, line


async def test_a_token_without_triage_access_is_told_its_labels_are_dropped(
    github: LabelledGitHub, tmp_path: Path
) -> None:
    """A token with read access only: GitHub drops every issue's labels without a word,
    whatever labels exist; the warning says so, without asking for each label."""
    github.permissions["acme/payments"] = {"push": False, "triage": False, "pull": True}
    [line] = await check_output(settings_for(github, tmp_path))
    assert line.startswith("warn  github"), line
    assert "acme/payments: the token has neither push nor triage access" in line, line
    assert not [c for c in github.calls if "/labels" in c["path"]]


async def test_label_look_ups_that_fail_never_fail_the_check(
    github: LabelledGitHub, tmp_path: Path
) -> None:
    """A label look-up GitHub answers 502: the check still passes, with no label warning,
    and makes one label call per failed repository before giving up on it."""
    github.permissions["acme/ops"] = {"push": False, "triage": True, "pull": True}
    github.labels["acme/ops"] = set()
    github.fail_next(50, status=502, path="/labels")
    [line] = await check_output(settings_for(github, tmp_path))
    assert line.startswith("ok    github"), line
    assert len([c for c in github.calls if "/labels" in c["path"]]) == 1


async def test_the_digest_label_is_not_asked_for_without_the_digest(
    github: LabelledGitHub, tmp_path: Path
) -> None:
    """With TRIAGE_GITHUB_STORM_DIGEST off, a missing `triage-digest` is no warning."""
    github.permissions["acme/ops"] = {"push": False, "triage": True, "pull": True}
    github.labels["acme/ops"] = EVERY_LABEL - {"triage-digest"}
    settings = settings_for(github, tmp_path, github_storm_digest=False)
    [line] = await check_output(settings)
    assert line.startswith("ok    github"), line


def _rsa_pem() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


async def test_an_app_without_issues_write_is_warned_of_missing_labels(tmp_path: Path) -> None:
    """For a GitHub App, whether labels can be created is the installation's `issues`
    permission (one JWT call, `GET /app/installations/{id}`): read-only there and a label
    missing is a warning; with `issues: write`, nothing."""
    private, public = _rsa_pem()
    app = StubApp(app_id="4242", slug="triage-app", public_key=public, installation_id=77)
    with LabelledGitHub(repositories=("acme/ops", "acme/payments"), app=app) as github:
        github.labels["acme/ops"] = EVERY_LABEL - {"priority:P3"}
        settings = settings_for(
            github,
            tmp_path,
            github_token=None,
            github_app_id="4242",
            github_app_private_key=private,
            github_app_installation_id=77,
        )
        [ok] = await check_output(settings)
        github.installation_permissions = {"issues": "read", "metadata": "read"}
        [warned] = await check_output(settings)
    assert ok.startswith("ok    github"), ok
    assert warned.startswith("warn  github"), warned
    assert "acme/ops lacks 'priority:P3'" in warned
    assert "issues: write" in warned


async def test_a_routes_labels_and_its_escalation_label_are_asked_for_too(
    github: LabelledGitHub, tmp_path: Path
) -> None:
    """A route's own labels and its escalation's label, missing from the repository its
    issues go to (a token with triage access): each named with what happens without it; a
    label of a route sending elsewhere is not asked for there."""
    routes = tmp_path / "labelled.toml"
    routes.write_text(
        ROUTES.replace(
            'github = { repository = "acme/payments" }',
            'escalate_after_s = 1800\ngithub = { repository = "acme/payments", labels = ["pci"] }'
            '\n[route.escalate]\ngithub_label = "escalated"',
        )
    )
    github.permissions["acme/ops"] = {"push": False, "triage": True, "pull": True}
    github.permissions["acme/payments"] = {"push": False, "triage": True, "pull": True}
    [line] = await check_output(settings_for(github, tmp_path, routes_file=routes))
    assert line.startswith("warn  github"), line
    assert "acme/payments lacks 'pci': route payments's issues get only 'triage'" in line
    assert "acme/payments lacks 'escalated': route payments's escalations go without" in line
    assert "acme/ops lacks" not in line  # acme/ops takes no issue of the route
