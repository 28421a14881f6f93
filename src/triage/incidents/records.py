"""What the store keeps, as its backends see it: the record (one JSON document with a
version), its kinds, the change a write applies, and the values `Store` hands back (`Transition`)
or is handed (`Hold`, `Routing`).

Apart from `Store` so that a backend (`sqlite`, `dynamodb`, a test's in-memory one) and the
unit of work (`ledger`) import these values without the protocol built on them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from triage.incidents.lifecycle import Action, Incident
from triage.models import Ticket
from triage.view import RedactedAlert

R = TypeVar("R")

#: Given the stored incident (or None), return what to write (None: nothing) and a result.
Change = Callable[[Incident | None], tuple[Incident | None, R]]

#: Record kinds. Incidents keep their own table (SQLite) or carry no kind attribute (DynamoDB),
#: as they did before other kinds existed.
INCIDENT = "incident"
BUDGET = "budget"
#: Every silence in one record: one read per second per replica, one conditional write per change.
SILENCES = "silences"
SILENCES_KEY = "all"
#: Which group a member alert fires in, one record per member fingerprint (its body the
#: group's key): a resolve that no longer carries the labels its group is keyed by still
#: finds it, and a member that fires in another group is resolved in the one it left.
MEMBER = "member"
#: Which children of a parent alert fire (a CloudWatch Metrics Insights alarm's contributors),
#: one record per parent fingerprint (its body: each child's fingerprint, state, newest event
#: and redacted title): the parent's deletion closes the firing ones, reading one record
#: rather than scanning incidents (`SharedRecords.children`).
CHILDREN = "children"
#: Where a message's alerts gave a claim back on failure, one record per message (its body:
#: [incident key, claim owner without its delivery] pairs): the message's retry finishes those
#: effects first, wherever its alerts are routed by then (`Store.reclaim`). Written only when a
#: claim is given back, read only by a message received again.
CLAIMS = "claims"
#: An operator's status-page session that a logout ended, one record per session (its key a
#: hash of the session's random id, never the cookie): every replica refuses the session once
#: it reads the record, which expires when the session would have (`SharedRecords.end_session`).
ENDED_SESSION = "ended_session"
#: What an incident's effect in progress sends its sinks, one record per incident (its body
#: `Sent`, the effect's sequence number in it): written before the first sink call, read back
#: by every redo of the effect, so a redo under the same idempotency key sends the same body
#: (`Store.freeze_effect`). The next effect of the incident writes over it, and so does the
#: fingerprint's next incident (its `opened_at` differs).
SENT = "sent"


@dataclass(frozen=True, slots=True)
class Record:
    """One stored JSON document; `version` makes every write conditional."""

    key: str
    kind: str
    version: int
    body: str
    #: Epoch seconds after which the record may be deleted (SQLite purge, DynamoDB TTL).
    expires_at: float | None = None
    #: Epoch seconds from which the sweep must look at the record (an incident whose effect a
    #: silence holds, that is due for escalation, or whose sweep-made effect may be abandoned).
    sweep_at: float | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """A silence matched the alert: store it, and hold its effect until `until` (or until no
    silence matches); `alert` is its redacted view as JSON, to carry the effect out with."""

    silence: str
    until: datetime
    alert: str


@dataclass(frozen=True, slots=True)
class Sent:
    """What an effect tells its sinks, as its first attempt built it: every attempt of the
    effect (a retry, a takeover by another message or replica) sends this, so a sink that
    checks a reused idempotency key's payload (the IETF Idempotency-Key draft's 422, Stripe)
    is sent the same body. Redacted already: it is what was sent."""

    #: The effect's sequence number (`Pending.seq`, the idempotency key's suffix).
    seq: int
    #: The alert, with its group as it stood (members, their states and titles).
    alert: RedactedAlert
    #: The summary, redacted.
    ticket: Ticket
    #: The incident's occurrences so far, and those its last update told (`_occurrences`).
    occurrences: int
    occurrences_at_update: int
    flapping: bool
    #: The W3C trace id of the message whose attempt built it, when traced.
    trace_id: str | None = None
    #: The incident's `opened_at`: which of the fingerprint's incidents the effect is of. An
    #: incident record that expired before this one starts its seqs again; a body kept for
    #: another incident is no body for this one. None in a body an older release kept.
    opened_at: datetime | None = None
    #: Where the first attempt sent it (`SentTo`); None in a body an older release kept (its
    #: redo is routed as it was before bodies said where they went).
    to: SentTo | None = None


@dataclass(frozen=True, slots=True)
class SentTo:
    """Where an effect's first attempt sent it, so its redo (another replica, the routes file
    changed since, the sweep) reaches the same places: the route's name, its sinks as they
    were, and GitHub's target (no secret). A Slack webhook URL is a secret and is never kept:
    the redo takes the webhook of the route of that name, as the redoing replica has it."""

    route: str
    sinks: tuple[str, ...]
    #: GitHub's repository ("owner/name"; None: the GITHUB_REPOSITORY default), and the
    #: labels and assignees a new issue gets, when GitHub is one of `sinks`.
    github_repository: str | None = None
    github_labels: tuple[str, ...] = ()
    github_assignees: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Routing:
    """What the effect that opened a ticket learned, kept with the ticket: the route, the
    route's escalation delay and quiet time before it closes (`resolve_after_s`), and the
    alert's team and labels (redacted): the 64 it shows, and those past them that silences
    match (`Incident.labels_past_cap`, bounded by `codec.past_cap_kept`)."""

    route: str
    team: str | None
    labels: dict[str, str]
    escalate_after_s: float | None = None
    resolve_after_s: float | None = None
    labels_past_cap: dict[str, str] = field(default_factory=dict)


#: Given the stored record (or None), return what to write (None: nothing) and a result.
RecordChange = Callable[[Record | None], tuple[Record | None, R]]


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of `begin()`: the action to carry out and the incident before and after."""

    action: Action
    before: Incident | None
    after: Incident | None
    #: True when this is someone's unfinished effect being redone, not the alert's own action;
    #: the caller must call `begin()` again for the alert once the redo is finished.
    redo: bool = False
    #: True when an earlier delivery of the alert's message applied its decision already (its
    #: delete was lost): the IGNORE is no new alert, and counts nowhere.
    redelivery: bool = False

    @property
    def fingerprint(self) -> str:
        incident = self.after or self.before
        assert incident is not None
        return incident.fingerprint

    @property
    def idempotency_key(self) -> str:
        assert self.after is not None and self.after.pending is not None
        return f"{self.after.fingerprint}:{self.after.pending.seq}"


def other_keys(record: Record | None, known: Iterable[str]) -> dict[str, Any]:
    """The fields of a JSON record beside the `known` ones this release writes (a newer
    release's): written back as they were, so an older replica's write drops nothing
    (nothing when the record does not read)."""
    try:
        data = json.loads(record.body) if record is not None else None
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k not in known}
