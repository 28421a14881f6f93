"""The Slack sink: a Block Kit message to an incoming webhook for each urgent incident.

Which effects post what:

    OPEN     at or above TRIAGE_SLACK_MIN_PRIORITY: the full message (priority and title, the
             description, steps, alert facts, links, the GitHub issue and backend ticket), and
             "posted" is returned, so the pipeline sends this incident's REOPEN and CLOSE here
             too; below it nothing is posted and None is returned, and Slack hears no more of
             it until an update or reopen raises its priority: the pipeline then sends the
             OPEN again (`effects.OPEN_AT_PRIORITY`), posted once it is past the minimum
    REOPEN   a short "fired again" line (saying so when the incident is flapping, and the
             raise when it fired again at a higher priority)
    CLOSE    a short "resolved" line
    UPDATE   skipped (logged at debug): repeat counts are noise in a channel, the ticket has
             them; flapping, the one thing worth saying, is said by the REOPEN that causes it;
             an update that moved the priority is one line ("Priority raised from …")

The webhook is the route's `webhook_url`, else `SLACK_WEBHOOK_URL`. Webhook URLs are credentials:
logs and errors name only the host. Posts to one webhook are spaced by TRIAGE_SLACK_MIN_INTERVAL_S
(Slack allows about one message a second), and after a 429 (or a 5xx with Retry-After) that
webhook is left alone for the Retry-After delay: its messages are held, the others' go on.
A post whose turn at its webhook is further off than half TRIAGE_MESSAGE_TIMEOUT_S (a burst)
is held the same way, rather than waiting until its message times out.
An outage of Slack itself (its breaker open) holds only the messages that post here: intake
goes on (`outage_pauses_intake`). Slack webhooks take no idempotency key, so a post whose answer was lost (a
timeout) may appear twice when the effect is retried: delivery here is at least once.

Alert text is untrusted: bidi controls, invisible and control characters go and a lone
surrogate becomes U+FFFD (`display.visible`), `&`, `<` and `>` become entities (so `<!channel>`,
`<@U…>` and `<url|label>` are shown, not obeyed), `@word` gets a zero-width joiner after the
`@`, text objects are `verbatim` (no auto-linking) and unfurling is off (no image or page
previews). An alert's emoji shortcodes (`:white_check_mark: Resolved`) are shown as typed, not
drawn: its plain text asks for no emoji, and in mrkdwn a zero-width joiner follows the colon
that opens each; triage's own marks are Unicode characters, drawn as ever. The alert's and the model's words are plain text, which Slack never formats; the few
that sit in mrkdwn beside triage's markup (a link's name, a ticket id) lose their backticks, so
no code span can swallow the links. An alert's link is labelled with the host it opens, as DNS
spells it (`runbook (xn--grfana-4nf.example.com)`): its name, which the alert chose, could read
like another URL.

Slack refuses a whole message for one text past its limits, so each text is cut to fit (with
"…", never inside an entity, an emoji or a link), counted in UTF-16 code units as Slack's
clients count (an emoji is two), and the blocks' text together stays within BLOCKS_TEXT_MAX:
each fact gets FACT_MAX, the description and steps share what the rest leave. A text that shows
nothing once cleaned (only invisible characters) gets no section: Slack refuses an empty one.
A header, a fact's value and the notification's text are one line each.

How answers map to errors:

    2xx                          done (also when its body then breaks: the message is in
                                 the channel, and a retry would post it twice)
    2xx with a web page          (`is_web_page`: its body `<` first, whatever its type, as
                                 an egress proxy's sign-in or block page) no Slack took the
                                 post: SinkUnavailableError `bad_response`, retried; while
                                 other webhooks post, that URL's alone (SinkUnreachableError)
    2xx {"ok": false, "error"}   Slack's refusal (its Web API's, a workflow webhook's), by
                                 its error word: ratelimited as 429, internal_error,
                                 fatal_error, service_unavailable, request_timeout and a
                                 workspace migrating (team_added_to_org,
                                 org_login_required) as 5xx, any other as a 4xx
    429                          SinkThrottledError (the message is held) for `Retry-After`
                                 (none readable: one second, Slack's posting rate, doubling
                                 with each such 429 in a row, `http.UnsaidWaits`); a wait of
                                 that webhook alone: intake goes on (`pauses_intake` false),
                                 and its later posts are held until the wait ends
    408, 425, 5xx                SinkUnavailableError, with `Retry-After` as retry_after_s
                                 (a date in it read against the answer's Date); one that says
                                 when to come back leaves that webhook alone for the wait too,
                                 and the guard holds its message (`guard.py`)
    1xx as the final answer      SinkUnavailableError: it broke HTTP's rules (a 101 upgrade
                                 no one asked for), as an answer cut short does
    3xx                          SinkUnavailableError `redirected`: not followed (the post, and
                                 the webhook's secret path, would go along); the webhook URL is
                                 wrong or a proxy answers for it, which no message can fix
    network error, timeout       SinkUnavailableError
    other 4xx                    SinkRejectedError naming the status and Slack's error code
                                 (400 invalid_payload, 403 action_prohibited, 404 no_service,
                                 410 channel_is_archived)

An answer's text is told only when it is one of Slack's error codes (lower-case words joined by
`_`), as incoming webhooks write it, or as the `error` of a JSON body at any status, as the Web
API and workflow webhooks write it (so a 404 `{"ok": false, "error": "channel_not_found"}` is
the channel gone, as the plain-text one is); any other answer (a proxy's HTML page, text quoting the post) is named by its size and
type alone, in the error and in the failed post's log line.
    route webhook not a URL      SinkRejectedError

What people and Slack do to the channel after triage posted there changes what a refusal means:

    the destination is gone      (a 410, whatever its body; the channel archived or
                                 deleted, the webhook's user gone,
                                 the app removed from it, posting there restricted, the
                                 webhook or its token revoked, the workspace disabled: see
                                 DESTINATION_GONE) the post is skipped with one `slack.refused`
                                 warning, whatever the effect: no message can fix it, and
                                 failing each one would only fill the DLQ while the channel
                                 is gone
    the blocks are refused       (no_text, invalid_blocks, msg_too_long …: see
                                 CONTENT_REFUSED) a new
                                 incident, or a follow-up, is posted again as plain text,
                                 with one `slack.blocks_refused` warning (the plain text
                                 refused too: BlocksAndPlainRefused, naming both)
    any other refusal            (invalid_payload, a 400 or 403 with no code …) the message
                                 fails, whatever the effect (SinkRejectedError: retried, then
                                 the DLQ, which a redrive after the fix sends), as the
                                 backend's 400 does; the incident's other sinks and later
                                 alerts go on (`incidents/claims.py` keeps the refusal for
                                 that alert alone)

A failed post's own line (`slack.unavailable`, `slack.rejected` …) is debug: the error's text
says the same, and the supervisor's line for the message is the one that says why at warning.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

import httpx2
import structlog

from triage.display import http_url, link_label, visible
from triage.errors import (
    ConfigError,
    SinkRejectedError,
    SinkThrottledError,
    SinkUnavailableError,
    SinkUnreachableError,
)
from triage.metrics import Metrics
from triage.models import EffectKind, Priority
from triage.normalize.graphemes import boundary_before
from triage.settings import Settings
from triage.sinks.aio import AiohttpTransport
from triage.sinks.base import Applied, Effect, NotSent, priority_moved
from triage.sinks.http import (
    MIN_WAIT_S,
    UnsaidWaits,
    json_answer,
    page_body,
    retry_after_of,
    scrub,
    throttle_wait_s,
    transport_error,
    unread_answer,
)
from triage.sinks.shortcodes import DRAWN
from triage.tls import client_context
from triage.view import spelled_look_alikes

log = structlog.get_logger(__name__)

#: Slack's Block Kit limits, in characters as its JavaScript clients count them (`_units`:
#: an emoji outside the BMP is two), which is never fewer than Slack's own count.
HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
BLOCKS_MAX = 50
#: All the blocks' text together: Slack refuses a message past about 12,000 characters of it
#: (`msg_blocks_too_long`, a limit it does not document exactly), so ours stay well under.
BLOCKS_TEXT_MAX = 10_000
#: One fact of a new incident's message (team, where, severity …): a fact, not a text; the
#: description and steps get what the facts leave of BLOCKS_TEXT_MAX.
FACT_MAX = 500
#: The plain-text fallback shown in notifications; Slack cuts longer ones itself.
FALLBACK_MAX = 3000
#: Lines a plain-text section shows at most (a message in a channel, not the ticket).
LINES_MAX = 20

#: Answers that mean "later" rather than "never": request timeout, and "too early" (a proxy
#: that will not replay early data: the same post sent again goes through). 429 is a wait of
#: its own.
_RETRYABLE_4XX = frozenset({408, 425})
#: Error words of a 2xx `{"ok": false}` that mean "wait", and "later" rather than "never":
#: Slack's own trouble, and a workspace moving into an Enterprise organisation, which Slack
#: says is unavailable until the migration completes (`team_added_to_org`,
#: `org_login_required`).
RATE_LIMITED = frozenset({"ratelimited", "rate_limited"})
_RETRYABLE_ERRORS = frozenset(
    {
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
        "org_login_required",
    }
)
#: Every error word that means "later", not "never" (the escalation's Slack post reads these too).
TEMPORARY_REFUSALS = RATE_LIMITED | _RETRYABLE_ERRORS
#: Error words for a destination that takes no more posts (incoming webhooks' and the Web API's):
#: the channel archived or gone, the person a webhook posts to gone (`user_not_found`), the app
#: not in the channel or its access or scopes withdrawn, posting there restricted or suspended
#: by the workspace's admins, the webhook or token revoked, the workspace or account disabled.
#: Each lasts until someone changes Slack or the route, which no message can do. Slack's own
#: words, so none is read into a message's content. What refuses the message itself
#: (invalid_payload; no_text and the rest of CONTENT_REFUSED once plain text is refused too)
#: is not here: that post fails, so the DLQ shows it.
DESTINATION_GONE = frozenset(
    {
        "channel_is_archived",
        "is_archived",
        "channel_not_found",
        "user_not_found",
        "not_in_channel",
        "no_permission",
        "messages_tab_disabled",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "ekm_access_denied",
        "access_denied",
        "accesslimited",
        "missing_scope",
        "team_access_not_granted",
        "no_service",
        "no_service_id",
        # A Slack app's webhook once its incoming webhooks are removed or turned off (404).
        "no_active_hooks",
        "no_team",
        "team_disabled",
        "invalid_token",
        "token_revoked",
        "token_expired",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "action_prohibited",
        "posting_to_general_channel_denied",
        "restricted_action",
    }
)
#: Error words that refuse the message's form (its blocks, its size, its text as Slack read
#: it), not the channel: the same message as plain text may pass. `no_text` says Slack found
#: no text it takes, which a message with blocks can meet where plain text does not.
CONTENT_REFUSED = frozenset(
    {
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "too_many_attachments",
    }
)
#: Slack's words that refuse a post, read as a refusal in a 2xx's text too (`slack_refusal`):
#: no success says them.
_REFUSAL_WORDS = (
    RATE_LIMITED | _RETRYABLE_ERRORS | DESTINATION_GONE | CONTENT_REFUSED | {"invalid_payload"}
)
#: How much of Slack's answer is read for its error code, and of a broken read's error told.
_REASON_CHARS = 200

#: Labels that say where an alert fired, in the order they are shown.
_WHERE = ("account", "region", "namespace", "cluster", "service", "host", "instance", "device_id")
_MARKS = {
    Priority.CRITICAL: "\N{LARGE RED CIRCLE}",
    Priority.HIGH: "\N{LARGE ORANGE CIRCLE}",
    Priority.MEDIUM: "\N{LARGE YELLOW CIRCLE}",
    Priority.LOW: "\N{LARGE BLUE CIRCLE}",
}
_REOPENED = "\N{CLOCKWISE RIGHTWARDS AND LEFTWARDS OPEN CIRCLE ARROWS}"

_ZWJ = "\u200d"
#: The emoji names of digits alone (`shortcodes.DRAWN`: `100`, `1234`), Slack's too.
_DIGIT_NAMES = frozenset(name for name in DRAWN if name.isdigit())
#: How far a cut backs off to keep a character whole before it gives up (a pile of marks):
#: the longest emoji sequences are about ten code points.
_CLUSTER_BACKOFF = 32
#: `@` starting a word: `@here`, `@channel`, `@everyone`, `@org/team`, `@alice` (not e-mails).
_AT_WORD = re.compile(r"(?<!\w)@(?=\w)")
#: Where Slack links free text in mrkdwn it formats: a URL's `://` (any scheme), a domain's
#: dot before its next name (`evil.com/reset`, `www.evil.example`, `help@evil.com`; a version's
#: `1.2` is no domain), a channel's `#name` (not an entity's `&#`). A dot counts only after a
#: name's last character (`_ends_a_name`), which the regular expression cannot tell alone.
_AUTOLINK = re.compile(r":(?=//)|(?<=\S)\.(?=[^\W\d_])|(?<![\w&])#(?=[\w-])")
#: A colon and what may be the name of an emoji Slack draws in mrkdwn (`:white_check_mark:`,
#: `:+1:`) up to the next colon (group 1): letters, digits, `_`, `+`, `'` or `-`. One pass
#: over the name, which `_draws` then reads: a lookahead that also sought a letter in it would
#: go over a long word after a colon once from each of its characters.
_SHORTCODE = re.compile(r":(?=([\w+'-]+):)", re.ASCII)
_ISSUE_NUMBER = re.compile(r"/(?:issues|pull)/(\d+)/?$")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class _Pace:
    """Spacing state of one webhook: posts to it go one at a time, min_interval_s apart."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Clock time of the last post, and before which no post may go (a 429's Retry-After).
    last_s: float | None = None
    hold_until_s: float = 0.0
    #: Posts waiting for their turn or posting now, and how long the last post took.
    queued: int = 0
    took_s: float = 0.0
    #: The waits of its rate limits that name none (`UnsaidWaits`), from `base_s` up.
    unsaid: UnsaidWaits = field(default_factory=lambda: UnsaidWaits(MIN_WAIT_S))


