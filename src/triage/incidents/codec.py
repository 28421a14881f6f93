"""Incidents as JSON text, the same for every store backend (a record's `body`).

Records outlive releases: during a rolling deploy, replicas of two releases change the same
records. So a record is read forward-compatibly. A field this release does not know (one a
newer release added, at the top level or inside the ticket, the pending effect, the hold, the
escalation, the group, a member or a history line) is kept as it was read (`Incident.unknown`)
and written back unchanged with whatever this release changes; a nested object's unknown
fields go with it when this release replaces the object (a new effect, a member's new event).
A newer release's field must therefore be safe to be carried unchanged by a release that does
not understand it, and its absence must read as its default. A change that cannot be made so
writes `min_reader` (the oldest `RECORD_FORMAT` that may change the record): a release below it
refuses the record with one line (`StoreNewerError`) and leaves it as it was.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import itertools
import json
import operator
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring  # what json uses without ensure_ascii
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from triage.errors import StoreNewerError
from triage.incidents.lifecycle import (
    Escalation,
    Event,
    Group,
    Held,
    Incident,
    Member,
    Pending,
    Refusal,
    State,
    Trace,
)
from triage.incidents.records import Sent, SentTo
from triage.models import EffectKind, Priority, Status, Ticket
from triage.view import GroupView, MemberView, RedactedAlert

#: The record format this release reads and writes. A record (or a silence) holding a higher
#: `min_reader` is refused; one without it is of format 1. Raise it, and write `min_reader`,
#: only for a change an older release would corrupt by carrying a field it does not know.
#: 2: a silence's `!~` matcher (`silences.NOT_REGEX_FORMAT`).
RECORD_FORMAT = 2
MIN_READER = "min_reader"

T = TypeVar("T")

_INCIDENT_FIELDS = tuple(f.name for f in dataclasses.fields(Incident) if f.name != "unknown")
_PENDING_FIELDS = tuple(f.name for f in dataclasses.fields(Pending))
_HELD_FIELDS = tuple(f.name for f in dataclasses.fields(Held))
_ESCALATION_FIELDS = tuple(f.name for f in dataclasses.fields(Escalation))
_PENDING_KEYS, _HELD_KEYS = frozenset(_PENDING_FIELDS), frozenset(_HELD_FIELDS)
_ESCALATION_KEYS = frozenset(_ESCALATION_FIELDS)
#: The incident's own times (top level), kept as ISO 8601 text.
_INCIDENT_TIMES = (
    "opened_at",
    "last_event_at",
    "closed_at",
    "last_update_at",
    "applied_at",
    "reopened_at",
    "quiet_until",
    "last_queued_at",
    "priority_changed_at",
    "closed_by_hand_at",
    "counted_from",
)
#: Fields written only when set (not None, not empty). A release before them fails to read a
#: record that has one, so while replicas of two releases share the store (a rolling deploy),
#: only the records that use them (a flapping incident's held close, counted repeats) are
#: unreadable to the older ones, not every record the newer ones write.
_WRITTEN_WHEN_SET = (
    "quiet_until",
    "counted_by",
    "last_queued_at",
    "gone",
    "refused",
    "resolve_after_s",
    "update_owed_at_s",
    "labels_past_cap",
    "priority_was",
    "priority_stated",
    "priority_changed_at",
    "closed_by_hand_at",
    "counted_from",
)


def incident_to_json(incident: Incident) -> str:
    """Compact JSON of every field of the incident."""
    group = incident.group
    # What this release did not know of the record is put back by `_fields` alone.
    text = _ENCODE(_fields(incident)) if incident.unknown else _json_keeping_runs(incident)
    if group is None:
        return text
    # A group is written last, by hand: each member's JSON is kept between writes.
    return text[:-1] + ',"group":' + _group_json(group, incident.unknown) + "}"


def _fields(incident: Incident) -> dict[str, object]:
    """The incident's fields (but a group) as JSON values, and what this release did not know
    of the record it was read from, put back."""
    # Field by field: dataclasses.asdict would deep-copy the whole incident (ticket included)
    # on every write, and a write happens for every alert. Times are turned into text here
    # rather than by json's `default` hook, which costs a Python call per value.
    data: dict[str, object] = {name: getattr(incident, name) for name in _INCIDENT_FIELDS}
    for name in _INCIDENT_TIMES:
        value = data[name]
        if value is not None:
            data[name] = value.isoformat()  # type: ignore[attr-defined]
    for name in _WRITTEN_WHEN_SET:
        if not data[name]:
            del data[name]
    if incident.refused:
        data["refused"] = {s: [r.kind.value, r.alert] for s, r in incident.refused.items()}
    data["ticket"] = incident.ticket.model_dump(mode="json") if incident.ticket else None
    pending = incident.pending
    if pending is not None:
        data["pending"] = {name: getattr(pending, name) for name in _PENDING_FIELDS}
    if incident.group is not None:
        del data["group"]
    data["history"] = [[e.at.isoformat(), e.action, e.note] for e in incident.history]
    if incident.held is not None:
        data["held"] = {name: getattr(incident.held, name) for name in _HELD_FIELDS}
    if incident.escalation is not None:
        escalation = incident.escalation
        data["escalation"] = {name: getattr(escalation, name) for name in _ESCALATION_FIELDS}
    if incident.unknown:
        _put_back(incident, data)
    return data


# --- The fields a repeat keeps, encoded once --------------------------------------------------
#
# A repeat in a storm writes its incident again with a few fields changed (`_CHANGING`); every
# other field holds the very object of the write before (a `dataclasses.replace` of the
# incident decoded from, or kept after, that write). So the runs of fields between the
# changing ones are encoded once and kept, per incident, for as long as each of their values
# is the same object: incidents are immutable values, and so is everything they hold (their
# dicts are never changed in place). Equal is not enough: an equal dict in another order, or
# 60 for 60.0, is written differently. The body is byte for byte what `_fields` makes.

#: The fields a repeat (a counted occurrence) changes, encoded on every write, in
#: `_INCIDENT_FIELDS`' order: the order `_changing_values` gives their JSON in.
_CHANGING_IN_ORDER = (
    "last_event_at",
    "occurrences",
    "version",
    "applied_at",
    "history",
    "counted_by",
    "last_queued_at",
)
_CHANGING = frozenset(_CHANGING_IN_ORDER)
_KEPT_FIELDS = tuple(name for name in _INCIDENT_FIELDS if name not in _CHANGING)
_kept_values = operator.attrgetter(*_KEPT_FIELDS)


def _layout() -> tuple[str | tuple[str, ...], ...]:
    """`_INCIDENT_FIELDS` in order, as runs of kept fields (a tuple of names, encoded
    together) between the changing ones (a name each)."""
    layout: list[str | tuple[str, ...]] = []
    for changing, names in itertools.groupby(_INCIDENT_FIELDS, _CHANGING.__contains__):
        if changing:
            layout.extend(names)
        else:
            layout.append(tuple(names))
    return tuple(layout)


_LAYOUT = _layout()
assert tuple(e for e in _LAYOUT if isinstance(e, str)) == _CHANGING_IN_ORDER, (
    "_changing_values must follow _LAYOUT"
)

#: Per fingerprint: the kept fields' values, and the body as a `%` template (`_Kept`).
#: Bounded; cleared when full.
_RUNS: dict[str, _Kept] = {}
_RUNS_MAX = 8192


class _Kept(NamedTuple):
    """What `_json_keeping_runs` keeps of an incident's last write: the kept fields' values
    (`_kept_values`) and, once a write kept them all (a repeat), the body as a template of
    the runs of kept fields and a `%s` for each changing field (`_template`), made for one
    `shape`: whether `counted_by` and `last_queued_at` are written (each only when set)."""

    values: tuple[object, ...]
    shape: tuple[bool, bool] | None = None
    template: str | None = None


def _json_keeping_runs(incident: Incident) -> str:
    """`_fields(incident)` as JSON, the runs of fields a repeat keeps reused from the write
    before when their values are the same objects: a repeat whose changing fields hold what a
    repeat writes (times, counts, text) fills the kept template in one `%` operation, with no
    JSON encoder and no list of parts."""
    values = _kept_values(incident)
    fingerprint = incident.fingerprint
    kept = _RUNS.get(fingerprint)
    if kept is None or not all(map(operator.is_, values, kept.values)):
        # A write that changed a kept field (a new incident's claim, its ticket, its effect
        # done) is encoded whole, as the plain path does; its runs are made only when the next
        # write keeps them all (a repeat), so a new incident pays nothing for them.
        if len(_RUNS) >= _RUNS_MAX:
            _RUNS.clear()
        _RUNS[fingerprint] = _Kept(values)
        return _ENCODE(_fields(incident))
    counted_by, queued = incident.counted_by, incident.last_queued_at
    changing = _changing_values(incident, counted_by, queued)
    if changing is None:
        return _json_of_parts(incident, _runs(incident))
    shape = (bool(counted_by), bool(queued))
    template = kept.template
    if template is None or kept.shape != shape:
        template = _template(_runs(incident), shape)
        _RUNS[fingerprint] = _Kept(values, shape, template)
    return template % changing


def _json_of_parts(incident: Incident, runs: list[str]) -> str:
    """The body from the kept `runs` and each changing field encoded on its own (any value
    a field may hold)."""
    parts: list[str] = []
    next_run = iter(runs).__next__
    for entry in _LAYOUT:
        part = next_run() if isinstance(entry, tuple) else _changing_json(entry, incident)
        if part:
            parts.append(part)
    return "{" + ",".join(parts) + "}"


def _template(runs: list[str], shape: tuple[bool, bool]) -> str:
    """The body as a `%` template: the kept `runs` as they are (their `%` doubled), a `%s`
    for each changing field written, in `_LAYOUT`'s order, as `_json_of_parts` joins them.
    `shape`: whether `counted_by` and `last_queued_at` are written (each only when set)."""
    written = {"counted_by": shape[0], "last_queued_at": shape[1]}
    parts: list[str] = []
    next_run = iter(runs).__next__
    for entry in _LAYOUT:
        if isinstance(entry, tuple):
            part = next_run().replace("%", "%%")
        else:
            part = f'"{entry}":%s' if written.get(entry, True) else ""
        if part:
            parts.append(part)
    return "{" + ",".join(parts) + "}"


def _changing_values(
    incident: Incident, counted_by: tuple[str, ...], queued: datetime | None
) -> tuple[str, ...] | None:
    """The JSON of the changing fields `_template` leaves a `%s` for, in its order; None when
    one holds a value of another type than a repeat writes (`_json_of_parts` encodes it)."""
    last, applied = incident.last_event_at, incident.applied_at
    occurrences, version = incident.occurrences, incident.version
    if type(last) is not datetime or type(occurrences) is not int or type(version) is not int:
        return None
    if type(applied) is datetime:
        applied_json = f'"{applied.isoformat()}"'
    elif applied is None:
        applied_json = "null"
    else:
        return None
    values = [
        f'"{last.isoformat()}"',  # digits, signs, T and colons: nothing to escape
        int.__repr__(occurrences),
        int.__repr__(version),
        applied_json,
        "[" + ",".join(map(_event_json, incident.history)) + "]",
    ]
    if counted_by:
        if not all(type(item) is str for item in counted_by):
            return None
        values.append("[" + ",".join(map(encode_basestring, counted_by)) + "]")
    if queued:
        if type(queued) is not datetime:
            return None
        values.append(f'"{queued.isoformat()}"')
    return tuple(values)


def _runs(incident: Incident) -> list[str]:
    """The runs of kept fields of `_LAYOUT`, each as JSON members without braces ("" when none
    of its fields is written)."""
    data = _fields(incident)
    return [
        _ENCODE({name: data[name] for name in entry if name in data})[1:-1]
        for entry in _LAYOUT
        if isinstance(entry, tuple)
    ]


def _changing_json(name: str, incident: Incident) -> str:
    """`"name":value` of a field a repeat changes, as `_fields` and json would write it ("" for
    one written only when set, unset)."""
    value = getattr(incident, name)
    if name == "history":
        return '"history":[' + ",".join(map(_event_json, incident.history)) + "]"
    if name in _WRITTEN_WHEN_SET and not value:
        return ""
    if name == "counted_by" and all(type(item) is str for item in value):
        return '"counted_by":[' + ",".join(map(encode_basestring, value)) + "]"
    if type(value) is datetime:
        return f'"{name}":"{value.isoformat()}"'  # digits, signs, T and colons: nothing to escape
    if type(value) is int:
        return f'"{name}":{int.__repr__(value)}'
    if name in _INCIDENT_TIMES and value is not None:
        value = value.isoformat()
    return f'"{name}":' + _ENCODE(value)


def _group_json(group: Group, unknown: Mapping[str, object]) -> str:
    def dump(value: object) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    tails = unknown.get(_MEMBER_TAILS)
    if isinstance(tails, dict):
        members = ",".join(
            _member_tail_json(fp, m, tails.get(fp)) for fp, m in group.members.items()
        )
    else:
        members = ",".join(_member_json(fp, m) for fp, m in group.members.items())
    extra = _untracked_times_json(group.untracked_times) + _untracked_bits_json(group)
    kept = _kept_for(unknown, "group", group)
    if kept:
        extra += "," + dump(kept)[1:-1]
    return (
        f'{{"route":{dump(group.route)},"by":{dump(group.by)},"members":{{{members}}},'
        f'"untracked":{dump(group.untracked)},"untracked_ids":{dump(sorted(group.untracked_ids))},'
        f'"window_s":{dump(group.window_s)}{extra}}}'
    )


def _untracked_times_json(times: Mapping[str, Trace]) -> str:
    """`,"untracked_times":{"<short id>":[event µs, queued µs],…}`, epoch microseconds (a
    queue time not known is left out); "" when there are none. Written only when set, so a
    release before it reads the group as before and carries the field unchanged."""
    if not times:
        return ""
    entries = ",".join(map(_trace_json, times.items()))
    return f',"untracked_times":{{{entries}}}'


def _untracked_bits_json(group: Group) -> str:
    """`,"untracked_bits":"<base64>"`, the bitmap of the members known past the short ids;
    "" when there is none. Written only when set, so a group that never passed the ids is
    written as before, and a release before it keeps the field as one it does not know."""
    if not group.untracked_bits:
        return ""
    return f',"untracked_bits":"{base64.b64encode(group.untracked_bits).decode()}"'


def _untracked_bits(raw: str) -> bytes:
    """The bitmap `_untracked_bits_json` wrote; a value that is not base64 is refused as
    the record's other fields of the wrong kind are, rather than read as no members."""
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error as error:
        raise ValueError("group.untracked_bits is not base64") from error


