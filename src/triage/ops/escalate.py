"""Escalation: an incident of a route with `escalate_after_s` that is still open that long is
told to the route's escalation targets, once (the store's claim makes it once across replicas).

    Slack    one message to the route's escalation webhook: the title, how long it has been
             open, its priority and team, links to its tickets
    GitHub   the route's assignees added to the incident's issue, its label, and a comment

Everything shown comes from the stored incident, whose text was redacted before it was stored;
it is escaped again for where it goes (Slack mrkdwn, GitHub Markdown).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import httpx2
import structlog

from triage.errors import SinkRejectedError, SinkUnavailableError
from triage.incidents import Incident
from triage.routes import Escalation, Router
from triage.settings import Settings
from triage.sinks import markdown
from triage.sinks.aio import AiohttpTransport
from triage.sinks.github.api import GitHubApi, record
from triage.sinks.github.sink import IssueRef
from triage.sinks.slack import TEMPORARY_REFUSALS, safe, scrub_webhook, slack_refusal
from triage.tls import client_context

log = structlog.get_logger(__name__)

_REASON_CHARS = 200


class Escalator:
    """Carries out escalations; one instance per daemon (one HTTP client, one GitHub client)."""

    def __init__(
        self,
        settings: Settings,
        router: Router,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.router = router
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
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        if target.slack_webhook_url:
            url = target.slack_webhook_url
            steps.append(("slack", lambda: self._slack(url, incident, now)))
        if target.github_assignees or target.github_label:
            steps.append(("github", lambda: self._github_issue(target, incident, now)))
        for name, step in steps:
            if name in told:
                continue
            await step()
            if sent is not None:
                await sent(name)
        log.info("escalation.sent", fingerprint=incident.fingerprint, route=route.name)

    async def _slack(self, url: str, incident: Incident, now: datetime) -> None:
        title = safe(incident.title[:300])
        text = f":rotating_light: *Escalated*: {title} {_summary(incident, now)}"
        links = [f"<{ref}|{safe(sink)}>" for sink, ref in incident.refs.items() if _is_url(ref)]
        if links:
            text += "\n" + " · ".join(links)
        message = {
            "text": f"Escalated: {title}",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            "unfurl_links": False,
            "unfurl_media": False,
        }
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
        text = refused or ("" if unread else response.text)
        reason = " ".join(scrub_webhook(text, url).split())[:_REASON_CHARS]
        if status >= 500 or status in (408, 429) or unread or refused in TEMPORARY_REFUSALS:
            raise SinkUnavailableError(f"escalation webhook answered {status}: {reason}")
        raise SinkRejectedError(f"escalation webhook answered {status}: {reason}")

    async def _github_issue(self, target: Escalation, incident: Incident, now: datetime) -> None:
        assert self._github is not None
        ref = IssueRef.parse(incident.refs.get("github", ""))
        if ref is None:
            log.info("escalation.no_issue", fingerprint=incident.fingerprint)
            return
        path = f"/repos/{ref.repository}/issues/{ref.number}"
        if ref.comment_id is not None:
            # An entry of a storm digest: the issue holds other incidents too, so it is neither
            # assigned nor labelled for this one; the comment names the entry.
            entry = markdown.safe_url(incident.refs.get("github", "")) or f"#{ref.number}"
            body = (
                f"**Escalated** (digest entry {entry}): {markdown.inline(incident.title, 300)} "
                f"{_summary(incident, now)}"
            )
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
            wanted = list(dict.fromkeys([*have, *target.github_assignees]))
            if wanted != have:
                await self._github.call("PATCH", path, json={"assignees": wanted})
        if target.github_label:
            await self._github.call(
                "POST", f"{path}/labels", json={"labels": [target.github_label]}
            )
        body = f"**Escalated**: {markdown.inline(incident.title, 300)} {_summary(incident, now)}"
        await self._github.call("POST", f"{path}/comments", json={"body": body})


def _summary(incident: Incident, now: datetime) -> str:
    since = incident.reopened_at or incident.opened_at
    minutes = max(0, int((now - since).total_seconds() // 60))
    parts = [f"open for {minutes} min"]
    if incident.ticket is not None:
        parts.append(f"priority {incident.ticket.priority.value}")
    if incident.team:
        parts.append(f"team {safe(incident.team)}")
    parts.append(f"{incident.occurrences} occurrences")
    return "(" + ", ".join(parts) + ")"


def _is_url(ref: str) -> bool:
    return ref.startswith(("https://", "http://")) and not any(c in ref for c in "<>| ")
