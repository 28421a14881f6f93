"""Escalation: an incident of a route with `escalate_after_s` that is still open that long is
told to the route's escalation targets, once (the store's claim makes it once across replicas).

    Slack    one message to the route's escalation webhook: the title, how long it has been
             open, its priority and team, links to its tickets
    GitHub   the route's assignees added to the incident's issue, its label, and a comment

The title, triage's facts and the team are each a line of their own (a paragraph on GitHub): a
team is alert text, and beside the facts it could read as one more (`ops, 900 occurrences`).

Everything shown comes from the stored incident, whose text was redacted before it was stored;
it is escaped again for where it goes (Slack plain text, GitHub Markdown).

Each target goes through the circuit breaker of the sink that talks to the same service
(`sinks/guard.py`), with a permit of its own as the sink's calls have: while that breaker is open
the escalation is not attempted (SinkThrottledError, reason `breaker_open`: the sweep waits
quietly, `breaker.opened` being the outage's one line) and it goes out on a pass after the
breaker closes; its own failure counts toward the breaker as a sink call's does. GitHub shares
the GitHub sink's breaker (one API, one token). The escalation webhook shares the Slack sink's
breaker only when it is on the same host as the sink's default webhook (`SLACK_WEBHOOK_URL`):
a webhook on another host is another service, whose outage must neither stop the daemon's
intake nor be held back by Slack's, so it is called without a breaker, as before.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit

import httpx2
import structlog

from triage.breaker import BreakerState, Permit, note_opened
from triage.errors import SinkRejectedError, SinkThrottledError, SinkUnavailableError
from triage.incidents import Incident
from triage.routes import Escalation, Router
from triage.settings import Settings
from triage.sinks import markdown
from triage.sinks.aio import AiohttpTransport
from triage.sinks.github import IssueRef
from triage.sinks.github.api import GitHubApi, record
from triage.sinks.github.missing_labels import MissingLabels
from triage.sinks.github.text import MAX_ASSIGNEES
from triage.sinks.guard import BREAKER_OPEN, GuardedSink
from triage.sinks.slack import (
    TEMPORARY_REFUSALS,
    escalation_message,
    refusal_reason,
    slack_refusal,
)
from triage.tls import client_context

log = structlog.get_logger(__name__)


class Escalator:
    """Carries out escalations; one instance per daemon (one HTTP client, one GitHub client)."""

    def __init__(
        self,
        settings: Settings,
        router: Router,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        guards: Sequence[GuardedSink] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.router = router
        #: Escalation labels repositories lack and GitHub refused to create lately.
        self._missing_labels = MissingLabels(clock)
        #: The daemon's guarded sinks by name: their breakers stand for the services.
        self._guards: Mapping[str, GuardedSink] = {guard.name: guard for guard in guards}
        default_hook = settings.slack_webhook_url
        self._slack_host = _host(default_hook.get_secret_value()) if default_hook else ""
        self._http = httpx2.AsyncClient(
            timeout=settings.slack_timeout_s,
            transport=transport or AiohttpTransport(client_context()),
        )
        wants_github = any(
            r.route.escalation is not None
            and (r.route.escalation.github_assignees or r.route.escalation.github_label)
            for r in router.rules
        )
        self._github = GitHubApi(settings, transport=transport) if wants_github else None

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._github is not None:
            await self._github.aclose()

    async def escalate(
        self,
        incident: Incident,
        now: datetime,
        sent: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        """Tell the incident's route's escalation targets (`slack`, `github`) but those its
        escalation has already told, calling `sent(target)` after each; raises a
        SinkUnavailableError (try again later) or SinkRejectedError (it cannot be done) when
        one refuses."""
        route = self.router.named(incident.route or "")
        target = route.escalation
        if route.name != incident.route or target is None:
            # The route was renamed or stopped escalating since the ticket opened.
            log.info("escalation.no_target", fingerprint=incident.fingerprint, route=incident.route)
            return
        told = incident.escalation.sent if incident.escalation is not None else ()
        steps: list[tuple[str, GuardedSink | None, Callable[[], Awaitable[None]]]] = []
        if target.slack_webhook_url:
            url = target.slack_webhook_url
            same = self._slack_host and _host(url) == self._slack_host
            guard = self._guards.get("slack") if same else None
            steps.append(("slack", guard, lambda: self._slack(url, incident, now)))
        if target.github_assignees or target.github_label:
            guard = self._guards.get("github")
            steps.append(("github", guard, lambda: self._github_issue(target, incident, now)))
        for name, guard, step in steps:
            if name in told:
                continue
            await _through(guard, step)
            if sent is not None:
                await sent(name)
        log.info("escalation.sent", fingerprint=incident.fingerprint, route=route.name)

    async def _slack(self, url: str, incident: Incident, now: datetime) -> None:
        # The title and team are alert text: plain text in the post, as the Slack sink has it,
        # each on a line of its own, apart from triage's facts (`_summary`).
        title = " ".join(incident.title[:300].split())
        line = "\n".join(
            [f"\N{POLICE CARS REVOLVING LIGHT} {title}", *_summary(incident, now, _one_line)]
        )
        live = {sink: ref for sink, ref in incident.refs.items() if not incident.ticket_gone(sink)}
        message = escalation_message(line, live)
        try:
            request = self._http.build_request("POST", url, json=message)
            response = await self._http.send(request, stream=True)
        except httpx2.TransportError as exc:
            raise SinkUnavailableError(
                f"escalation webhook unreachable: {type(exc).__name__}"
            ) from None
        try:
            await response.aread()
            unread = False
        except httpx2.TransportError:
            # Once a 2xx has come the message is in the channel: a body that breaks after it
            # must not make the sweep post the escalation again (webhooks take no key).
            unread = True
        finally:
            await response.aclose()
        status = response.status_code
        refused = None if unread else slack_refusal(response)
        if 200 <= status < 300 and refused is None:
            return
        # Slack's error code, else the answer's size and type: never its text, which may echo
        # the post or carry a proxy's page, CR LF and escapes into the sweep's log line.
        reason = "answer unread" if unread else refusal_reason(response, refused, url)[1]
        # A 1xx as the final answer (an upgrade no one asked for) is a broken answer too.
        # An unread body says nothing of its status: a 403 is refused for good either way.
        broken = status < 200 or status >= 500 or status in (408, 429)
        if broken or refused in TEMPORARY_REFUSALS:
            raise SinkUnavailableError(f"escalation webhook answered {status}: {reason}")
        raise SinkRejectedError(f"escalation webhook answered {status}: {reason}")

    async def _github_issue(self, target: Escalation, incident: Incident, now: datetime) -> None:
        assert self._github is not None
        ref = IssueRef.parse(incident.refs.get("github", ""))
        if ref is None or incident.ticket_gone("github"):  # a gone issue takes no comment
            log.info("escalation.no_issue", fingerprint=incident.fingerprint)
            return
        path = f"/repos/{ref.repository}/issues/{ref.number}"
        if ref.comment_id is not None:
            # An entry of a storm digest: the issue holds other incidents too, so it is neither
            # assigned nor labelled for this one; the comment names the entry.
            entry = markdown.safe_url(incident.refs.get("github", "")) or f"#{ref.number}"
            head = f"**Escalated** (digest entry {entry}): {markdown.inline(incident.title, 300)}"
            body = "\n\n".join([head, *_summary(incident, now, _inline)])
            await self._github.call("POST", f"{path}/comments", json={"body": body})
            return
        if target.github_assignees:
            issue = record(await self._github.call("GET", path), "the issue")
            assignees = issue.get("assignees")
            have = [
                a["login"]
                for a in (assignees if isinstance(assignees, list) else [])
                if isinstance(a, dict) and isinstance(a.get("login"), str)
            ]
            # Added, never replaced: the people already assigned stay, and the route's fill
            # what is left of GitHub's 10 (more is a 422 for the whole PATCH).
            wanted = list(dict.fromkeys([*have, *target.github_assignees]))[:MAX_ASSIGNEES]
            if wanted != have[:MAX_ASSIGNEES]:
                await self._github.call("PATCH", path, json={"assignees": wanted})
        if target.github_label:
            await self._label(path, ref, target.github_label)
        head = f"**Escalated**: {markdown.inline(incident.title, 300)}"
        body = "\n\n".join([head, *_summary(incident, now, _inline)])
        await self._github.call("POST", f"{path}/comments", json={"body": body})

    async def _label(self, path: str, ref: IssueRef, label: str) -> None:
        """Add the escalation's label. GitHub creates a label the repository lacks, and
        refuses to when the token may not (403, or 422 for a name it will not take): the label
        is not worth the escalation, so that is one warning and the comment still goes, and
        the label is remembered as missing there (`missing_labels.py`): the repository's next
        escalations leave it out without asking until its recheck period has passed. A refusal
        about the issue itself (archived, locked) stays the escalation's."""
        assert self._github is not None
        if not self._missing_labels.kept(ref.repository, [label]):
            log.debug("escalation.label_left_out", repository=ref.repository, issue=ref.number)
            return
        try:
            await self._github.call("POST", f"{path}/labels", json={"labels": [label]})
        except SinkRejectedError as exc:
            detail = exc.detail.lower()
            if exc.status not in (403, 422) or "archived" in detail or "locked" in detail:
                raise
            log.warning(
                "escalation.label_refused",
                repository=ref.repository,
                issue=ref.number,
                label=label,
                status=exc.status,
                reason=exc.detail,
            )
            self._missing_labels.note(ref.repository, label)


