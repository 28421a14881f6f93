"""For `triage check`: the labels the github sink relies on that a repository lacks while our
credentials may not create them, each said with what happens without it.

GitHub creates a missing label when an issue names it, if the credentials may: a token with
push access to the repository (`permissions.push` in `GET /repos/{r}`, as GitHub shows it to a
user's token), an App installation with `issues: write` (`GET /app/installations/{id}`, with
the App's JWT). A token with triage access applies existing labels only; one with read access
has every label of the issues it opens dropped without a word. Bounded: one call for an App,
one per repository, and only when the labels cannot be created, one page of its labels
(`GET /repos/{r}/labels`), and when that page is full, one call for each label it lacks, at
most `MOST_LABELS` (`GET /repos/{r}/labels/{name}`: 404 is missing). The labels: triage's own
(`triage`, the priorities', `triage-digest`, `flapping`), then the routes' and their
escalations'. A look-up that fails says nothing: the
reachability of each repository is the github check's own concern.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from triage.errors import ConfigError, TriageError
from triage.models import Priority
from triage.routes import load_router
from triage.settings import Settings
from triage.sinks.github import text
from triage.sinks.github.api import GitHubApi, record, records, text_field
from triage.sinks.github.auth import app_credentials

#: What happens to issues without a label when GitHub may not create it.
_WITHOUT_TRIAGE = "GitHub refuses every new issue there (403), as its issues must carry it"
_WITHOUT_PRIORITY = "incidents' issues are labelled 'triage' alone"
_WITHOUT_DIGEST = "a storm's digest issue is labelled 'triage' alone"
_WITHOUT_FLAPPING = "a flapping incident's issue is not labelled so"
#: Labels asked for per repository, at most: triage's own six, then the routes' (a routes
#: file may name many; those past this are not asked).
MOST_LABELS = 12
#: Labels GitHub lists a page, at most.
_PAGE = 100


def relied_on(settings: Settings, repository: str) -> list[tuple[str, str]]:
    """Each label the sink or an escalation puts on issues in `repository`, with what
    happens without it: triage's own, then those of the routes whose issues go there."""
    labels = [(text.TRIAGE_LABEL, _WITHOUT_TRIAGE)]
    labels += [(f"priority:{text.p_number(p)}", f"{p.value} {_WITHOUT_PRIORITY}") for p in Priority]
    if settings.github_storm_digest:
        labels.append((text.DIGEST_LABEL, _WITHOUT_DIGEST))
    labels.append((text.FLAPPING_LABEL, _WITHOUT_FLAPPING))
    labels += _route_labels(settings, repository)
    named = dict(reversed(labels))  # the first reason given for a label is kept
    return [(label, named[label]) for label in dict.fromkeys(n for n, _ in labels)]


def _route_labels(settings: Settings, repository: str) -> list[tuple[str, str]]:
    """The labels the routes sending issues to `repository` add: their own on each new issue,
    their escalation's on an escalated one (none when the routes file cannot be read, which
    the routes check reports)."""
    try:
        router = load_router(settings)
    except ConfigError:
        return []
    labels = []
    for route in [router.default, *(rule.route for rule in router.rules)]:
        target = route.target("github")
        if "github" not in route.sinks or (target.repository or settings.github_repository) != (
            repository
        ):
            continue
        labels += [
            (label, f"route {route.name}'s issues get only 'triage' and their priority")
            for label in target.labels
        ]
        if route.escalation is not None and route.escalation.github_label:
            labels.append(
                (
                    route.escalation.github_label,
                    f"route {route.name}'s escalations go without the label (a warning each)",
                )
            )
    return labels


async def label_problems(settings: Settings, repositories: list[str]) -> list[str]:
    """One line per repository of `repositories` whose labels triage cannot count on."""
    api = GitHubApi(settings)
    try:
        app_may_create = await _app_may_create(api, settings)
        problems = []
        for repository in repositories:
            problem = await _repository_problem(api, settings, repository, app_may_create)
            problems += [problem] if problem else []
        return problems
    finally:
        await api.aclose()