def _trace_json(item: tuple[str, Trace]) -> str:
    """`"<short id>":[event µs(,queued µs)]`, kept per trace object: a group rewritten on
    every change keeps most of its traces, as it keeps its members (`_MEMBER_JSON`)."""
    short, trace = item
    kept = _TRACE_JSON.get(id(trace))
    if kept is not None and kept[0] is trace and kept[1] == short:
        return kept[2]
    queued = trace.last_queued_at
    tail = "]" if queued is None else f",{_micros(queued)}]"
    text = f"{encode_basestring(short)}:[{_micros(trace.last_event_at)}{tail}"
    if len(_TRACE_JSON) >= _MEMBER_JSON_MAX:
        _TRACE_JSON.clear()
    _TRACE_JSON[id(trace)] = (trace, short, text)
    return text


_TRACE_JSON: dict[int, tuple[Trace, str, str]] = {}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(at: datetime) -> int:
    """`at` as whole microseconds since the epoch (exact, unlike a float's seconds)."""
    return (at - _EPOCH) // _MICROSECOND


def _from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _untracked_times(raw: dict[str, list[int]]) -> dict[str, Trace]:
    """The untracked members' times `_untracked_times_json` wrote."""
    return {
        short: Trace(_from_micros(at), _from_micros(queued[0]) if queued else None)
        for short, (at, *queued) in raw.items()
    }