class SlackSink:
    """The `slack` sink; one instance (one connection pool, one pace per webhook) for all workers."""

    #: A notification, not where tickets live: while Slack is out only the messages whose
    #: routes post here are held; intake, and every other sink's tickets, go on (`guard.py`).
    outage_pauses_intake = False

    def __init__(
        self,
        settings: Settings,
        *,
        metrics: Metrics | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        require_default: bool = True,
    ) -> None:
        # The default webhook may be left unset only when every route that uses Slack names
        # its own (the router knows; see app.build_sinks).
        secret = settings.slack_webhook_url
        default = secret.get_secret_value().strip() if secret is not None else ""
        if not default and require_default:
            raise ConfigError("SLACK_WEBHOOK_URL is required for the slack sink")
        if default and _http_host(default) is None:
            raise ConfigError("SLACK_WEBHOOK_URL must be an http(s) URL")
        self._default_webhook = default
        self.min_priority = settings.slack_min_priority
        self.min_interval_s = settings.slack_min_interval_s
        #: The longest a post waits for its turn at its webhook (`_turn_in_s`): past it, the
        #: message would time out waiting (TRIAGE_MESSAGE_TIMEOUT_S), spending a receive
        #: towards the DLQ; it is held instead.
        self.most_queued_s = settings.message_timeout_s / 2
        self.metrics = metrics if metrics is not None else Metrics()
        self._clock = clock
        self._sleep = sleep
        self._paces: dict[str, _Pace] = {}
        #: Webhook URLs a post went through, → when (`_alone`), the newest POSTED_KEPT.
        self._posted: dict[str, float] = {}
        # httpx2's client API on aiohttp's transport (`aio.py`), as the backend sink.
        self._client = httpx2.AsyncClient(
            timeout=settings.slack_timeout_s,
            transport=transport or AiohttpTransport(client_context()),
        )

    @property
    def name(self) -> str:
        return "slack"

    async def apply(self, effect: Effect) -> Applied:
        if effect.kind is EffectKind.UPDATE and effect.priority_was is None:
            # Every update window: too common for info. One that moved the priority is news.
            return self._skip(
                effect, "updates are not posted", NotSent.UPDATES_NOT_POSTED, quiet=True
            )
        if effect.kind is EffectKind.OPEN:
            if effect.ticket.priority.rank > self.min_priority.rank:
                below = f"priority below {self.min_priority.value}"
                return self._skip(effect, below, NotSent.BELOW_MIN_PRIORITY)
        elif effect.ref is None:  # the OPEN was not posted here: nothing to follow up
            return self._skip(effect, "not posted at open", NotSent.NOT_POSTED_AT_OPEN)
        try:
            if effect.kind is EffectKind.OPEN:
                await self._post_or_plain(open_message(effect), plain_message, effect)
                return Applied("posted")
            await self._post_or_plain(follow_up_message(effect), plain_follow_up, effect)
            return Applied()
        except SinkRejectedError as exc:
            # A message Slack refuses in both forms, whatever its kind, fails (retried, then
            # the DLQ shows it, and a redrive after the fix sends it), as the backend's 400
            # does; a channel that is gone is no message's fault, and none could reach it.
            if not destination_gone(exc):
                raise
            return self._refused(effect, exc)

    async def _post_or_plain(
        self,
        message: dict[str, Any],
        plain: Callable[[Effect], dict[str, Any]],
        effect: Effect,
    ) -> None:
        """Post `message`; as plain text (`plain`) when Slack refuses its blocks (a limit Slack
        enforces that the blocks do not keep, or a block type it stopped taking), so the
        channel still hears of the incident. A follow-up too: a webhook that refused a new
        incident's blocks refuses its resolve's, which skipped would leave the incident
        firing in the channel for good."""
        try:
            await self._post(message, effect)
            return
        except SinkRejectedError as exc:
            if exc.detail not in CONTENT_REFUSED:
                raise
            refused = exc.detail
        try:
            await self._post(plain(effect), effect)
        except SinkRejectedError as exc:
            # One failure, one line: whoever says it (`_refused`, or the message's own line
            # for a new incident) names both refusals.
            raise BlocksAndPlainRefused(exc, refused) from exc
        log.warning(
            "slack.blocks_refused", effect=str(effect.kind), error=refused, action="plain_text"
        )

    def _refused(self, effect: Effect, exc: SinkRejectedError) -> Applied:
        """The one line that says why Slack heard nothing of this effect, and the refusal: by
        Slack's error code alone (`_error_code`), never the text of its answer."""
        code = _error_code(exc.detail)
        both = {"blocks_refused": exc.blocks} if isinstance(exc, BlocksAndPlainRefused) else {}
        log.warning(
            "slack.refused",
            effect=str(effect.kind),
            status=exc.status,
            error=code,
            action="skip",
            **both,
        )
        if code is not None:
            return Applied.refuse(f"slack refused: {code}")
        if exc.status is not None:
            return Applied.refuse(f"slack refused ({exc.status})")
        return Applied.refuse("slack refused")

    async def aclose(self) -> None:
        await self._client.aclose()

    def _skip(self, effect: Effect, reason: str, why: NotSent, *, quiet: bool = False) -> Applied:
        self.metrics.incr("SinkCalls", sink=self.name, outcome="skipped")
        emit = log.debug if quiet else log.info
        emit("sink.skipped", sink=self.name, effect=str(effect.kind), reason=reason)
        return Applied.skip(reason, why=why)

    def _webhook(self, effect: Effect) -> tuple[str, str]:
        """The webhook URL for `effect` and its host (the only part that may be logged)."""
        url = (effect.target.webhook_url or "").strip() or self._default_webhook
        host = _http_host(url)
        if host is None:
            self.metrics.incr("SinkCalls", sink=self.name, outcome="rejected")
            log.debug("slack.bad_webhook", effect=str(effect.kind))
            raise SinkRejectedError("the route's slack webhook_url is not an http(s) URL")
        return url, host

    async def _post(self, message: dict[str, Any], effect: Effect) -> None:
        url, host = self._webhook(effect)
        pace = self._paces.get(url)
        if pace is None:
            pace = self._paces[url] = self._new_pace()
        turn_s = self._turn_in_s(pace)
        if turn_s > self.most_queued_s:
            # A burst to one webhook: its turn is further off than the message may take, and
            # a message that times out waiting spends a receive. Held as a wait of this
            # webhook alone, as a 429 is; posted when the posts ahead of it have gone.
            self.metrics.incr("SinkCalls", sink=self.name, outcome="throttled")
            log.info("slack.queued", host=host, effect=str(effect.kind), retry_after_s=turn_s)
            raise _webhook_wait(
                f"slack webhook at {host} has {pace.queued} posts ahead (about {turn_s:.0f} s)",
                turn_s,
            )
        pace.queued += 1
        try:
            await self._post_in_turn(pace, message, effect, url, host)
        finally:
            pace.queued -= 1

    def _new_pace(self) -> _Pace:
        # A rate limit that names no wait waits Slack's posting rate (one a second per
        # channel), or the spacing set when longer, doubling with each in a row.
        return _Pace(unsaid=UnsaidWaits(max(self.min_interval_s, MIN_WAIT_S)))

    def _turn_in_s(self, pace: _Pace) -> float:
        """About how long a post to `pace`'s webhook waits for its turn: the posts ahead of
        it, each taking the spacing or as long as the last post took, whichever is longer."""
        return pace.queued * max(self.min_interval_s, pace.took_s)

    async def _post_in_turn(
        self, pace: _Pace, message: dict[str, Any], effect: Effect, url: str, host: str
    ) -> None:
        """Post `message` to `url` once its turn comes (`_Pace`), and read Slack's answer."""
        async with pace.lock:
            held_s = pace.hold_until_s - self._clock()
            if held_s > 0:  # Slack asked us to wait: asking again would only extend the limit
                self.metrics.incr("SinkCalls", sink=self.name, outcome="unavailable")
                log.info("slack.held", host=host, effect=str(effect.kind), retry_after_s=held_s)
                raise _webhook_wait(f"slack webhook at {host} rate-limited (asked to wait)", held_s)
            if pace.last_s is not None:
                wait_s = pace.last_s + self.min_interval_s - self._clock()
                if wait_s > 0:
                    await self._sleep(wait_s)
            started_s = pace.last_s = self._clock()
            try:
                response, unread = await self._send(url, host, message, effect)
            finally:
                # Every post that went out, however it ended: a timeout is the slowest call
                # of an outage. A post held back or refused above sent nothing.
                pace.took_s = self._clock() - started_s
                self.metrics.observe("SinkLatency", pace.took_s * 1000, sink=self.name)
            refusal = slack_refusal(response)
            hold_s = self._hold_s(response, refusal, pace.unsaid)
            if hold_s is not None:
                pace.hold_until_s = self._clock() + hold_s
            elif 200 <= response.status_code < 300 and refusal is None:
                pace.unsaid.succeeded()
        self._verdict(response, refusal, unread, url, host, effect, hold_s)

    def _hold_s(
        self, response: httpx2.Response, refusal: str | None, unsaid: UnsaidWaits
    ) -> float | None:
        """How long this webhook is left alone after `response`: a rate limit's wait (its
        Retry-After, else `unsaid`'s), or the wait an unwell answer (5xx) asked for; None
        when it asked for none."""
        retry_after_s = retry_after_of(response.headers)
        if response.status_code == 429 or refusal in RATE_LIMITED:
            return unsaid.wait_s(retry_after_s)
        asked = retry_after_s is not None and _unwell(response.status_code, refusal)
        return throttle_wait_s(retry_after_s, MIN_WAIT_S) if asked else None

    async def _send(
        self, url: str, host: str, message: dict[str, Any], effect: Effect
    ) -> tuple[httpx2.Response, str | None]:
        """Slack's answer, and why its body could not be read (None when it was). Once the
        status has come, a body that breaks (reset, dripped past the call's bound, too large)
        does not undo it: after a 2xx the message is in the channel, and a retry would post it
        twice (webhooks take no idempotency key)."""
        try:
            request = self._client.build_request("POST", url, json=message)
            response = await self._client.send(request, stream=True)
        except asyncio.CancelledError:
            # Cut off by the message's time limit or a stop: timed in SinkLatency as every
            # request that went out is, so counted too.
            self.metrics.incr("SinkCalls", sink=self.name, outcome="cancelled")
            raise
        except httpx2.TransportError as exc:  # connect/read errors and every timeout
            self.metrics.incr("SinkCalls", sink=self.name, outcome="network")
            error = transport_error(exc, scrub_webhook(str(exc), url))
            log.debug("slack.unreachable", host=host, effect=str(effect.kind), error=error)
            # `from None`: the chained httpx2 error carries the request, and so the URL.
            if self._alone(url, host=host):
                raise SinkUnreachableError(
                    f"slack webhook at {host} unreachable while other webhooks post: {error}; "
                    "check the route's webhook_url"
                ) from None
            raise SinkUnavailableError(f"slack webhook at {host} unreachable: {error}") from None
        try:
            await response.aread()
            return response, None
        except httpx2.TransportError as exc:
            unread = transport_error(exc, scrub_webhook(str(exc), url))
            # The status and headers stand; the body is taken as empty.
            return httpx2.Response(response.status_code, headers=response.headers), unread
        finally:
            await response.aclose()

    def _alone(self, url: str, *, host: str | None = None) -> bool:
        """Whether a failure is `url`'s alone, not Slack's or ours: another webhook took a post
        in the last POSTED_S (on another host, for a failure to connect, which a host has, not
        a URL). A route's wrong `webhook_url` then costs only its own messages (retried, then
        the DLQ: SinkUnreachableError) instead of opening the breaker, which holds every
        route's Slack posts."""
        now = self._clock()
        return any(
            other != url and now - at < POSTED_S and (host is None or _http_host(other) != host)
            for other, at in self._posted.items()
        )

    def _verdict(
        self,
        response: httpx2.Response,
        refusal: str | None,
        unread: str | None,
        url: str,
        host: str,
        effect: Effect,
        hold_s: float | None,
    ) -> None:
        status = response.status_code
        if 200 <= status < 300 and unread is None and is_web_page(response):
            self._web_page(response, url, host, effect)
        if 200 <= status < 300 and refusal is None:
            self._posted.pop(url, None)  # the newest last, so the oldest go first
            self._posted[url] = self._clock()
            while len(self._posted) > POSTED_KEPT:
                del self._posted[next(iter(self._posted))]
            self.metrics.incr("SinkCalls", sink=self.name, outcome="ok")
            answer = {} if unread is None else {"answer": f"unread ({unread})"}
            log.info("slack.posted", host=host, effect=str(effect.kind), **answer)
            return
        code, reason = refusal_reason(response, refusal, url)
        fields = {"host": host, "effect": str(effect.kind), "status": status, "reason": reason}
        retry_after_s = retry_after_of(response.headers)
        if hold_s is not None and (status == 429 or refusal in RATE_LIMITED):
            # Its wait (`_hold_s`) also holds every later post to this webhook.
            wait_s = hold_s
            self.metrics.incr("SinkCalls", sink=self.name, outcome="throttled")
            log.debug("slack.throttled", retry_after_s=wait_s, **fields)
            raise _webhook_wait(f"slack answered {status}: {reason}", wait_s)
        if _unwell(status, refusal):
            # A 1xx as the final answer (an upgrade no one asked for) says nothing of the
            # post: Slack, or what answers for it, is unwell.
            self.metrics.incr("SinkCalls", sink=self.name, outcome="unavailable")
            log.debug("slack.unavailable", retry_after_s=retry_after_s, **fields)
            raise SinkUnavailableError(
                f"slack answered {status}: {reason}", retry_after_s=retry_after_s
            )
        if 300 <= status < 400:
            # Every post to this webhook is redirected so: its URL is wrong, which no message
            # can fix. They wait (held behind the breaker) rather than each going to the DLQ;
            # unless other webhooks post: then it is one route's URL, whose messages alone
            # are retried, and the others' go on.
            self.metrics.incr("SinkCalls", sink=self.name, outcome="unavailable")
            log.debug("slack.redirected", action="wait", **fields)
            if self._alone(url):
                raise SinkUnreachableError(
                    f"slack webhook at {host} answered {status}, a redirect (not followed), "
                    "while other webhooks post: check the route's webhook_url"
                )
            raise SinkUnavailableError(
                f"slack webhook at {host} answered {status}, a redirect (not followed): "
                "check SLACK_WEBHOOK_URL or the route's webhook_url",
                reason="redirected",
            )
        self.metrics.incr("SinkCalls", sink=self.name, outcome="rejected")
        log.debug("slack.rejected", **fields)
        raise SinkRejectedError(
            f"slack rejected the {effect.kind} with {status}: {reason}",
            status=status,
            detail=code or "",
        )

    def _web_page(self, response: httpx2.Response, url: str, host: str, effect: Effect) -> NoReturn:
        """Raise for a 2xx answered with a web page (`is_web_page`): no Slack took the post (an
        egress proxy's sign-in or block page, a web app's URL as the webhook), so it is not
        counted as in the channel. Retried (SinkUnavailableError `bad_response`) until Slack
        answers; unless other webhooks post: then it is this route's URL, whose messages alone
        are retried (SinkUnreachableError), as for a redirect, and the others' go on. The page
        is named by its size and type, never its text."""
        self.metrics.incr("SinkCalls", sink=self.name, outcome="unavailable")
        status, kind = response.status_code, unread_answer(response)
        log.debug(
            "slack.not_slacks_answer",
            host=host,
            effect=str(effect.kind),
            status=status,
            reason=kind,
        )
        if self._alone(url):
            raise SinkUnreachableError(
                f"slack webhook at {host} answered {status} with a web page ({kind}), not "
                "Slack's answer, while other webhooks post: check the route's webhook_url"
            )
        raise SinkUnavailableError(
            f"slack webhook at {host} answered {status} with a web page ({kind}), not Slack's "
            "answer: a proxy or a web app answers for SLACK_WEBHOOK_URL or the route's webhook_url",
            reason="bad_response",
        )


