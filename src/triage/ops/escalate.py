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

A webhook's 429 is a wait (SinkThrottledError with its Retry-After, as the Slack sink raises for
its own), never a failure on the breaker: one webhook's rate limit is no Slack outage. A 2xx
whose body is a web page (a proxy's sign-in page) reached no Slack: tried again (bad_response).
The GitHub comment ends with a hidden marker naming the escalation (`escalation_marker`), and
triage's comment with it on the issue is looked for before posting: when GitHub made the
comment and its answer broke off, the sweep's retry does not post it twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx2
import structlog

from triage.breaker import BreakerState, Permit, note_opened
from triage.errors import SinkRejectedError, SinkThrottledError, SinkUnavailableError
from triage.incidents import Incident
from triage.incidents.ledger import SinkAnswer, SinkAnswers
from triage.routes import Escalation, Route, Router
from triage.settings import Settings
from triage.sinks import markdown
from triage.sinks.aio import AiohttpTransport
from triage.sinks.github import IssueRef
from triage.sinks.github.api import GitHubApi, record, records
from triage.sinks.github.lookup import PAGE_SIZE, MarkerLookup
from triage.sinks.github.missing_labels import MissingLabels
from triage.sinks.github.text import MAX_ASSIGNEES, effect_marker
from triage.sinks.guard import BREAKER_OPEN, GuardedSink
from triage.sinks.http import UnsaidWaits, retry_after_of, unread_answer
from triage.sinks.slack import (
    CONTENT_REFUSED,
    RATE_LIMITED,
    TEMPORARY_REFUSALS,
    escalation_message,
    is_web_page,
    plain_escalation,
    refusal_reason,
    slack_refusal,
)
from triage.tls import client_context

log = structlog.get_logger(__name__)

#: An escalation comment is looked for among the issue's comments since its episode began,
#: less this much for GitHub's clock being behind ours.
_SINCE_SLACK = timedelta(minutes=10)
#: At most this many pages of those comments are read for it (a few within a normal episode).
_COMMENT_PAGES = 3


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
        #: A rate-limited webhook's wait when it names none: the Slack sink's spacing of posts.
        self._slack_spacing_s = settings.slack_min_interval_s
        self._clock = clock
        #: Rate-limited webhook URLs → the clock time before which none of their escalations
        #: is posted (`_webhook_limited`), as the Slack sink holds its own posts.
        self._held_until: dict[str, float] = {}
        #: Per webhook URL: its 429s in a row that named no wait (`UnsaidWaits`, the Slack
        #: sink's rule: Slack's spacing of posts, doubled with each).
        self._unsaid: dict[str, UnsaidWaits] = {}
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
        #: Finds an escalation comment an earlier attempt posted (`_comment_once`).
        self._lookup = MarkerLookup(self._github, clock) if self._github is not None else None
        #: Targets told whose record (`sent`) the store did not write (throttled): a retry in
        #: this process records them without telling them again (a webhook takes no key).
        self._told = SinkAnswers()

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
        route = _route_of(self.router, incident)
        target = route.escalation if route is not None else None
        if route is None or target is None:
            # The route is gone, was renamed (but for a grouping route keeping its groups'
            # key), or stopped escalating since the ticket opened.
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
        # One escalation per opening: a reopened incident escalates anew.
        escalation = (
            "escalation",
            incident.fingerprint,
            incident.reopened_at or incident.opened_at,
        )
        for name, guard, step in steps:
            if name in told:
                continue
            if self._told.recall(escalation, name) is None:
                await _through(guard, step)
                self._told.remember(escalation, name, SinkAnswer(None, None, None))
            if sent is not None:
                await sent(name)
            self._told.forget(escalation, name)
        log.info("escalation.sent", fingerprint=incident.fingerprint, route=route.name)

    async def _slack(self, url: str, incident: Incident, now: datetime) -> None:
        self._hold_if_limited(url)
        # The title and team are alert text: plain text in the post, as the Slack sink has it,
        # each on a line of its own, apart from triage's facts (`_summary`).
        title = " ".join(incident.title[:300].split())
        line = "\n".join(
            [f"\N{POLICE CARS REVOLVING LIGHT} {title}", *_summary(incident, now, _one_line)]
        )
        live = {sink: ref for sink, ref in incident.refs.items() if not incident.ticket_gone(sink)}
        response, unread = await self._post(url, escalation_message(line, live))
        # Slack's error code at any status (an incoming webhook's 400 `invalid_blocks` text,
        # a 2xx `{"ok": false}`), never the answer's text.
        said = None if unread else slack_refusal(response)
        blocks_refused = None if unread else refusal_reason(response, said, url)[0]
        if blocks_refused in CONTENT_REFUSED and response.status_code != 429:
            # Its form refused (`no_text`, `invalid_blocks`, a message too long): the same
            # escalation as plain text may pass, as the Slack sink posts its own messages.
            log.warning(
                "escalation.blocks_refused",
                fingerprint=incident.fingerprint,
                error=blocks_refused,
                action="plain_text",
            )
            response, unread = await self._post(url, plain_escalation(line, live))
        else:
            blocks_refused = None
        status = response.status_code
        if 200 <= status < 300 and not unread and is_web_page(response):
            # A proxy's sign-in or block page (a web app's URL as the webhook): no Slack took
            # the post, so it is tried again, as the Slack sink's own posts are.
            raise SinkUnavailableError(
                f"escalation webhook answered {status} with a web page "
                f"({unread_answer(response)}), not Slack's answer",
                reason="bad_response",
            )
        refused = None if unread else slack_refusal(response)
        if 200 <= status < 300 and refused is None:
            self._unsaid.pop(url, None)  # a post went through: the next wait starts afresh
            return
        # Slack's error code, else the answer's size and type: never its text, which may echo
        # the post or carry a proxy's page, CR LF and escapes into the sweep's log line.
        reason = "answer unread" if unread else refusal_reason(response, refused, url)[1]
        if blocks_refused is not None:
            reason += f" (as blocks: {blocks_refused})"
        if status == 429 or refused in RATE_LIMITED:  # a 2xx `{"ok": false}` may say so too
            text = f"escalation webhook answered {status}: {reason}"
            raise self._webhook_limited(text, response, url)
        # A 1xx as the final answer (an upgrade no one asked for) is a broken answer too.
        # An unread body says nothing of its status: a 403 is refused for good either way.
        broken = status < 200 or status >= 500 or status == 408
        if broken or refused in TEMPORARY_REFUSALS:
            raise SinkUnavailableError(f"escalation webhook answered {status}: {reason}")
        raise SinkRejectedError(f"escalation webhook answered {status}: {reason}")

    async def _post(self, url: str, message: Mapping[str, Any]) -> tuple[httpx2.Response, bool]:
        """POST `message` to the webhook `url`: its answer, and whether its body broke off
        after the status came (unread)."""
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
        return response, unread

    def _webhook_limited(
        self, text: str, response: httpx2.Response, url: str
    ) -> SinkThrottledError:
        """The wait a rate-limited webhook asked for (its Retry-After, else Slack's spacing of
        posts, doubled with each such answer in a row: `UnsaidWaits`), as the Slack sink raises
        for its own 429s: a throttle, not an outage, so it
        counts no failure on the Slack breaker (whose opening would hold every channel's
        posts), and it holds this escalation alone, not the daemon's intake. The webhook is
        left alone until the wait has passed: the sweep's next incidents would post to it a
        moment later, only to be refused again and keep its limit going."""
        waits = self._unsaid.setdefault(url, UnsaidWaits(self._slack_spacing_s))
        wait_s = waits.wait_s(retry_after_of(response.headers))
        now_s = self._clock()
        # Waits already over are dropped: the map holds only the webhooks still waiting.
        self._held_until = {
            hook: until for hook, until in self._held_until.items() if until > now_s
        }
        self._held_until[url] = now_s + wait_s
        return _webhook_wait(f"{text} (asked to wait {wait_s:g} s)", wait_s)

    def _hold_if_limited(self, url: str) -> None:
        """Raise SinkThrottledError, sending nothing, while `url` is in a wait its rate limit
        asked for (`_webhook_limited`), with what is left of the wait."""
        held_s = self._held_until.get(url, 0.0) - self._clock()
        if held_s > 0:
            log.debug("escalation.held", host=_host(url), retry_after_s=held_s)
            raise _webhook_wait(
                f"escalation webhook rate-limited: held for another {held_s:.1f} s", held_s
            )

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
            await self._comment_once(path, incident, [head, *_summary(incident, now, _inline)])
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
        await self._comment_once(path, incident, [head, *_summary(incident, now, _inline)])

    async def _comment_once(self, path: str, incident: Incident, paragraphs: list[str]) -> None:
        """Post the escalation's comment on the issue at `path`, ending with its marker
        (`escalation_marker`), unless triage's comment with that marker is there already: when
        GitHub made the comment and its answer broke off, the sweep's retry finds it instead of
        telling everyone watching the issue twice (as the GitHub sink's own comments are)."""
        assert self._github is not None and self._lookup is not None
        marker = escalation_marker(incident)
        began = (incident.reopened_at or incident.opened_at) - _SINCE_SLACK
        since = began.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for page in range(1, _COMMENT_PAGES + 1):
            params = {"since": since, "per_page": PAGE_SIZE, "page": page}
            listed = await self._github.call("GET", f"{path}/comments", params=params)
            comments = records(listed, "a list of comments")
            for comment in comments:
                if await self._lookup.marked_by_us(comment, marker):
                    log.info("escalation.comment_exists", fingerprint=incident.fingerprint)
                    return
            if len(comments) < PAGE_SIZE:
                break
        body = "\n\n".join([*paragraphs, marker])
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


def _route_of(router: Router, incident: Incident) -> Route | None:
    """The route whose escalation `incident` takes, found as its effects find it: a group by
    its group's key (`Router.named`: the grouping route keyed so), a single incident by its
    route's name (`Router.recorded`), never the other way round. A grouping route's
    `group_key` may be another route's name: a single incident looked up as a group would be
    taken for that grouping route's and never escalated (and a group for the other's).
    None when no route is that one now: a single incident's route renamed or removed, a
    group's route removed or renamed without keeping its key (its effects then go to the
    default route's sinks, whose escalation is not its own). A grouping route renamed with
    `group_key = "<its old name>"` still groups the open group, and escalates it; a route
    that kept its name but no longer groups still takes its effects, and escalates it."""
    if incident.group is not None:
        key = incident.group.route
        grouping = router.named(key)
        keyed = grouping.group_by and grouping.grouping_name == key
        return grouping if keyed or grouping.name == key else None
    single = router.recorded(incident.route)
    return single if single is not None and single.name == incident.route else None


def _webhook_wait(text: str, wait_s: float) -> SinkThrottledError:
    """A wait one escalation webhook asked for: it holds that webhook's escalations alone, not
    the daemon's intake."""
    throttled = SinkThrottledError(text, retry_after_s=wait_s)
    throttled.pauses_intake = False
    return throttled


def escalation_marker(incident: Incident) -> str:
    """The hidden line that ends an escalation's GitHub comment, one per episode of the
    incident (its fingerprint and when it opened or last reopened: a reopened incident is
    escalated again). An effect marker (`github/text.py`), keyed `escalation:…`,
    which no effect's key is: the GitHub sink's comments are never taken for it."""
    since = int((incident.reopened_at or incident.opened_at).timestamp())
    return effect_marker(f"escalation:{incident.fingerprint}:{since}")


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