def _member_tail_json(fp: str, member: Member, tail: tuple[Member, list[Any]] | None) -> str:
    """A member, with the values after its four as they were read while it is unchanged (a
    newer release's, after the time its newest event was queued)."""
    if tail is None or tail[0] != member:
        return _member_json(fp, member)
    value = [member.status.value, member.title, member.last_event_at, member.since, *tail[1]]
    return (
        json.dumps(fp, ensure_ascii=False)
        + ":"
        + json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False)
    )


def _member_values(member: Member) -> list[object]:
    """`[status, title, last, since]`, and the time its newest event was queued when known
    (a fifth value: a release before it keeps it as a newer release's, see `_member_tail_json`)."""
    value: list[object] = [member.status.value, member.title, member.last_event_at, member.since]
    if member.last_queued_at is not None:
        value.append(member.last_queued_at)
    return value


#: `"fingerprint":[status,title,last,since(,queued)]` of each member object, by identity. A group is one
#: record rewritten on every member event and a member that did not change is the same object
#: in the next write, so each is encoded once (re-encoding all made a message of n members
#: cost O(n^2): 20 ms a join at 1,000 members). Bounded; cleared when full.
_MEMBER_JSON: dict[int, tuple[Member, str, str]] = {}
_MEMBER_JSON_MAX = 50_000