class BlocksAndPlainRefused(SinkRejectedError):
    """The plain-text post of a message whose blocks Slack refused (`blocks`, one of
    CONTENT_REFUSED), refused too: the plain post's refusal (its status and detail), its text
    naming both, so one line says why the channel heard nothing."""

    def __init__(self, plain: SinkRejectedError, blocks: str) -> None:
        super().__init__(
            f"{plain} (after its blocks were refused: {blocks})",
            status=plain.status,
            detail=plain.detail,
            reason=plain.reason,
        )
        self.blocks = blocks


def destination_gone(exc: SinkRejectedError) -> bool:
    """Whether a refusal says the destination takes no more posts: one of Slack's words for it
    (DESTINATION_GONE), or a `410 Gone` whatever its body (HTTP's word for gone for good:
    Slack answers it for an archived channel, and a revoked webhook, or a proxy that kept
    Slack's body back, may answer it bare)."""
    return exc.detail in DESTINATION_GONE or exc.status == 410


def _unwell(status: int, refusal: str | None) -> bool:
    """Whether an answer says Slack, or what answers for it, is unwell (later, not never): a
    5xx, a 1xx as the final answer (an upgrade no one asked for), 408 or 425, or a 2xx's
    error word for a failure of its own."""
    return status < 200 or status >= 500 or status in _RETRYABLE_4XX or refusal in _RETRYABLE_ERRORS


