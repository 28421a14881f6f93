"""The webhook JSON a form carries in one of its fields, beside others.

Some tools post their JSON as one field of a form: Librato and AppOptics (the github-services
format), Slack- and Mattermost-style integrations (`payload`, beside `token` or `channel`),
Uptime Kuma's "form-data" (`data`). `carried_json` finds that field among a form's fields (a
urlencoded or multipart body, or a blank request's query string) and writes the JSON the
normaliser is to read: the field's JSON object, with every other field beside its keys, as a
form's fields are written (ingest/validate.py, `fields_json`), except

- a field the redactor blanks by its name (`token`, `api_key`, a `pass` holding a secret's
  shape, …: ingest/credentials.py, `sift`), which is dropped, its value never queued;
- a field the JSON already has, where the JSON's value stands.

Only the fields of `CARRIER_FIELDS` are looked in, and only a value that parses as JSON is
JSON: text that is not stays text, and the form is read by its fields. A form where more than
one such field holds JSON, or one holds an array beside other fields, carries no one JSON: the
finding says why (`Carried.problem`), for the answer when the form is no alert by its fields.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from triage.decode import load_json
from triage.errors import DecodeError
from triage.ingest.credentials import named_object_values, sift

#: Fields tools post their JSON in: `payload` (Librato, AppOptics, Papertrail, Slack,
#: Mattermost, GitHub and Travis CI form webhooks), `data` (Uptime Kuma's form-data).
CARRIER_FIELDS = frozenset({"payload", "data"})
_JSON_START = ("{", "[")
_LEADING = "\ufeff \t\r\n"
#: What JSON reads as space around a value.
_JSON_SPACE = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Carried:
    """The JSON one field of a form carries: `text` to read (None when the form carries no one
    JSON, `problem` saying why), the field's name, and whether nothing but credentials came
    beside it (`alone`), so that the form is that JSON and nothing else."""

    field: str
    text: str | None
    alone: bool
    problem: str | None = None
    #: The names of fields left out of `text`: values the redactor blanks once beside the
    #: JSON's members (`credentials.named_object_values`).
    dropped: tuple[str, ...] = ()


def carried_json(pairs: Sequence[tuple[str, str]]) -> Carried | None:
    """The JSON a form's fields carry in one field of `CARRIER_FIELDS` (any case), or None when
    none of them holds JSON; the fields the redactor blanks by name are dropped first (`sift`)."""
    return carried_among(sift(pairs).kept)


def carried_among(pairs: Sequence[tuple[str, str]]) -> Carried | None:
    """`carried_json` of fields already sifted (`credentials.sift`): none of them dropped."""
    found = [
        (i, parsed)
        for i, (name, value) in enumerate(pairs)
        if (parsed := _json_in(name, value)) is not None
    ]
    if not found:
        return None
    (index, parsed), *more = found
    field, value = pairs[index]
    others = [(name, text) for i, (name, text) in enumerate(pairs) if i != index]
    alone = not others
    if more:
        named = ", ".join(pairs[i][0] for i, _ in found[:2])
        if len(found) > 2:
            named += f" and {len(found) - 2:,} more"
        problem = f"more than one field holds JSON ({named}): send the alert's JSON in one"
        return Carried(field, None, alone, problem)
    if not isinstance(parsed, dict):
        if alone:  # the form is that JSON and nothing else, as a body of JSON would be
            return Carried(field, value, alone)
        problem = (
            f"the form's {field} field holds a JSON array, which cannot take the form's other "
            "fields beside it: post the array as the body, or a JSON object in the field"
        )
        return Carried(field, None, alone, problem)
    added = [(name, text) for name, text in others if name not in parsed]  # the JSON's stands
    # Once beside the JSON's members, a `value` may be a name/value object's, named by the JSON.
    secret = named_object_values({**dict(reversed(added)), **parsed}, added)
    kept = [pair for i, pair in enumerate(added) if i not in secret]
    dropped = tuple(dict.fromkeys(added[i][0] for i in sorted(secret)))
    return Carried(field, _with_fields(value, parsed, kept), alone, dropped=dropped)


def _json_in(name: str, value: str) -> dict[str, Any] | list[Any] | None:
    """The JSON object or array a field of `CARRIER_FIELDS` holds, else None."""
    if name.lower() not in CARRIER_FIELDS or not value.lstrip(_LEADING).startswith(_JSON_START):
        return None
    try:
        parsed = load_json(value, name)
    except DecodeError:
        return None  # text that is not JSON stays text
    return parsed if isinstance(parsed, dict | list) else None


def _with_fields(text: str, parsed: dict[str, Any], others: list[tuple[str, str]]) -> str:
    """The JSON object `text` (parsed: `parsed`) with the form's other fields (`others`, none
    of which it has) beside its members, a name sent twice as an array of its values."""
    added: dict[str, str | list[str]] = {}
    for name, value in others:
        given = added.get(name)
        if given is None:
            added[name] = value
        else:
            added[name] = [*given, value] if isinstance(given, list) else [given, value]
    if not added:
        return text
    # Appended inside the sender's closing brace, so its JSON stays as sent (numbers, key
    # order, escapes): '"name": "value"}' after its last member.
    members = json.dumps(added, ensure_ascii=False)[1:]
    before_brace = text.rstrip(_JSON_SPACE)[:-1]
    return before_brace + ("," if parsed else "") + members