def _member_json(fp: str, member: Member) -> str:
    kept = _MEMBER_JSON.get(id(member))
    if kept is not None and kept[0] is member and kept[1] == fp:
        return kept[2]
    value = _member_values(member)
    text = (
        json.dumps(fp, ensure_ascii=False)
        + ":"
        + json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False)
    )
    if len(_MEMBER_JSON) >= _MEMBER_JSON_MAX:
        _MEMBER_JSON.clear()
    _MEMBER_JSON[id(member)] = (member, fp, text)
    return text


def incident_from_json(text: str) -> Incident:
    """The incident `incident_to_json` wrote (records written before a field existed get its
    default; fields written after this release are kept in `unknown`). StoreNewerError when
    the record's `min_reader` is beyond `RECORD_FORMAT`. A field of the wrong JSON type (a
    hand edit's `"title": 5`) is a TypeError naming it, as bad JSON is a ValueError: the
    store's `store_corrupt`, never an incident that fails later wherever the field is used."""
    data = json.loads(text)
    if type(data) is not dict:
        raise TypeError(f"the record is {_json_type(data)}, not an object")
    check_reader(data, f"incident {str(data.get('fingerprint'))[:80]}")
    unknown = _unknown_of(data, _KNOWN)
    for key in unknown:
        del data[key]
    _check_types("", data, _INCIDENT_TYPES)
    for key in _INCIDENT_TIMES:
        if data.get(key) is not None:
            data[key] = _at(data[key])
    data["state"] = State(data["state"])
    data["ticket"] = _ticket(data["ticket"], unknown) if data.get("ticket") else None
    data["refs"] = _references("refs", data.get("refs", {}), "references")
    data["labels"] = _references("labels", data.get("labels", {}))
    if "labels_past_cap" in data:
        data["labels_past_cap"] = _references("labels_past_cap", data["labels_past_cap"])
    data["pending"] = data.get("pending") or None
    if data["pending"]:
        p = _split("pending", data["pending"], _PENDING_KEYS, unknown)
        _check_types("pending.", p, _PENDING_TYPES)
        data["pending"] = _kept(
            "pending",
            Pending(
                kind=EffectKind(p["kind"]),
                owner=p["owner"],
                until=_at(p["until"]),
                seq=p["seq"],
                delta=p.get("delta", 0),
                done=_strings("pending.done", p["done"]),
                not_before=_time(p.get("not_before")),
                alert=p.get("alert"),
                attempts=p.get("attempts", 0),
                retry_at=_time(p.get("retry_at")),
            ),
            unknown,
        )
    data["group"] = _group(data["group"], unknown) if data.get("group") else None
    data["history"] = _history(data.get("history", []), unknown)
    data["effects_by"] = _strings("effects_by", data.get("effects_by", []))
    data["counted_by"] = _strings("counted_by", data.get("counted_by", []))
    if "gone" in data:
        data["gone"] = _references("gone", data["gone"], "references")
    if "refused" in data:
        data["refused"] = _refusals(data["refused"])
    for name in ("priority_was", "priority_stated"):
        if data.get(name) is not None:
            data[name] = Priority(data[name])
    data["held"] = data.get("held") or None
    if data["held"]:
        h = _split("held", data["held"], _HELD_KEYS, unknown)
        _check_types("held.", h, _HELD_TYPES)
        held = Held(
            EffectKind(h["kind"]), h["silence"], h["alert"], _at(h["since"]), _at(h["until"])
        )
        data["held"] = _kept("held", held, unknown)
    data["escalation"] = data.get("escalation") or None
    if data["escalation"]:
        e = _split("escalation", data["escalation"], _ESCALATION_KEYS, unknown)
        _check_types("escalation.", e, _ESCALATION_TYPES)
        sent = _strings("escalation.sent", e.get("sent", []))
        escalation = Escalation(e["owner"], _at(e["until"]), _time(e.get("done_at")), sent)
        data["escalation"] = _kept("escalation", escalation, unknown)
    return Incident(**data, unknown=unknown)


def _references(name: str, value: object, of: str = "strings") -> dict[str, str]:
    """An object of strings as read (`refs`, `gone`: sink name → reference; `labels`, a
    group's `by`). Any other shape is a corrupt record (TypeError, the store's
    `store_corrupt`), not an error deep in the pipeline when the field is read."""
    if type(value) is not dict or not all(type(v) is str for v in value.values()):
        raise TypeError(f"{name} is not an object of {of}")
    return value


def _strings(name: str, value: object) -> tuple[str, ...]:
    """A list of strings as read (`effects_by`, a pending effect's `done`, …); a string read
    as one would be taken letter by letter, so anything but a list is a TypeError."""
    if type(value) is not list or not all(type(v) is str for v in value):
        raise TypeError(f"{name} is not a list of strings")
    return tuple(value)