def _webhook_wait(text: str, wait_s: float) -> SinkThrottledError:
    """A wait one webhook asked for (Slack limits posts per channel; the sink leaves that
    webhook alone for the wait): it holds the messages for that webhook alone, not the
    daemon's intake, so the other routes' tickets and posts go on."""
    throttled = SinkThrottledError(text, retry_after_s=wait_s)
    throttled.pauses_intake = False
    return throttled


#: Slack's error codes (`channel_not_found`, `invalid_payload`): lower-case words joined by `_`.
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")


def _error_code(detail: str) -> str | None:
    """Slack's error code in a refusal's `detail`, or None when the answer is no code (an HTML
    page from a proxy, text that quotes the request): only a code goes into logs and skips."""
    code = detail.strip()
    return code if _ERROR_CODE.fullmatch(code) else None


def refusal_reason(
    response: httpx2.Response, refusal: str | None, url: str
) -> tuple[str | None, str]:
    """Slack's error code in an answer that is no success (`refusal`, a 2xx's `{"ok": false}`
    word; else the `error` of a JSON body, as Slack's Web API and workflow webhooks write it
    at any status; else the answer's text, as incoming webhooks write it), and the reason told
    for it in logs and errors: the code, else the answer's size and type. Never the answer's
    text: a proxy's page, or an echo of the post (alert text, the webhook's path), goes
    nowhere."""
    if refusal is None:
        refusal = _json_error(response)
    text = response.text if refusal is None else refusal
    code = _error_code(scrub_webhook(text[:_REASON_CHARS], url))
    return code, code if code is not None else f"no error code ({unread_answer(response)})"


