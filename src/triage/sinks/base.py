"""The `Sink` seam: where a ticket lands (ticket backend, GitHub issues, Slack).

The pipeline hands a sink one `Effect` at a time. A sink turns it into calls to its service and
answers with `Applied` (done, with the ticket reference for OPEN, or skipped, saying why), or
raises `SinkUnavailableError` (transient), `SinkThrottledError` (wait, the message is held) or
`SinkRejectedError` (permanent). Every effect carries an idempotency key that is the same on
every retry of that effect, so a sink that can ask "did I already do this?" never does it twice.

A sink whose outage should hold only the messages that call it, not the daemon's whole intake
(a notification, such as Slack), says so with a class attribute `outage_pauses_intake = False`;
without it, its open breaker and its waits pause intake (`sinks/guard.py`).

An effect carries the alert only as a `RedactedAlert` and the ticket as redacted text: a sink has
nothing else to render a request from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol

from triage.models import EffectKind, Priority, Ticket
from triage.view import RedactedAlert


@dataclass(frozen=True, slots=True)
class Target:
    """Per-route options for one sink, from the routes file; unset fields mean the sink's
    defaults from the settings (`GITHUB_REPOSITORY`, `SLACK_WEBHOOK_URL` …)."""

    #: github: "owner/name" of the repository issues go to.
    repository: str | None = None
    #: github: labels added to a new issue, besides the team/priority/source/triage ones.
    labels: tuple[str, ...] = ()
    #: github: logins assigned to a new issue.
    assignees: tuple[str, ...] = ()
    #: slack: the incoming-webhook URL.
    webhook_url: str | None = None


DEFAULT_TARGET = Target()


@dataclass(frozen=True, slots=True)
class Effect:
    """One thing to do to a sink's ticket for one incident."""

    kind: EffectKind
    fingerprint: str
    #: The alert that caused the effect (the resolving alert for CLOSE), redacted.
    alert: RedactedAlert
    #: The incident's summary, written once when it opened.
    ticket: Ticket
    #: This sink's reference from OPEN (ticket id, issue number); None for OPEN itself.
    ref: str | None
    #: Firing occurrences since the incident opened, and since the last UPDATE.
    occurrences: int
    new_occurrences: int
    #: The incident reopened `flap_threshold` times or more within the reopen window.
    flapping: bool
    #: Stable across retries of this effect: "<fingerprint>:<effect sequence number>".
    idempotency_key: str
    #: Where this sink should put it (the matching route's options for this sink).
    target: Target = DEFAULT_TARGET
    #: Every sink's reference for this incident so far, by sink name (sinks run in the route's
    #: order, so a later sink, e.g. Slack, can link to the ticket an earlier one created).
    refs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: The W3C trace id of the message that caused the effect (32 hex digits), when traced.
    trace_id: str | None = None
    #: An UPDATE or REOPEN that moved the ticket's priority (a later alert, or the re-fire,
    #: stated a higher one, or a person changed it in PagerDuty or Opsgenie): the priority it
    #: had before, `ticket` carrying the new one. None for every other effect.
    priority_was: Priority | None = None


def priority_moved(was: Priority, now: Priority) -> str:
    """What an update that moved the priority says of it, the same in every sink: `Priority
    raised from medium to critical` (or lowered, by a person's change)."""
    how = "raised" if now.rank < was.rank else "lowered"
    return f"Priority {how} from {was.value} to {now.value}"


class NotSent(StrEnum):
    """Why a sink sent nothing, as the fixed word an incident's history shows (`skipped: no
    route`, or `refused`). A sink sets it where it decides to send nothing; the free-text
    reason beside it (`Applied.skipped`) is for logs and may be reworded at will."""

    #: The backend has no route for this effect (TRIAGE_BACKEND_UPDATE_ROUTE/RESOLVE_ROUTE).
    NO_ROUTE = "no route"
    #: A later effect with no ticket reference to act on.
    NO_TICKET = "no ticket"
    #: Slack: updates are noise in a channel.
    UPDATES_NOT_POSTED = "updates not posted"
    #: Slack: the incident is below TRIAGE_SLACK_MIN_PRIORITY.
    BELOW_MIN_PRIORITY = "below min priority"
    #: Slack: a follow-up of an incident whose opening was not posted.
    NOT_POSTED_AT_OPEN = "not posted at open"
    #: GitHub: a person closed the issue within TRIAGE_GITHUB_HAND_CLOSED_HOLD_S.
    CLOSED_BY_HAND = "closed by hand"
    #: The sink's service refused the effect (or GitHub refused as much lately).
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Applied:
    """What a sink did with one effect: carried it out (`ref`: the ticket reference, for OPEN,
    and for a later effect if it changed: a moved issue, a new one for a re-fire of a deleted
    one), or sent nothing: `why` says so in a fixed word (`Applied.skip`, `Applied.refuse`),
    `skipped` in free text for logs. `gone`: the ticket is out of reach for good (deleted, its
    repository archived, moved where the token may not write), so the incident records it and
    its later updates and closes do not call this sink again; only a re-fire does, which may
    open a new ticket."""

    ref: str | None = None
    skipped: str | None = None
    gone: bool = False
    why: NotSent | None = None
    #: An OPEN the service answered with the ticket an earlier attempt of the effect created
    #: under its idempotency key (a replay: Stripe's `Idempotent-Replayed`, a 409 or 303
    #: naming the key's ticket): carried out, but no new ticket, so not counted again.
    replayed: bool = False

    def __post_init__(self) -> None:
        # The history reads the word, never the text: a skip without one would read as sent.
        if (self.skipped is None) != (self.why is None):
            raise ValueError("a skip says both its reason and its word (Applied.skip/refuse)")

    @classmethod
    def skip(cls, reason: str, *, why: NotSent) -> Applied:
        """Nothing sent, by the sink's own choice (`why`); `reason` is for the logs."""
        return cls(skipped=reason, why=why)

    @classmethod
    def refuse(cls, reason: str, *, gone: bool = False, ref: str | None = None) -> Applied:
        """Nothing (or not all) sent: the sink's service refused the effect. `ref`: the
        ticket's new reference when the refusal came from where it moved."""
        return cls(ref=ref, skipped=reason, gone=gone, why=NotSent.REFUSED)

    @property
    def refused(self) -> bool:
        """Whether the sink's service refused the effect (rather than the sink skipping it)."""
        return self.why is NotSent.REFUSED


class ProbeCantTell(str):
    """What a sink's `probe()` reached when the answer proves nothing about the service: one a
    gateway in front of it gives on its own (a CORS preflight answer, nginx's `return 204` on
    OPTIONS) while the service behind it may be down. The guard then lets one real call through
    as the half-open breaker's probe, closing only on its success (`sinks/guard.py`), instead
    of closing on every probe and re-opening on the next calls' failures. A str, so whatever
    shows a probe's answer (`triage check`) shows it as it shows any other."""

    __slots__ = ()


class Sink(Protocol):
    """A destination for tickets; one instance per configured sink, shared by all workers."""

    @property
    def name(self) -> str:
        """Short name used in settings, routes, logs and the store (`backend`, `github`)."""
        ...

    async def apply(self, effect: Effect) -> Applied:
        """Carry out `effect` (or decide it is not for this sink) and say which it was."""
        ...

    async def aclose(self) -> None:
        """Release connections; called once at shutdown."""
        ...