async def _through(guard: GuardedSink | None, step: Callable[[], Awaitable[None]]) -> None:
    """Run `step` as a call of `guard`'s sink would be: refused while its breaker is open
    (raises SinkThrottledError, reason `breaker_open`), its outcome reported with its own
    permit (a failure counts, and may open the breaker; any answer is a success)."""
    if guard is None:
        await step()
        return
    permit = _permit(guard)
    if permit is None:
        wait = max(guard.blocked_for() or 1.0, 1.0)
        raise SinkThrottledError(
            f"escalation waits: the {guard.name} circuit breaker is open",
            retry_after_s=wait,
            reason=BREAKER_OPEN,
        )
    try:
        await step()
    except SinkUnavailableError as exc:
        if guard.breaker.failure(permit, str(exc)):
            note_opened(exc, guard.breaker)  # `breaker.opened` is the outage's line
        raise
    except (asyncio.CancelledError, SinkThrottledError):
        raise  # neither an answer nor a failure: the `finally` frees a probe slot it held
    except BaseException:
        guard.breaker.success(permit)  # it answered (refused this one): the service is up
        raise
    else:
        guard.breaker.success(permit)
    finally:
        guard.breaker.cancelled(permit)


def _permit(guard: GuardedSink) -> Permit | None:
    """A permit for an escalation, as `GuardedSink` gives its own calls: none while the
    breaker is open; half-open, a sink with a probe of its own is probed by it (started here
    too), and one without may take this call as its probe."""
    state = guard.breaker.state
    if state is not BreakerState.CLOSED and guard.can_probe:
        if state is BreakerState.HALF_OPEN:
            guard.start_probe()
        return None
    return guard.breaker.allow()