# --- The JSON type of each plain field, checked as a record is read ---------------------------
#
# A record is JSON a person can edit (`sqlite3`, the DynamoDB console): a field of the wrong type
# would be taken as it is and fail wherever it is used (a title of 5 stops `incidents list`).
# Exact types (`type(v) in …`): one set lookup a field, and `true` is no whole number. A field
# absent is left to its default; times, states and kinds are checked by what parses them.

_NONE = type(None)
_STR: tuple[type, ...] = (str,)
_OPTIONAL_STR: tuple[type, ...] = (str, _NONE)
_WHOLE: tuple[type, ...] = (int,)
_SECONDS: tuple[type, ...] = (int, float, _NONE)
_OBJECT: tuple[type, ...] = (dict, _NONE)
_LIST: tuple[type, ...] = (list,)

_INCIDENT_TYPES: Mapping[str, tuple[type, ...]] = {
    "fingerprint": _STR,
    "state": _STR,
    "source": _STR,
    "title": _STR,
    "occurrences": _WHOLE,
    "occurrences_at_update": _WHOLE,
    "reopens": _WHOLE,
    "flapping": (bool,),
    "seq": _WHOLE,
    "version": _WHOLE,
    "team": _OPTIONAL_STR,
    "route": _OPTIONAL_STR,
    "escalate_after_s": _SECONDS,
    "resolve_after_s": _SECONDS,
    "update_owed_at_s": _SECONDS,
    "priority_was": _OPTIONAL_STR,
    "priority_stated": _OPTIONAL_STR,
    "ticket": _OBJECT,
    "pending": _OBJECT,
    "group": _OBJECT,
    "held": _OBJECT,
    "escalation": _OBJECT,
    "history": _LIST,
}
_PENDING_TYPES: Mapping[str, tuple[type, ...]] = {
    "owner": _STR,
    "seq": _WHOLE,
    "delta": _WHOLE,
    "alert": _OPTIONAL_STR,
    "attempts": _WHOLE,
}
_HELD_TYPES: Mapping[str, tuple[type, ...]] = {"silence": _STR, "alert": _STR}
_ESCALATION_TYPES: Mapping[str, tuple[type, ...]] = {"owner": _STR}
_GROUP_TYPES: Mapping[str, tuple[type, ...]] = {
    "route": _STR,
    "members": (dict,),
    "untracked": _WHOLE,
    "window_s": (int, float),
    "untracked_times": (dict,),
    "untracked_bits": _STR,
}
_VIEW_TYPES: Mapping[str, tuple[type, ...]] = {
    "fingerprint": _STR,
    "source": _STR,
    "title": _STR,
    "team": _OPTIONAL_STR,
    "priority": _OPTIONAL_STR,
    "severity": _OPTIONAL_STR,
    "description": _STR,
    "runbook_url": _OPTIONAL_STR,
    "occurred_at": _STR,
    "payload_excerpt": _STR,
}
_SENT_TYPES: Mapping[str, tuple[type, ...]] = {
    "seq": _WHOLE,
    "alert": (dict,),
    "ticket": (dict,),
    "occurrences": _WHOLE,
    "occurrences_at_update": _WHOLE,
    "flapping": (bool,),
    "trace_id": _OPTIONAL_STR,
    "opened_at": _OPTIONAL_STR,
    "to": (dict,),
}

_SENT_TO_TYPES: Mapping[str, tuple[type, ...]] = {"route": (str,), "github": (dict,)}
_SENT_GITHUB_TYPES: Mapping[str, tuple[type, ...]] = {"repository": _OPTIONAL_STR}

_JSON_TYPES = {
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    _NONE: "null",
    list: "a list",
    dict: "an object",
}


def _check_types(
    where: str, data: Mapping[str, object], types: Mapping[str, tuple[type, ...]]
) -> None:
    """TypeError naming the first field of `data` (at `where`) whose JSON type is not one
    `types` allows it."""
    for name, allowed in types.items():
        if name in data and type(data[name]) not in allowed:
            expected = " or ".join(dict.fromkeys(_JSON_TYPES[t] for t in allowed))
            raise TypeError(f"{where}{name} is {_json_type(data[name])}, not {expected}")


def _json_type(value: object) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _refusals(value: object) -> dict[str, Refusal]:
    """`refused` as read: sink name → [effect kind, alert]. Any other shape is a corrupt
    record (TypeError or ValueError, the store's `store_corrupt`)."""
    if not isinstance(value, dict):
        raise TypeError("refused is not an object")
    refused = {}
    for sink, entry in value.items():
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], str)):
            raise TypeError("refused holds an entry that is not [effect, alert]")
        refused[sink] = Refusal(EffectKind(entry[0]), entry[1])
    return refused


def check_reader(data: Mapping[str, object], what: str) -> None:
    """Refuse a record (or a silence) that says it needs a newer release to be changed safely."""
    needed = data.get(MIN_READER, 1)
    if not isinstance(needed, int):
        raise TypeError(f"{MIN_READER} is {type(needed).__name__}, not a number")
    if needed > RECORD_FORMAT:
        raise StoreNewerError(
            f"{what} needs record format {needed} ({MIN_READER}), newer than this release "
            f"reads ({RECORD_FORMAT}): left as it is, for a replica of a newer release"
        )


# --- What this release does not know of a record ---------------------------------------------
#
# `Incident.unknown` holds the top-level fields it does not know as they were read, and under
# keys starting with NUL (no field name does) what it does not know inside the nested objects:
# a nested object's unknown fields with what identifies the object they came with, so they are
# written back while the incident holds that object and dropped with it.