#: Webhook URLs remembered as posted to (`SlackSink._alone`), at most.
POSTED_KEPT = 64
#: How recently another webhook must have taken a post for a failure to be one URL's alone.
POSTED_S = 3600.0


def slack_refusal(response: httpx2.Response) -> str | None:
    """Slack's error word when a 2xx says `{"ok": false, "error": …}` (the Web API's and a
    workflow webhook's way to refuse), or is one of Slack's refusal words as its whole text
    (`no_service`, `invalid_token`: a revoked webhook behind a gateway that answers 200 for
    it), else None. An incoming webhook answers `ok`: any other text stays a post."""
    if not 200 <= response.status_code < 300:
        return None
    answer = _json_object(response)
    if answer is None:
        said = response.text.strip() if len(response.content) <= _REASON_CHARS else ""
        return said if said in _REFUSAL_WORDS else None
    if answer.get("ok") is not False:
        return None
    error = answer.get("error")
    return error if isinstance(error, str) and error else "unknown_error"


def is_web_page(response: httpx2.Response) -> bool:
    """Whether an answer's body is a web page (HTML or XML: `<` first, after any BOM and white
    space), which is never Slack's: an egress proxy's sign-in or block page, or a web app's
    page where a webhook was meant. Judged by the body alone, not the Content-Type: Slack's
    own incoming webhook labels its `ok` text/html, and the Web API answers JSON. A 2xx that
    is a page reached no Slack, so the post (or an escalation's, `ops/escalate.py`) is not
    done."""
    return page_body(response)


def _json_error(response: httpx2.Response) -> str | None:
    """The `error` of a JSON object body (`{"ok": false, "error": "channel_not_found"}`),
    whatever the status; None when there is none."""
    answer = _json_object(response)
    error = answer.get("error") if answer is not None else None
    return error if isinstance(error, str) and error else None


