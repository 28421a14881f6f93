"""Incidents as JSON text, the same for every store backend (a record's `body`)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from types import MappingProxyType

from triage.incidents.lifecycle import (
    Escalation,
    Event,
    Group,
    Held,
    Incident,
    Member,
    Pending,
    State,
)
from triage.models import EffectKind, Priority, Status, Ticket
from triage.view import GroupView, RedactedAlert

_INCIDENT_FIELDS = tuple(f.name for f in dataclasses.fields(Incident))
_PENDING_FIELDS = tuple(f.name for f in dataclasses.fields(Pending))
_HELD_FIELDS = tuple(f.name for f in dataclasses.fields(Held))
_ESCALATION_FIELDS = tuple(f.name for f in dataclasses.fields(Escalation))
#: The incident's own times (top level), kept as ISO 8601 text.
_INCIDENT_TIMES = (
    "opened_at",
    "last_event_at",
    "closed_at",
    "last_update_at",
    "applied_at",
    "reopened_at",
    "quiet_until",
)
#: Fields written only when set (not None, not empty). A release before them fails to read a
#: record that has one, so while replicas of two releases share the store (a rolling deploy),
#: only the records that use them (a flapping incident's held close, counted repeats) are
#: unreadable to the older ones, not every record the newer ones write.
_WRITTEN_WHEN_SET = ("quiet_until", "counted_by")


def incident_to_json(incident: Incident) -> str:
    """Compact JSON of every field of the incident."""
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
    data["ticket"] = incident.ticket.model_dump(mode="json") if incident.ticket else None
    pending = incident.pending
    if pending is not None:
        data["pending"] = {name: getattr(pending, name) for name in _PENDING_FIELDS}
    # A group is written last, by hand: each member's JSON is kept between writes.
    group = incident.group
    if group is not None:
        del data["group"]
    data["history"] = [[e.at.isoformat(), e.action, e.note] for e in incident.history]
    if incident.held is not None:
        data["held"] = {name: getattr(incident.held, name) for name in _HELD_FIELDS}
    if incident.escalation is not None:
        escalation = incident.escalation
        data["escalation"] = {name: getattr(escalation, name) for name in _ESCALATION_FIELDS}
    text = json.dumps(data, default=_json_default, separators=(",", ":"), ensure_ascii=False)
    return text if group is None else text[:-1] + ',"group":' + _group_json(group) + "}"


def _group_json(group: Group) -> str:
    def dump(value: object) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    members = ",".join(_member_json(fp, m) for fp, m in group.members.items())
    return (
        f'{{"route":{dump(group.route)},"by":{dump(group.by)},"members":{{{members}}},'
        f'"untracked":{dump(group.untracked)},"untracked_ids":{dump(sorted(group.untracked_ids))},'
        f'"window_s":{dump(group.window_s)}}}'
    )


#: `"fingerprint":[status,title,last,since]` of each member object, by identity. A group is one
#: record rewritten on every member event and a member that did not change is the same object
#: in the next write, so each is encoded once (re-encoding all made a message of n members
#: cost O(n^2): 20 ms a join at 1,000 members). Bounded; cleared when full.
_MEMBER_JSON: dict[int, tuple[Member, str, str]] = {}
_MEMBER_JSON_MAX = 50_000


def _member_json(fp: str, member: Member) -> str:
    kept = _MEMBER_JSON.get(id(member))
    if kept is not None and kept[0] is member and kept[1] == fp:
        return kept[2]
    value = [member.status.value, member.title, member.last_event_at, member.since]
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
    """The incident `incident_to_json` wrote (records written before a field existed get its default)."""
    data = json.loads(text)
    for key in _INCIDENT_TIMES:
        if data.get(key) is not None:
            data[key] = datetime.fromisoformat(data[key])
    data["state"] = State(data["state"])
    data["ticket"] = Ticket.model_validate(data["ticket"]) if data.get("ticket") else None
    if data.get("pending"):
        p = data["pending"]
        data["pending"] = Pending(
            kind=EffectKind(p["kind"]),
            owner=p["owner"],
            until=datetime.fromisoformat(p["until"]),
            seq=p["seq"],
            delta=p.get("delta", 0),
            done=tuple(p["done"]),
            not_before=_time(p.get("not_before")),
            alert=p.get("alert"),
            attempts=p.get("attempts", 0),
            retry_at=_time(p.get("retry_at")),
        )
    if data.get("group"):
        g = data["group"]
        data["group"] = Group(
            route=g["route"],
            by=g["by"],
            members={
                fp: Member(Status(status), title, _at(last), _at(since))
                for fp, (status, title, last, since) in g["members"].items()
            },
            untracked=g.get("untracked", 0),
            untracked_ids=frozenset(g.get("untracked_ids", ())),
            window_s=g.get("window_s", 0.0),
        )
    data["history"] = tuple(Event(_at(at), a, n) for at, a, n in data.get("history", ()))
    data["effects_by"] = tuple(data.get("effects_by", ()))
    data["counted_by"] = tuple(data.get("counted_by", ()))
    if data.get("held"):
        h = data["held"]
        data["held"] = Held(
            EffectKind(h["kind"]), h["silence"], h["alert"], _at(h["since"]), _at(h["until"])
        )
    if data.get("escalation"):
        e = data["escalation"]
        data["escalation"] = Escalation(
            e["owner"], _at(e["until"]), _time(e.get("done_at")), tuple(e.get("sent", ()))
        )
    return Incident(**data)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__}")


#: How much of a held alert's text is kept: enough to write its ticket, small enough for a record.
HELD_DESCRIPTION_CHARS = 4000
HELD_EXCERPT_CHARS = 2000


def view_to_json(view: RedactedAlert) -> str:
    """A redacted alert as kept in the store (a held effect's alert); its group is not kept,
    the incident's own is shown when it is carried out."""
    data = {
        "fingerprint": view.fingerprint,
        "source": view.source,
        "status": view.status.value,
        "title": view.title,
        "team": view.team,
        "priority": view.priority.value if view.priority else None,
        "severity": view.severity,
        "description": view.description[:HELD_DESCRIPTION_CHARS],
        "runbook_url": view.runbook_url,
        "occurred_at": view.occurred_at.isoformat(),
        "links": dict(view.links),
        "labels": dict(view.labels),
        "payload_excerpt": view.payload_excerpt[:HELD_EXCERPT_CHARS],
    }
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def view_from_json(text: str, group: GroupView | None = None) -> RedactedAlert:
    data = json.loads(text)
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
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        links=MappingProxyType(data["links"]),
        labels=MappingProxyType(data["labels"]),
        payload_excerpt=data["payload_excerpt"],
        group=group,
    )
