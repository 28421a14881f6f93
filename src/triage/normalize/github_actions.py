"""GitHub's `workflow_run` webhook (a repository's or organisation's webhook subscribed to
"Workflow runs", https://docs.github.com/en/webhooks/webhook-events-and-payloads#workflow_run):
`action` requested, in_progress or completed, the run in `workflow_run` (its `conclusion` once
completed), the `workflow`, the `repository`. Teams point it at triage to learn that CI or a
deploy workflow failed. Read as format `github-actions`, source `github-actions`. The `ping`
GitHub sends when such a webhook is created is Skipped as `test_notification`.

Identity: the repository (`repository.full_name`), the workflow (`workflow_run.workflow_id`)
and the branch (`head_branch`), and the fork a pull request's branch is in when it is not the
repository (`head_repository.full_name`: a fork's `main` is not the repository's); never the
run's id, number, attempt, commit or times, which are
new for every run, so a workflow failing again on its branch is one incident counting repeats,
and its next run that succeeds closes it. Another branch is another incident: a pull request's
failing checks never close main's.
States: a completed run's `conclusion` failure, timed_out or startup_failure fires, success
resolves; cancelled, skipped, neutral, stale and action_required change no ticket, nor does a
run requested or in progress (Skipped, one log line). Any other conclusion fires, so no failure
GitHub adds later is lost.
"""

from __future__ import annotations

from typing import Any

from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized, Skipped
from triage.normalize.generic import dated
from triage.normalize.vendors import labelled, paragraphs, untitled

SOURCE = "github-actions"

#: A completed run's conclusions that say the workflow failed.
_FAILED = frozenset({"failure", "timed_out", "startup_failure"})
_SUCCEEDED = frozenset({"success"})
#: Conclusions that say nothing about the workflow's health: someone or something stopped or
#: skipped the run, or it waits on a person.
_NO_CHANGE = frozenset({"cancelled", "skipped", "neutral", "stale", "action_required"})
#: The one action whose run has a conclusion.
_COMPLETED = "completed"
#: The event a webhook whose `ping` is read here is subscribed to.
_WORKFLOW_RUN = "workflow_run"


def matches(payload: dict[str, Any]) -> bool:
    """A `workflow_run` event: its run object, an `action`, and the repository it ran in; or
    the `ping` of a webhook subscribed to workflow runs (`_is_ping`)."""
    return untitled(payload) and (
        (
            isinstance(payload.get("workflow_run"), dict)
            and "action" in payload
            and isinstance(payload.get("repository"), dict)
        )
        or _is_ping(payload)
    )


def _is_ping(payload: dict[str, Any]) -> bool:
    """GitHub's `ping`, sent when a webhook is created (`zen`, `hook_id`, the `hook`), of a
    webhook whose events include workflow runs: GitHub shows the webhook failing unless it is
    answered as read."""
    hook = payload.get("hook")
    events = hook.get("events") if isinstance(hook, dict) else None
    return (
        "zen" in payload
        and "hook_id" in payload
        and isinstance(events, list)
        and _WORKFLOW_RUN in events
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    if _is_ping(payload):
        hook = common.ident_or_none(payload.get("hook_id"), "hook_id") or "?"
        detail = f"{SOURCE} ping of GitHub webhook {common.short(hook)}: no ticket change"
        return Normalized((), (Skipped(SOURCE, "test_notification", detail),))
    run = common.obj(payload.get("workflow_run"), "workflow_run", required=True)
    repository = common.obj(payload.get("repository"), "repository", required=True)
    repo = common.ident(repository.get("full_name"), "repository.full_name")
    workflow = common.ident(run.get("workflow_id"), "workflow_run.workflow_id")
    branch = common.ident_or_none(run.get("head_branch"), "workflow_run.head_branch") or ""
    fork = _fork(run, repo)
    name = common.line(common.unnested(run.get("name")), "workflow_run.name", shown=True)
    on = f"{fork}:{branch}" if fork else branch
    shown = f"{name or f'workflow {workflow}'}{f' on {on}' if on else ''} ({repo})"
    action = common.word(payload.get("action"), "action") or ""
    conclusion = (common.word(run.get("conclusion"), "workflow_run.conclusion") or "").lower()
    if action.lower() != _COMPLETED or conclusion in _NO_CHANGE:
        state = conclusion if action.lower() == _COMPLETED else action
        detail = f"{SOURCE} run of {common.short(shown)} is {common.short(state)}: no ticket change"
        return Normalized((), (Skipped(SOURCE, "no_state_change", detail),))
    status = Status.RESOLVED if conclusion in _SUCCEEDED else Status.FIRING
    verb = "succeeded" if status is Status.RESOLVED else _said(conclusion)
    occurred, notes = dated(run.get("updated_at"), f"{SOURCE} workflow_run.updated_at")
    alert = Alert(
        source=SOURCE,
        status=status,
        title=common.first_title(f"GitHub Actions: {shown} {verb}"),
        severity="error" if conclusion in _FAILED else None,
        description=paragraphs(run.get("display_title"), _commit(run)),
        links=common.links(run=common.url(run.get("html_url"), "workflow_run.html_url")),
        labels=labelled(
            ("repository", repo),
            ("workflow", name),
            ("workflow_id", workflow),
            ("branch", branch),
            ("head_repository", fork),
            ("event", run.get("event")),
            ("conclusion", conclusion),
            ("run_number", run.get("run_number")),
            ("run_attempt", run.get("run_attempt")),
        ),
        occurred_at=occurred,
        identity={"repository": repo, "workflow": workflow, "branch": branch}
        | ({"head_repository": fork} if fork else {}),
        raw=payload,
    )
    return Normalized((alert,), (), notes)


#: How the title ends for each failed conclusion; another one is named as it came.
_SAID = {"failure": "failed", "timed_out": "timed out", "startup_failure": "failed to start"}


def _fork(run: dict[str, Any], repo: str) -> str | None:
    """The repository the run's branch is in when it is not `repo` (a pull request from a
    fork, whose `main` is not the repository's), else None."""
    head = common.obj_or_empty(run.get("head_repository"))
    given = common.ident_or_none(head.get("full_name"), "workflow_run.head_repository.full_name")
    return given if given and given != repo else None


def _said(conclusion: str) -> str:
    """What a run's conclusion that is no success says, as the title ends it."""
    return _SAID.get(conclusion, f"failed ({conclusion[:40]})")


def _commit(run: dict[str, Any]) -> str | None:
    """The commit the run built, as a line: its short sha and the first line of its message."""
    sha = common.word(run.get("head_sha"), "workflow_run.head_sha")
    head = common.obj_or_empty(run.get("head_commit"))
    given = head.get("message")
    first = given.strip().split("\n", 1)[0] if isinstance(given, str) else None
    message = common.line(first, "head_commit.message", 200, shown=True)
    if not sha:
        return None
    return f"Commit {sha[:12]}: {message}" if message else f"Commit {sha[:12]}"