def _json_object(response: httpx2.Response) -> dict[str, Any] | None:
    """The answer's body as a JSON object, or None when it is none; after a byte order mark
    too (a gateway's UTF-8 with BOM, UTF-16), which a look at its first byte would take for
    text: its `ok: false` for a post the channel got."""
    answer = json_answer(response)
    return answer if isinstance(answer, dict) else None


# --- messages ------------------------------------------------------------------------------


def open_message(effect: Effect) -> dict[str, Any]:
    """The full Block Kit message for a new incident: the header, facts, links and fingerprint
    as they are, and the description and steps sharing what those leave of BLOCKS_TEXT_MAX."""
    alert, ticket = effect.alert, effect.ticket
    mark = _MARKS[ticket.priority]
    label = ticket.priority.value.upper()
    # A header shows one line: a title's line breaks are spaces there.
    header = _plain(f"{mark} {label}: {ticket.title}", HEADER_MAX, one_line=True)
    # At most eight facts and six blocks: within Slack's 10 fields and 50 blocks, which the
    # slices below keep true should more be added (past them Slack refuses the whole message).
    facts: dict[str, Any] = {"type": "section", "fields": _facts(effect)[:FIELDS_MAX]}
    links = _join_whole(_alert_links(effect), " · ", SECTION_MAX - len("*Links*\n"))
    links_blocks = [_section(f"*Links*\n{links}")] if links else []
    context: dict[str, Any] = {
        "type": "context",
        "elements": [_mrkdwn(f"fingerprint {effect.fingerprint}")],
    }
    fixed: list[dict[str, Any]] = [
        {"type": "header", "text": header},
        facts,
        *links_blocks,
        context,
    ]
    # The summary and steps are the alert's and the model's words: plain text, which Slack
    # never formats, so a stray `*`, `_`, `~` or a ``` cannot restyle or swallow the message.
    shown_steps = [step for step in ticket.steps if visible(step).strip()]
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(shown_steps, 1))
    room = BLOCKS_TEXT_MAX - sum(_units(text) for text in _block_texts(fixed))
    description, steps_blocks = _sharing(
        room, [ticket.description, f"Steps\n{steps}" if steps else ""]
    )
    blocks = [fixed[0], *description, facts, *steps_blocks, *links_blocks, context]
    fallback = f"{mark} {label}: {ticket.title}{_team_part(alert.team)}"
    return _message(fallback, blocks[:BLOCKS_MAX])


