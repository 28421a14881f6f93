"""Immutable values passed between pipeline stages: the canonical alert and the ticket summary.

Everything is validated once, at the edge (normalisers build `Alert`, summarisers build `Ticket`);
inside the pipeline these values are trusted and never mutated.
"""

from __future__ import annotations

import hashlib
import json
from collections import ChainMap
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

#: Bumped only with a migration note: changing it re-keys every stored incident.
FINGERPRINT_VERSION = "v1"
#: The most characters of an identity's name or value: a longer one is held to it as its start
#: and a digest of the whole (`identity_text`), so what tells two values apart is never cut off.
IDENTITY_MAX = 1_024


class Status(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class EffectKind(StrEnum):
    """What a decision does to an incident's tickets; each sink turns it into its own calls."""

    OPEN = "open"  # a new incident: create the ticket / issue
    UPDATE = "update"  # repeats since the last update: at most one per update window
    CLOSE = "close"  # resolved
    REOPEN = "reopen"  # fired again within the reopen window


class Priority(StrEnum):
    """Ticket priority, most urgent first. Severity (what the source says) is kept apart."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for critical … 3 for low, the P-number used in issue titles."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


#: The fingerprints of the identities hashed lately, by source and identity items: a storm
#: repeats a few identities over and over, and hashing one costs ~4 µs. Only identities of
#: plain text are kept: of equal values that are not (1 and True), JSON writes each its own
#: way. Bounded; cleared when full.
_FINGERPRINTS: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
_FINGERPRINTS_MAX = 4096


def fingerprint_of(source: str, identity: dict[str, str]) -> str:
    """Stable hash of an incident's identity: same identity, same fingerprint, across releases."""
    key = (source, tuple(identity.items()))
    try:
        return _FINGERPRINTS[key]
    except KeyError:
        pass
    except TypeError:  # a value that is not text (nor hashable): hashed, not remembered
        return _fingerprint(source, identity)
    fingerprint = _fingerprint(source, identity)
    if type(source) is str and all(type(k) is str and type(v) is str for k, v in key[1]):
        if len(_FINGERPRINTS) >= _FINGERPRINTS_MAX:
            _FINGERPRINTS.clear()
        _FINGERPRINTS[key] = fingerprint
    return fingerprint


def _fingerprint(source: str, identity: dict[str, str]) -> str:
    canonical = json.dumps(
        {"v": FINGERPRINT_VERSION, "source": source, "identity": identity},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


#: What ends an identity name or value held to IDENTITY_MAX: a sha256 of the whole (32 hex,
#: as a fingerprint keeps), so two values that differ only past the cut stay two incidents.
_DIGEST_CHARS = 32
_DIGEST_TAIL = " sha256:"


def identity_text(text: str) -> str:
    """One identity name or value held to IDENTITY_MAX characters: itself when within the
    limit (its fingerprint never moves), else its start cut between characters, a "…" and
    the sha256 of the whole. The "…" marks the cut for the redactor, which drops a secret's
    start glued to it wherever the identity is shown; the digest leaves the process only
    inside the fingerprint, which already hashes the whole identity. Idempotent: a held
    value is within the limit."""
    if len(text) <= IDENTITY_MAX:
        return text
    # The normaliser imports this module, so its cut is imported only when one is needed.
    from triage.normalize.common import cut

    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST_CHARS]
    tail = f"{_DIGEST_TAIL}{digest}"
    return cut(text, IDENTITY_MAX - len(tail), ellipsis=True) + tail


def identity_within_limit(values: Mapping[str, str]) -> dict[str, str]:
    """`values` with every name and value held to IDENTITY_MAX characters (`identity_text`):
    an identity within the limit, nearly every one, is kept as given and keeps the
    fingerprint it had; a longer name or value keeps its start and a digest of the whole."""
    if all(len(k) <= IDENTITY_MAX and len(v) <= IDENTITY_MAX for k, v in values.items()):
        return dict(values)
    return {identity_text(k): identity_text(v) for k, v in values.items()}


class Labels(dict[str, str]):
    """An alert's shown labels as a normaliser builds them (`normalize.common.labels_from`,
    `add_label`), carrying what routes and groups read besides: the labels past the 64 shown
    (`past_cap`, cut as shown ones are) and the whole value of each label, shown or past the
    cap, whose shown value is cut (`uncut`). An `Alert` built with one keeps both
    (`Alert.labels_past_cap`, `Alert.uncut_labels`); a plain dict carries neither."""

    __slots__ = ("past_cap", "uncut")

    def __init__(self) -> None:
        super().__init__()
        self.past_cap: dict[str, str] = {}
        self.uncut: dict[str, str] = {}


class Alert(BaseModel):
    """One alert in canonical form, whatever system sent it.

    `identity` holds exactly the fields the fingerprint hashes (never volatile text such as
    state, values, timestamps or reasons), each name and value held to IDENTITY_MAX characters
    however the alert is built, a longer one as its start and a digest of the whole
    (`identity_within_limit`); `raw` keeps the source's own object
    for the store and is never sent whole to an LLM.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    status: Status
    title: str = Field(min_length=1)
    team: str | None = None
    #: Priority as the source stated it; None when the source said nothing usable.
    priority: Priority | None = None
    #: Severity in the source's own words ("SEV-2", "warning", "error"); not a priority.
    severity: str | None = None
    description: str = ""
    runbook_url: str | None = None
    #: Named links the source gave: dashboard, source, silence, panel, alarm, issue …
    links: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    #: Labels past the 64 `labels` shows, cut as those are: never shown nor dumped, read by
    #: routes and groups (`label`), so a route's label is not lost behind dozens of others.
    labels_past_cap: dict[str, str] = Field(default_factory=dict, repr=False, exclude=True)
    #: The whole value (one line, held to IDENTITY_MAX as an identity's is) of each label whose
    #: shown value is cut: never shown nor dumped, read by routes and groups (`label`), so
    #: values that differ only past the cut (two long URLs) are two groups.
    uncut_labels: dict[str, str] = Field(default_factory=dict, repr=False, exclude=True)
    occurred_at: datetime
    identity: dict[str, str]
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)
    #: The fingerprint of the alert this one is a part of (a CloudWatch Metrics Insights
    #: alarm's, for one of its contributors): the parent's deletion closes this one's incident.
    parent: str | None = None
    #: This resolve is its alert's deletion: the incidents of its children (the alerts that
    #: name it as `parent`) close with it, as no resolve of their own will come.
    closes_children: bool = False
    #: A person changed the incident's priority in its source (PagerDuty's
    #: `incident.priority_updated`, Opsgenie's `UpdatePriority`): no firing of the alert, only
    #: its new `priority`, which replaces the open ticket's, lower too (a source's own repeat
    #: only ever raises it). It never opens nor reopens an incident.
    priority_changed: bool = False

    @model_validator(mode="before")
    @classmethod
    def _labels_read_besides(cls, data: Any) -> Any:
        """The labels past the cap and the uncut values a normaliser's `Labels` carries: kept
        beside the shown labels, which pydantic copies into a plain dict."""
        if isinstance(data, dict) and isinstance(labels := data.get("labels"), Labels):
            data = {
                "labels_past_cap": labels.past_cap,
                "uncut_labels": labels.uncut,
                **data,
            }
        return data

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must carry a timezone")
        return value

    @field_validator("identity")
    @classmethod
    def _held_to_limit(cls, value: dict[str, str]) -> dict[str, str]:
        return identity_within_limit(value)

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def fingerprint(self) -> str:
        return fingerprint_of(self.source, self.identity)

    @property
    def routed_labels(self) -> Mapping[str, str]:
        """Every label as shown (cut): those `labels` shows, then those past the cap; what a
        group shows of the values it is keyed by."""
        return ChainMap(self.labels, self.labels_past_cap) if self.labels_past_cap else self.labels

    def label(self, name: str) -> str | None:
        """The value of the label `name` that routes match and group keys hash: whole when its
        shown value is cut, and read past the 64-label cap too; None when the alert has none."""
        return self.uncut_labels.get(name) or self.routed_labels.get(name)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        # pydantic does not validate `update`: a new identity is held to its limit here.
        if update is not None and "identity" in update:
            update = {**update, "identity": identity_within_limit(update["identity"])}
        copy = super().model_copy(update=update, deep=deep)
        if update is not None and ("identity" in update or "source" in update):
            # A copy would keep the cached fingerprint, which its new identity changes. Any
            # other copy keeps it: the same identity hashes alike, and a fingerprint the
            # store gave (`known_as`) has no identity to hash.
            copy.__dict__.pop("fingerprint", None)
        return copy

    def known_as(self, fingerprint: str) -> Self:
        """A copy known by `fingerprint`, not by its identity's hash: an alert rebuilt from
        the store (a child its parent's deletion closes), which keeps an incident's
        fingerprint but never the identity it hashes (that text may hold a secret)."""
        copy = self.model_copy()
        copy.__dict__["fingerprint"] = fingerprint
        return copy


class Ticket(BaseModel):
    """What a person reads: the summary a summariser writes for one incident."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    priority: Priority
    description: str = Field(max_length=20_000)
    steps: tuple[str, ...] = Field(default=(), max_length=20)