def _host(url: str) -> str:
    """The host and port of a webhook URL ("" when it has none): the service it is on."""
    try:
        parts = urlsplit(url.strip())
        return f"{parts.hostname or ''}:{parts.port or parts.scheme}" if parts.hostname else ""
    except ValueError:
        return ""


def _inline(text: str) -> str:
    return markdown.inline(text, 100)


def _one_line(text: str) -> str:
    return " ".join(text[:100].split())


def _summary(incident: Incident, now: datetime, shown: Callable[[str], str]) -> list[str]:
    """The lines an escalation's title is followed by: triage's facts (how long the incident
    has been open, its priority, its occurrences), then its team (alert text, as `shown` makes
    it fit where it goes: Markdown for GitHub, one line for Slack's plain text) on a line of its
    own, after `team:`, so it cannot read as one more fact (`ops, 900 occurrences`)."""
    since = incident.reopened_at or incident.opened_at
    minutes = max(0, int((now - since).total_seconds() // 60))
    facts = [f"open for {minutes} min"]
    if incident.ticket is not None:
        facts.append(f"priority {incident.ticket.priority.value}")
    facts.append(f"{incident.occurrences} occurrences")
    lines = [" · ".join(facts)]
    if incident.team:
        lines.append(f"team: {shown(incident.team)}")
    return lines