async def _app_may_create(api: GitHubApi, settings: Settings) -> bool | None:
    """For an App, whether its installation may create labels; None without an App (a
    token's access is the repository's) or when GitHub does not say."""
    permissions = await _installation_permissions(api, settings)
    if permissions is None:
        return None
    return "write" in (permissions.get("issues"), permissions.get("pull_requests"))


async def _installation_permissions(api: GitHubApi, settings: Settings) -> dict[str, Any] | None:
    """The App installation's permissions as GitHub answers them (`GET
    /app/installations/{id}`, with the App's JWT); None without an App, or when GitHub does
    not say (the read failed, an answer without them)."""
    credentials = app_credentials(settings)
    if credentials is None:
        return None
    path = f"/app/installations/{credentials.installation_id}"
    try:
        answer = record(await api.call("GET", path, app_jwt=True), "an installation")
    except TriageError:
        return None
    permissions = answer.get("permissions")
    return permissions if isinstance(permissions, dict) else None


async def app_issues_refused(settings: Settings) -> str | None:
    """Why GitHub refuses the App every new issue, as its installation's permissions say
    (read without writing anything), or None: opening an issue takes `issues: write`, which
    an installation with `issues: read`, or none, lacks in every repository. None without an
    App, or when GitHub does not say."""
    api = GitHubApi(settings)
    try:
        permissions = await _installation_permissions(api, settings)
    finally:
        await api.aclose()
    if permissions is None or permissions.get("issues") == "write":
        return None
    held = permissions.get("issues")
    shown = f"issues: {held}" if isinstance(held, str) and held.isalpha() else "no issues"
    return (
        f"the GitHub App's installation has {shown} permission, not issues: write, so GitHub "
        "refuses it every new issue: grant issues: write (and accept it on the installation)"
    )


async def _repository_problem(
    api: GitHubApi, settings: Settings, repository: str, app_may_create: bool | None
) -> str | None:
    """What is wrong with `repository`'s labels for triage, else None."""
    if app_may_create is None and app_credentials(settings) is not None:
        return None  # the installation's permissions unknown: nothing to say
    if app_may_create is None:
        access = await _token_access(api, repository)
        if access is None or access == "push":
            return None
        if access == "read":
            return (
                f"{repository}: the token has neither push nor triage access, so GitHub "
                "drops the labels of every issue it opens there (triage then finds them by "
                "creator); give it push access (or triage access, the labels created)"
            )
    elif app_may_create:
        return None
    missing = await _missing(api, repository, relied_on(settings, repository)[:MOST_LABELS])
    if not missing:
        return None
    who = "the App (issues: write)" if app_may_create is False else "the token (push access)"
    said = "; ".join(f"{repository} lacks {label!r}: {without}" for label, without in missing)
    return f"{said} (create them, or let {who} create labels)"


async def _token_access(api: GitHubApi, repository: str) -> str | None:
    """`push`, `triage` or `read`: what a user's token may do in `repository`, from GitHub's
    `permissions`; None when it does not say (or the read fails)."""
    try:
        answer = record(await api.call("GET", f"/repos/{repository}"), "a repository")
    except TriageError:
        return None
    permissions = answer.get("permissions")
    if not isinstance(permissions, dict):
        return None
    if any(permissions.get(role) is True for role in ("admin", "maintain", "push")):
        return "push"
    return "triage" if permissions.get("triage") is True else "read"


async def _missing(
    api: GitHubApi, repository: str, labels: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The `labels` `repository` lacks (GitHub's label names ignore case). One page of its
    labels is read first: when it is not full it is all of them; otherwise each label it
    lacks is asked for by name (404: missing). A failed look-up ends the asking (GitHub is in
    trouble, and check says nothing it does not know)."""
    try:
        page = await api.call("GET", f"/repos/{repository}/labels", params={"per_page": _PAGE})
        named = records(page, "labels")
        listed = {text_field(label, "name").casefold() for label in named}
    except TriageError:
        return []
    wanted = [(label, without) for label, without in labels if label.casefold() not in listed]
    if len(named) < _PAGE:
        return wanted
    missing = []
    for label, without in wanted:
        path = f"/repos/{repository}/labels/{quote(label, safe='')}"
        try:
            answer = await api.call("GET", path, gone_ok=True)
        except TriageError:
            return []
        if answer is None:
            missing.append((label, without))
    return missing