_KNOWN = frozenset(_INCIDENT_FIELDS)
_GROUP_KEYS = frozenset(
    (
        "route",
        "by",
        "members",
        "untracked",
        "untracked_ids",
        "window_s",
        "untracked_times",
        "untracked_bits",
    )
)
_TICKET_FIELDS = frozenset(Ticket.model_fields)
_MEMBER_TAILS = "\0members"
_HISTORY_TAILS = "\0history"
#: What makes a nested object the one its unknown fields came with.
_SAME: dict[str, Callable[[Any], object]] = {
    "pending": lambda p: (p.kind, p.seq),
    "held": lambda h: (h.kind, h.since),
    "escalation": lambda e: e.owner,
    "ticket": lambda t: t,
    "group": lambda g: g.route,
}


class _Within(NamedTuple):
    """The unknown fields of a nested object, and what identifies that object."""

    same: object
    fields: dict[str, object]


def _split(
    name: str, value: dict[str, Any], known: frozenset[str], unknown: dict[str, object]
) -> dict[str, Any]:
    """`value` (a nested object's JSON) with its unknown fields moved into `unknown`."""
    extra = _unknown_of(value, known)
    if extra:
        unknown["\0" + name] = extra  # paired with the object by `_kept`
    return value


def _unknown_of(value: dict[str, Any], known: frozenset[str]) -> dict[str, object]:
    """The fields of `value` not in `known`, in their order (none, at the cost of a set
    difference, in the common case)."""
    if not value.keys() - known:
        return {}
    return {k: v for k, v in value.items() if k not in known}


def _kept(name: str, obj: T, unknown: dict[str, object]) -> T:
    """`obj`, its unknown fields (from `_split`) paired with what identifies it."""
    extra = unknown.get("\0" + name)
    if isinstance(extra, dict):
        unknown["\0" + name] = _Within(_SAME[name](obj), extra)
    return obj


def _kept_for(unknown: Mapping[str, object], name: str, obj: object) -> dict[str, object]:
    """The unknown fields to write with `obj`: none when it is not the object they came with."""
    within = unknown.get("\0" + name)
    if obj is None or not isinstance(within, _Within) or within.same != _SAME[name](obj):
        return {}
    return within.fields


def _ticket(value: dict[str, Any], unknown: dict[str, object]) -> Ticket:
    _split("ticket", value, _TICKET_FIELDS, unknown)
    ticket = Ticket.model_validate({k: v for k, v in value.items() if k in _TICKET_FIELDS})
    return _kept("ticket", ticket, unknown)


def _group(g: dict[str, Any], unknown: dict[str, object]) -> Group:
    _split("group", g, _GROUP_KEYS, unknown)
    _check_types("group.", g, _GROUP_TYPES)
    try:
        members = {fp: _member(*value) for fp, value in g["members"].items()}
    except (TypeError, ValueError):  # values after its five (or a member that does not read)
        members = _members_with_tails(g["members"], unknown)
    group = Group(
        route=g["route"],
        by=_references("group.by", g["by"]),
        members=members,
        untracked=g.get("untracked", 0),
        untracked_ids=frozenset(_strings("group.untracked_ids", g.get("untracked_ids", []))),
        window_s=g.get("window_s", 0.0),
        untracked_times=_untracked_times(g.get("untracked_times", {})),
        untracked_bits=_untracked_bits(g.get("untracked_bits", "")),
    )
    return _kept("group", group, unknown)


def _member(status: str, title: str, last: str, since: str, queued: str | None = None) -> Member:
    """A member from its four values, and the fifth this release writes when it knows it."""
    if type(title) is not str:
        raise TypeError(f"a group member's title is {_json_type(title)}, not a string")
    return Member(Status(status), title, _at(last), _at(since), _time(queued))


def _members_with_tails(raw: dict[str, list[Any]], unknown: dict[str, object]) -> dict[str, Member]:
    """The members, each one's values after its four kept in `unknown` with it when a newer
    release wrote more than the time its newest event was queued (the slow path: the common
    one unpacks four or five values per member and no more)."""
    members: dict[str, Member] = {}
    tails: dict[str, tuple[Member, list[Any]]] = {}
    for fp, (status, title, last, since, *rest) in raw.items():
        queued = rest[0] if rest and isinstance(rest[0], str) else None
        member = members[fp] = _member(status, title, last, since, queued)
        if rest != [queued]:
            tails[fp] = (member, rest)  # written back as read while the member is unchanged
    if tails:
        unknown[_MEMBER_TAILS] = tails
    return members


def _history(lines: list[list[Any]], unknown: dict[str, object]) -> tuple[Event, ...]:
    try:
        read = tuple(Event(_at(at), action, note) for at, action, note in lines)
    except ValueError:  # a line with values after its three (or one that does not read)
        pass
    else:
        return _texts_checked(read)
    events: list[Event] = []
    tails: dict[Event, list[Any]] = {}
    for at, action, note, *tail in lines:
        events.append(Event(_at(at), action, note))
        if tail:
            tails[events[-1]] = tail
    if tails:
        unknown[_HISTORY_TAILS] = tails
    return _texts_checked(tuple(events))


def _texts_checked(events: tuple[Event, ...]) -> tuple[Event, ...]:
    """`events`, once each line's action and note are known to be strings (TypeError else)."""
    for event in events:
        if type(event.action) is not str or type(event.note) is not str:
            raise TypeError("history holds a line whose action or note is not a string")
    return events