def _sharing(room: int, texts: list[str]) -> list[list[dict[str, Any]]]:
    """A plain-text section for each of `texts` (none for one that shows nothing once made
    `safe`: Slack refuses an empty text), the sections sharing `room` characters: each gets an
    equal share of what is left, the shortest first, so what one leaves goes to the others."""
    shown = [safe(_few_lines(text)) for text in texts]
    fitted = ["" for _ in texts]
    wanted = [i for i, text in enumerate(shown) if text.strip()]
    for n, i in enumerate(sorted(wanted, key=lambda i: _units(shown[i]))):
        share = min(SECTION_MAX, room // (len(wanted) - n))
        if share >= _FEWEST:
            fitted[i] = _fit(shown[i], share)
            room -= _units(fitted[i])
    return [
        [{"type": "section", "text": {"type": "plain_text", "text": text, "emoji": False}}]
        if text
        else []
        for text in fitted
    ]


#: The fewest characters a shared section is shown in: fewer say nothing.
_FEWEST = 40


def _block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """The text of every text object in `blocks`: what BLOCKS_TEXT_MAX counts."""
    texts = []
    for block in blocks:
        objects = [block.get("text"), *block.get("fields", ()), *block.get("elements", ())]
        texts += [obj["text"] for obj in objects if isinstance(obj, dict) and "text" in obj]
    return texts


def follow_up_message(effect: Effect) -> dict[str, Any]:
    """One short line for REOPEN ("fired again", and the raise when it fired at a higher
    priority), CLOSE ("resolved") or an UPDATE that moved the priority ("Priority raised from
    medium to critical"), with the ticket links."""
    title = effect.ticket.title
    if effect.kind is EffectKind.CLOSE:
        head, fallback = "\N{WHITE HEAVY CHECK MARK} Resolved", f"Resolved: {title}"
    elif effect.kind is EffectKind.UPDATE and effect.priority_was is not None:
        moved = priority_moved(effect.priority_was, effect.ticket.priority)
        head, fallback = f"{_MARKS[effect.ticket.priority]} {moved}", f"{moved}: {title}"
    else:
        head, fallback = f"{_REOPENED} Fired again", f"Fired again: {title}"
    line = f"{head}: {title}"
    if effect.kind is EffectKind.REOPEN:
        line += f" ({effect.occurrences} occurrences in all"
        line += ", flapping)" if effect.flapping else ")"
        if effect.priority_was is not None:
            # A re-fire above the closed ticket's priority reopens it at the new one.
            line += f" · {priority_moved(effect.priority_was, effect.ticket.priority)}"
    if effect.alert.group is not None:
        line += f" · {_group_text(effect)}"
    # The line holds alert text: plain text, which no `*`, `_` or `~` in it can restyle. The
    # ticket links (markup) get a section of their own, which no long title can push out.
    blocks = [_plain_section(line)]
    if effect.kind is EffectKind.CLOSE and effect.alert.is_note:
        # "TITLE (closed by AUTHOR: COMMENT)" says who closed it and why, which the ticket's
        # title cannot.
        blocks.append(_plain_section(effect.alert.title))
    refs = _join_whole(_ticket_refs(effect), " · ", SECTION_MAX)
    if refs:
        blocks.append(_section(refs))
    return _message(fallback, blocks)


def escalation_message(line: str, links: Mapping[str, str]) -> dict[str, Any]:
    """An escalation's post (`ops/escalate.py`): "Escalated" and the tickets' links, `{label:
    url}` (our markup), then its line, which holds alert text and so is plain text, as a
    follow-up's is: no `*`, `~` or ``` in a title can restyle the post or swallow the links."""
    shown = [link for label, url in links.items() if (link := _link(url, label))]
    head = _join_whole(["*Escalated*", *shown], " · ", SECTION_MAX)
    return _message(f"Escalated: {line}", [_section(head), _plain_section(line)])


def plain_escalation(line: str, links: Mapping[str, str]) -> dict[str, Any]:
    """An escalation as "Escalated", its tickets' links and its line, no blocks: what is
    posted when Slack refuses `escalation_message`'s form, as `plain_message` is for a new
    incident (the links first, so nothing in the alert's line can restyle them)."""
    shown = [link for label, url in links.items() if (link := _link(url, label))]
    head = _join_whole(["*Escalated*", *shown], " · ", FALLBACK_MAX // 2)
    text = f"{head}\n" + _fit(unlinked(safe(line, one_line=True)), FALLBACK_MAX - len(head) - 1)
    return {"text": text, "unfurl_links": False, "unfurl_media": False}


def plain_message(effect: Effect) -> dict[str, Any]:
    """A new incident as its ticket links and one line of text, no blocks: what is posted
    when Slack refuses the blocks. The text is mrkdwn, so the links come first: a ``` or `*`
    in the alert's line can restyle only what follows it, and nothing does."""
    alert, ticket = effect.alert, effect.ticket
    line = f"{_MARKS[ticket.priority]} {ticket.priority.value.upper()}: {ticket.title}"
    line = unlinked(safe(line + _team_part(alert.team), one_line=True))
    refs = _join_whole(_ticket_refs(effect, formatted=True), " · ", FALLBACK_MAX // 2)
    text = (f"{refs}\n" if refs else "") + _fit(line, FALLBACK_MAX - len(refs) - 1)
    return {"text": text, "unfurl_links": False, "unfurl_media": False}


def plain_follow_up(effect: Effect) -> dict[str, Any]:
    """A follow-up (resolved, fired again, a raise) as its ticket links and its one line, no
    blocks: what is posted when Slack refuses the blocks, as `plain_message` is for a new
    incident (the links first, so nothing in the alert's line can restyle them)."""
    refs = _join_whole(_ticket_refs(effect, formatted=True), " · ", FALLBACK_MAX // 2)
    line = follow_up_message(effect)["text"]  # escaped, unlinked, one line (`_message`)
    text = (f"{refs}\n" if refs else "") + _fit(line, FALLBACK_MAX - len(refs) - 1)
    return {"text": text, "unfurl_links": False, "unfurl_media": False}


#: A value written bare (a team after `team:`, a label's value in the Where fact): one word of
#: letters or digits in any script, and the punctuation of names (`payments`, `team-a/eu.west`).
_PLAIN_WORD = re.compile(r"[\w.:/+-]+")


def _team_part(team: str | None) -> str:
    """` · team: payments` after a new incident's title in one line of text (a message's
    fallback, the plain-text post); nothing without a team. A team is alert text: one of more
    than a plain word is a quoted JSON string (`word_or_quoted`), which no team can close
    early to write a priority marker or a link of its own beside triage's (`ops) 🔴 CRITICAL:
    (`)."""
    if not team:
        return ""
    return f" · team: {word_or_quoted(team)}"


def word_or_quoted(text: str) -> str:
    """Alert text among triage's own words, on one line: bare when it is one plain word
    (`_PLAIN_WORD`), else a JSON string, so a `, `, `=` or `"` in it cannot end it early and
    write what reads as triage's (a second `key=value` fact, a priority marker); either way a
    look-alike letter inside a Latin word is written as its code (`"p\\u0430y"` does not pass
    for `pay`)."""
    shown = " ".join(visible(text, one_line=True).split())
    if _PLAIN_WORD.fullmatch(shown) and spelled_look_alikes(shown) == shown:
        return shown
    return spelled_look_alikes(json.dumps(shown, ensure_ascii=False))


def _message(fallback: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    # Unfurling off: a link in alert text must not turn into an image or page preview.
    return {
        "text": _fit(unlinked(safe(fallback, one_line=True)), FALLBACK_MAX),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _facts(effect: Effect) -> list[dict[str, Any]]:
    """Section fields: source, team, where, since, severity, then the ticket references. The
    alert's words are plain text (no `*`, `_`, `~` in them can restyle the message) on one
    line (a fact of a thousand lines would make the message pages tall); the date and the
    ticket links are markup of ours."""
    alert = effect.alert
    # A value of more than a plain word is quoted: `host: db-1, region=eu-west-1` is one host.
    where = ", ".join(
        f"{k}={word_or_quoted(alert.labels[k])}" for k in _WHERE if alert.labels.get(k)
    )
    plain, markup = True, False
    facts = [
        ("Source", alert.source, plain),
        # A team with a look-alike letter as its code, as the notification text has it.
        ("Team", spelled_look_alikes(alert.team or ""), plain),
        ("Where", where, plain),
        ("Since", _slack_date(alert.occurred_at), markup),
        ("Severity", alert.severity or "", plain),
        ("Alerts", _group_text(effect), plain),
        *(("Ticket", ref, markup) for ref in _ticket_refs(effect)),
    ]
    return [
        _plain(f"{name}\n{' '.join(value.split())}", FACT_MAX)
        if is_plain
        else _mrkdwn(_fit(f"{name}\n{value}", FIELD_MAX))
        for name, value, is_plain in facts
        if value
    ]


def _group_text(effect: Effect) -> str:
    """For a group incident: how many alerts, how many firing, what they share (as written)."""
    group = effect.alert.group
    if group is None:
        return ""
    return f"{group.count} ({group.firing} firing): {group.title}"


def _ticket_refs(effect: Effect, *, formatted: bool = False) -> list[str]:
    """The GitHub issue as a link and the backend ticket id as text, when those sinks ran.
    `formatted`: for mrkdwn Slack formats itself (a plain-text post, which takes no
    `verbatim`), where a backend id that reads as a domain (`login.evil.example`, a plausible
    id) would be a link to that site: it is `unlinked` there, as the alert's line is."""
    refs = []
    issue = effect.refs.get("github")
    if issue:
        number = _ISSUE_NUMBER.search(issue)
        link = _link(issue, f"GitHub #{number.group(1)}" if number else "GitHub issue")
        refs.append(link or f"GitHub {_shown_ref(issue, formatted)}")
    ticket = effect.refs.get("backend")
    if ticket:
        refs.append(f"backend ticket {_shown_ref(ticket, formatted)}")
    return refs


def _shown_ref(ref: str, formatted: bool) -> str:
    """Another sink's reference as text beside triage's markup (`code_free`), `unlinked` too
    where Slack formats the text itself."""
    shown = code_free(ref, one_line=True)
    return unlinked(shown) if formatted else shown


def _alert_links(effect: Effect) -> list[str]:
    named = {"runbook": effect.alert.runbook_url, **effect.alert.links}
    return [link for name, url in named.items() if url and (link := _alert_link(name, url))]


def _alert_link(name: str, url: str) -> str | None:
    """One of the alert's links, labelled with its name and the host it opens as DNS spells
    it (`display.link_label`), to that same spelling without its user info (`github.com@` ahead
    of another host, or a token written as the user name); None unless it is an http(s) URL
    whose host a label can name (`display.http_url`) and holds no whitespace but around it
    (trimmed, as the ticket's and the backend's links are)."""
    url = url.strip()
    parsed = http_url(url)
    if parsed is None or any(ch.isspace() for ch in url):
        return None
    if parsed.userinfo:
        parsed = parsed.copy_with(userinfo=b"")
    return _link(str(parsed), link_label(name, parsed))


def _slack_date(when: datetime) -> str:
    """Slack shows `<!date^…>` in each reader's own time zone; the fallback is UTC."""
    fallback = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


# --- Block Kit pieces ----------------------------------------------------------------------


def _plain(text: str, limit: int, *, one_line: bool = False) -> dict[str, Any]:
    return {
        "type": "plain_text",
        "text": _fit(safe(text, one_line=one_line), limit),
        "emoji": False,
    }


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack adds no links or mentions of its own to the text; our markup still works.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(_fit(text, SECTION_MAX))}


def _plain_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _plain(_few_lines(text), SECTION_MAX)}


def _few_lines(text: str) -> str:
    """`text` in at most LINES_MAX lines, every word kept: a run of blank lines becomes one,
    and the lines past the limit join the last one, spaced. Slack shows a section's line
    breaks as they are, so alert or model text of a thousand lines would make one message
    pages tall in the channel; the ticket keeps the text as it was written."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip() or (lines and lines[-1].strip()):
            lines.append(line)
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) <= LINES_MAX:
        return "\n".join(lines)
    rest = " ".join(" ".join(line.split()) for line in lines[LINES_MAX - 1 :])
    return "\n".join([*lines[: LINES_MAX - 1], rest])


def _link(url: str, label: str) -> str | None:
    """`<url|label>` for an http(s) URL, else None. The URL as httpx2 writes it (non-ASCII
    percent-encoded, the host as DNS spells it), with `|`, `<` and `>` percent-encoded so a
    crafted URL cannot end the link early and bring its own label; the label is `code_free`."""
    parsed = _http_url(url)
    if parsed is None or any(ch.isspace() for ch in url):
        return None
    quoted = str(parsed).replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return f"<{quoted.replace('&', '&amp;')}|{code_free(label)}>"


def _join_whole(parts: list[str], separator: str, limit: int) -> str:
    """As many whole parts as fit in `limit` (counted as `_fit` counts): a link cut in half
    would be broken markup."""
    out = ""
    for part in parts:
        candidate = f"{out}{separator}{part}" if out else part
        if _units(candidate) > limit:
            break
        out = candidate
    return out


# --- safe text -----------------------------------------------------------------------------


def safe(text: str, *, one_line: bool = False) -> str:
    """Alert text made inert for Slack (plain text and mrkdwn alike): only visible characters
    (`display.visible`, its line breaks spaces with `one_line`), entities for `&<>`, no `@`
    mention Slack could act on."""
    shown = visible(text, one_line=one_line)
    escaped = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _AT_WORD.sub("@" + _ZWJ, escaped)


def unlinked(text: str) -> str:
    """`safe` text for mrkdwn that Slack formats itself (a message's `text`, which takes no
    `verbatim`: the plain-text post, the fallback beside the blocks), with the zero-width
    joiner an `@word` gets after each place Slack would start a link of its own
    (`_AUTOLINK`): a URL or a domain in an alert's title is shown, not a link to the site it
    names. It reads the same, and hides nothing (a joiner is what emoji are made with). An
    emoji's shortcode in it is shown as typed (`inert_shortcodes`)."""
    linked = _AUTOLINK.sub(lambda found: found[0] + _ZWJ if _links_here(found) else found[0], text)
    return inert_shortcodes(linked)


def inert_shortcodes(text: str) -> str:
    """`text` for mrkdwn with a zero-width joiner after the colon that opens each emoji
    shortcode (`_SHORTCODE`), so Slack shows `:white_check_mark: Resolved` in an alert's title
    as typed, not as the check mark triage's own resolve post draws (a Unicode character, not
    a shortcode, so never touched here). Plain text needs none: it asks for no emoji."""
    return _SHORTCODE.sub(lambda found: ":" + _ZWJ if _draws(found[1]) else ":", text)


def _draws(name: str) -> bool:
    """Whether Slack draws `:name:` as an emoji: a name with a letter or `+` in it, or one of
    the few of digits alone (`:100:` is 💯; a time's `03:04:05` names none, and stays as it
    was)."""
    return name in _DIGIT_NAMES or any(ch.isalpha() or ch == "+" for ch in name)


def _links_here(found: re.Match[str]) -> bool:
    """Whether an `_AUTOLINK` match starts a link: a dot only where it ends a name
    (`_ends_a_name`), the rest always."""
    return found[0] != "." or _ends_a_name(found.string[found.start() - 1])


def _ends_a_name(ch: str) -> bool:
    """Whether `ch` may end a domain's name: a letter or a digit in any script, or a combining
    mark, which is part of the name as Slack reads it (a Hindi word's closing vowel sign in
    `हिंदी.com`, an accent written apart from its letter), though no `\\w` matches it."""
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


def code_free(text: str, *, one_line: bool = False) -> str:
    """Alert text for mrkdwn beside triage's own markup (a link's label, a ticket id): `safe`,
    and each backtick a plain quote, so no code span or block (which shows the markup inside
    it as text) can start in it and swallow the links after it, and no emoji shortcode is
    drawn (`inert_shortcodes`)."""
    return inert_shortcodes(safe(text, one_line=one_line).replace("`", "'"))


def _fit(text: str, limit: int) -> str:
    """At most `limit` characters as Slack's clients count them (`_units`), cut with "…" but
    never inside what a reader sees as one character (a base and its marks, an emoji joined
    by zero-width joiners, a flag's two letters: `graphemes.py`) or an entity such as
    `&amp;`."""
    if len(text) * 2 <= limit or _units(text) <= limit:
        return text
    cut = _prefix_within(text, limit - 1)  # the "…" is one
    if 0 < cut < len(text):
        cut = boundary_before(text, cut, _CLUSTER_BACKOFF)
    # Every `&` in escaped text starts an entity of at most 5 characters: keep it whole or drop it.
    amp = text.rfind("&", max(cut - 4, 0), cut)
    if amp != -1 and ";" not in text[amp:cut]:
        cut = amp
    return text[:cut] + "…"


def _units(text: str) -> int:
    """`text`'s length as Slack's JavaScript clients count it, in UTF-16 code units: a
    character outside the BMP (most emoji) is two. Slack's limits are told in characters
    without saying which; this count is never below any of them, so 3,000 emoji are cut
    where a count of code points would pass them whole."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _prefix_within(text: str, units: int) -> int:
    """How many of `text`'s first characters fit in `units` UTF-16 code units."""
    if text.isascii() or len(text) * 2 <= units:
        return min(len(text), units)
    used = 0
    for count, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > units:
            return count
    return len(text)


def _http_url(url: str) -> httpx2.URL | None:
    """`url` parsed, when it is an absolute http(s) URL with a host, else None (a lone
    surrogate in it, which httpx2 fails to encode, included)."""
    try:
        parsed = httpx2.URL(url)
    except (httpx2.InvalidURL, UnicodeError):
        return None
    return parsed if parsed.scheme in ("http", "https") and parsed.host else None


def _http_host(url: str) -> str | None:
    """The host of an absolute http(s) URL, else None."""
    parsed = _http_url(url)
    return parsed.host if parsed is not None else None


def scrub_webhook(text: str, url: str) -> str:
    """`text` without the webhook URL, its path (the secret part) or the path's last segment
    (the token itself), as written or percent-encoded, should anything echo it."""
    path = httpx2.URL(url).raw_path.decode("ascii", "replace")
    secrets = [url, path if len(path) > 1 else ""]
    token = path.rstrip("/").rsplit("/", 1)[-1]
    if len(token) >= 8:
        secrets.append(token)
    # `scrub` looks for each written as it is and encoded, the longest first, so the URL goes
    # whole before its path or token is looked for.
    return scrub(text, *secrets, placeholder="[webhook]")