def _put_back(incident: Incident, data: dict[str, Any]) -> None:
    """Add to `data` (the incident's JSON, but its group) what this release did not know of
    the record it read, where it still applies; never over a field this release wrote."""
    unknown = incident.unknown
    for key, value in unknown.items():
        if not key.startswith("\0"):
            data.setdefault(key, value)
    for name in ("ticket", "pending", "held", "escalation"):
        kept = _kept_for(unknown, name, getattr(incident, name))
        if kept and isinstance(data.get(name), dict):
            data[name] = {**kept, **data[name]}
    tails = unknown.get(_HISTORY_TAILS)
    if isinstance(tails, dict):
        data["history"] = [
            [e.at.isoformat(), e.action, e.note, *tails.get(e, ())] for e in incident.history
        ]


def _at(text: str) -> datetime:
    """A stored time. One without its UTC offset (a hand edit, another tool's write) is
    damage, as a field of the wrong type is: compared with the aware times every other
    record holds, it would fail later wherever it is used (a listing, a sweep)."""
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError(f"time {text[:40]!r} has no UTC offset")
    return when


def _time(text: str | None) -> datetime | None:
    return _at(text) if text else None


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__}")


#: `[at,action,note]` of each history line, by identity: a line stays in an incident's next
#: writes, the same object, until it is one of the oldest. Bounded; cleared when full.
_EVENT_JSON: dict[int, tuple[Event, str]] = {}
_EVENT_JSON_MAX = 50_000


def _event_json(event: Event) -> str:
    kept = _EVENT_JSON.get(id(event))
    if kept is not None and kept[0] is event:
        return kept[1]
    at, action, note = event.at, event.action, event.note
    if type(at) is datetime and type(action) is str and type(note) is str:
        # What the encoder writes for these types, without it (a repeat's new count line):
        # the time's digits, signs, T and colons need no escaping.
        text = f'["{at.isoformat()}",{encode_basestring(action)},{encode_basestring(note)}]'
    else:
        text = _ENCODE([at.isoformat(), action, note])
    if len(_EVENT_JSON) >= _EVENT_JSON_MAX:
        _EVENT_JSON.clear()
    _EVENT_JSON[id(event)] = (event, text)
    return text


#: `json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False)`, with
#: one encoder for every call (`dumps` makes one per call) that does not look for cycles (an
#: incident holds none): the same text.
_ENCODE = json.JSONEncoder(
    default=_json_default, separators=(",", ":"), ensure_ascii=False, check_circular=False
).encode


#: How much of a held alert's text is kept: enough to write its ticket, small enough for a record.
HELD_DESCRIPTION_CHARS = 4000
HELD_EXCERPT_CHARS = 2000
#: How much of a held alert's labels past the 64 it shows is kept, in UTF-8 (keys and values):
#: a Kubernetes alert's few dozen `label_*` labels take a few KB; a hostile alert's 1,024 long
#: ones would take about 400 KB, more than a record holds (`store.MAX_RECORD_BYTES`).
HELD_PAST_CAP_BYTES = 64_000


def view_to_json(view: RedactedAlert) -> str:
    """A redacted alert as kept in the store (a held effect's alert); its group is not kept,
    the incident's own is shown when it is carried out. Its labels past the cap (the held
    view's: what the sweep matches silences by) are kept when it has any, up to
    HELD_PAST_CAP_BYTES, under a field an earlier release passes over."""
    data = _view_fields(view)
    data["description"] = view.description[:HELD_DESCRIPTION_CHARS]
    data["payload_excerpt"] = view.payload_excerpt[:HELD_EXCERPT_CHARS]
    if view.labels_past_cap:
        data["labels_past_cap"] = _within_bytes(view.labels_past_cap, HELD_PAST_CAP_BYTES)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


#: How much of a ticketed incident's labels past the 64 it shows is kept, in UTF-8 (keys and
#: values): read by silences matched without an alert (the sweep's owed update and
#: escalation). Less than a held view keeps (HELD_PAST_CAP_BYTES): the incident keeps them for
#: its whole life, beside a held view's own, a group's members and its history, within
#: `store.MAX_RECORD_BYTES`. A Kubernetes alert's few dozen `label_*` labels fit.
INCIDENT_PAST_CAP_BYTES = 16_000


def past_cap_kept(labels: Mapping[str, str]) -> dict[str, str]:
    """The labels past the cap a ticketed incident keeps (`Incident.labels_past_cap`): those
    of its redacted view, in order, within INCIDENT_PAST_CAP_BYTES. A label left out is one
    no silence can hold the sweep's update or escalation by (README, "Silences")."""
    return _within_bytes(labels, INCIDENT_PAST_CAP_BYTES)


def _within_bytes(labels: Mapping[str, str], budget: int) -> dict[str, str]:
    """`labels` in their order, each that still fits in `budget` bytes of UTF-8 (key and
    value): a long one left out leaves room for the shorter ones after it."""
    kept: dict[str, str] = {}
    for key, value in labels.items():
        size = len(key.encode()) + len(value.encode())
        if size <= budget:
            kept[key] = value
            budget -= size
    return kept


def _view_fields(view: RedactedAlert) -> dict[str, Any]:
    """A redacted alert's fields (but its group) as JSON values, whole."""
    return {
        "fingerprint": view.fingerprint,
        "source": view.source,
        "status": view.status.value,
        "title": view.title,
        "team": view.team,
        "priority": view.priority.value if view.priority else None,
        "severity": view.severity,
        "description": view.description,
        "runbook_url": view.runbook_url,
        "occurred_at": view.occurred_at.isoformat(),
        "links": dict(view.links),
        "labels": dict(view.labels),
        "payload_excerpt": view.payload_excerpt,
    }


def view_from_json(text: str, group: GroupView | None = None) -> RedactedAlert:
    """A held alert as `view_to_json` wrote it; TypeError (a field of the wrong JSON type),
    KeyError or ValueError when it does not read as one."""
    return _view_of(json.loads(text), group)


def _view_of(data: dict[str, Any], group: GroupView | None) -> RedactedAlert:
    if type(data) is not dict:
        raise TypeError(f"an alert is {_json_type(data)}, not an object")
    _check_types("alert.", data, _VIEW_TYPES)
    return RedactedAlert(
        fingerprint=data["fingerprint"],
        source=data["source"],
        status=Status(data["status"]),
        title=data["title"],
        team=data["team"],
        priority=Priority(data["priority"]) if data["priority"] else None,
        severity=data["severity"],
        description=data["description"],
        runbook_url=data["runbook_url"],
        occurred_at=_at(data["occurred_at"]),
        links=MappingProxyType(_references("alert.links", data["links"])),
        labels=MappingProxyType(_references("alert.labels", data["labels"])),
        payload_excerpt=data["payload_excerpt"],
        group=group,
        labels_past_cap=_past_cap_of(data),
    )


def _past_cap_of(data: Mapping[str, Any]) -> Mapping[str, str]:
    """A held view's labels past the cap, as read; none in a view an earlier release wrote,
    or any other view (a sent body's, a note's)."""
    past = data.get("labels_past_cap")
    if past is None:
        return MappingProxyType({})
    return MappingProxyType(_references("alert.labels_past_cap", past))


def sent_to_json(sent: Sent) -> str:
    """What an effect sends (`records.Sent`) as its record's body: the alert whole (not cut as
    a held one is: a redo sends every character the first attempt did), with its group."""
    alert = _view_fields(sent.alert)
    group = sent.alert.group
    if group is not None:
        members = [
            [m.fingerprint, m.title, m.status.value, m.since.isoformat()] for m in group.members
        ]
        alert["group"] = {"by": dict(group.by), "members": members, "untracked": group.untracked}
    data = {
        "seq": sent.seq,
        "alert": alert,
        "ticket": sent.ticket.model_dump(mode="json"),
        "occurrences": sent.occurrences,
        "occurrences_at_update": sent.occurrences_at_update,
        "flapping": sent.flapping,
        "trace_id": sent.trace_id,
    }
    if sent.opened_at is not None:
        data["opened_at"] = sent.opened_at.isoformat()
    if sent.to is not None:
        data["to"] = _sent_to_json(sent.to)
    return _ENCODE(data)


def _sent_to_json(to: SentTo) -> dict[str, Any]:
    """Where a sent body went (`SentTo`) as its record holds it: GitHub's target only when
    GitHub is one of its sinks. Written only when set, so a body without it is the one an
    older release wrote, byte for byte."""
    data: dict[str, Any] = {"route": to.route, "sinks": list(to.sinks)}
    if "github" in to.sinks:
        data["github"] = {
            "repository": to.github_repository,
            "labels": list(to.github_labels),
            "assignees": list(to.github_assignees),
        }
    return data


def _sent_to_of(data: Mapping[str, Any] | None) -> SentTo | None:
    """`_sent_to_json`'s object read back (None: a body an older release kept). A field of
    the wrong type makes the body unreadable (TypeError): the next freeze writes over it, and
    its redo is routed as before bodies said where they went. A newer release's fields are
    passed over."""
    if data is None:
        return None
    _check_types("to.", data, _SENT_TO_TYPES)
    github = data.get("github") or {}
    _check_types("to.github.", github, _SENT_GITHUB_TYPES)
    return SentTo(
        route=data["route"],
        sinks=_strings("to.sinks", data["sinks"]),
        github_repository=github.get("repository"),
        github_labels=_strings("to.github.labels", github.get("labels", [])),
        github_assignees=_strings("to.github.assignees", github.get("assignees", [])),
    )


def sent_from_json(text: str) -> Sent:
    """`sent_to_json`'s text read back, by the incident codec's rule for a newer release's
    record: a field this release does not know (at the top, in the alert, the ticket or the
    group) is passed over, and a `min_reader` beyond `RECORD_FORMAT` is refused
    (StoreNewerError). Nothing is written back from what is read (a redo sends the body, the
    next effect writes its own), so unknown fields need not be kept. Raises ValueError
    (KeyError, TypeError) when it does not read as one."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise TypeError(f"a sent record is {type(data).__name__}")
    check_reader(data, "sent record")
    _check_types("", data, _SENT_TYPES)
    alert = data["alert"]
    raw_group = alert.get("group")
    group = None
    if raw_group is not None:
        # A member's values after its four (a newer release's) are passed over too.
        members = tuple(
            MemberView(fp, title, Status(status), _at(since))
            for fp, title, status, since, *_ in raw_group["members"]
        )
        if not all(type(m.fingerprint) is str and type(m.title) is str for m in members):
            raise TypeError("alert.group holds a member whose fingerprint or title is no string")
        if type(raw_group["untracked"]) is not int:
            raise TypeError("alert.group.untracked is not a whole number")
        by = _references("alert.group.by", raw_group["by"])
        group = GroupView(MappingProxyType(by), members, raw_group["untracked"])
    return Sent(
        seq=int(data["seq"]),
        alert=_view_of(alert, group),
        ticket=Ticket.model_validate(
            {k: v for k, v in data["ticket"].items() if k in _TICKET_FIELDS}
        ),
        occurrences=int(data["occurrences"]),
        occurrences_at_update=int(data["occurrences_at_update"]),
        flapping=bool(data["flapping"]),
        trace_id=data["trace_id"],
        opened_at=_time(data.get("opened_at")),
        to=_sent_to_of(data.get("to")),
    )
