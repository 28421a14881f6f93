"""The query string of a request to the gateway, read as an alert's fields.

Some senders put an alert's fields in the URL: UptimeRobot's "query string" webhooks, by GET
or by a POST without a body, and other uptime checkers alike. The gateway reads those fields
when the request's body is blank (`ingest/validate.py`), and never on Sentry's path or
Alertmanager's API path; a body is never merged with them (ingest/shape.py counts those left
unread for the `ingest.accepted` line).

A `token` parameter (any case, however spelt around: `ingest.credentials.credential_field`), or
any other whose name says it holds a credential (`api_key`, `password`, …), is never a field: a
sender that cannot set a header may have put the source's token there. It is dropped: its value
is never queued, answered or logged (its name is: `Query.dropped`). Nor is it a credential: a
URL's query is written to every proxy's access log (a load balancer's included), a browser's
history and `Referer` headers, where a header is not. A sender that can set only a URL presents
the token as the URL's user info (`https://triage:<token>@host/…`), which HTTP clients send as
an `Authorization: Basic` header.

The query is read before the request is authenticated, so only names are asked here; a field
whose value's shape under its name says secret (`pass=<random>`) is dropped once it is
(ingest/credentials.py, `sift`, as for any form), and so is a field whose value is one of the
gateway's own tokens (`without_token_values`).

Parameters are read as an HTML form's are (`+` is a space; percent-escapes are UTF-8, checked
once the request is authenticated); more than `MAX_PARAMETERS` is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl

from triage.ingest.credentials import credential_field

#: Parameters one query string may hold: a webhook sends ten or so.
MAX_PARAMETERS = 1_000


class BadQuery(Exception):
    """A query string the gateway does not read (answered 400); the text says why."""


@dataclass(frozen=True, slots=True)
class Query:
    """A query string, parsed: every parameter but a credential, in order (names and values
    as text; a percent-escape that is no UTF-8 stays a surrogate escape), and whether one (a
    `token`, say) was given. `dropped` names those, in order, for the answer; two queries
    are equal when they hold the same fields."""

    fields: tuple[tuple[str, str], ...] = ()
    token_given: bool = False
    dropped: tuple[str, ...] = field(default=(), compare=False)


def read_query(raw: str) -> Query:
    """`raw` (a URL's query, still percent-encoded) as its fields; BadQuery for more than
    `MAX_PARAMETERS` parameters."""
    try:
        pairs = parse_qsl(
            raw,
            keep_blank_values=True,
            encoding="utf-8",
            errors="surrogateescape",
            max_num_fields=MAX_PARAMETERS,
        )
    except ValueError:
        raise BadQuery(f"the query string has more than {MAX_PARAMETERS:,} parameters") from None
    fields = tuple((name, value) for name, value in pairs if not credential_field(name))
    dropped = tuple(dict.fromkeys(name for name, _ in pairs if credential_field(name)))
    return Query(fields, token_given=bool(dropped), dropped=dropped)


def without_token_values(query: Query, tokens: Iterable[str]) -> Query:
    """`query` without every field whose value is one of the gateway's `tokens` (whitespace
    around it too): a sender that can set only a URL may write its token twice, as the URL's
    user info and as `?key=`, and a name that says no secret keeps it from `credential_field`.
    Its name is dropped as any credential's is; a token inside more text is blanked in what is
    queued instead (`credentials.without_tokens`). Asked once the request is authenticated."""
    held = frozenset(tokens)
    if not held:
        return query
    dropped = [name for name, value in query.fields if value.strip() in held]
    if not dropped:
        return query
    fields = tuple((name, value) for name, value in query.fields if value.strip() not in held)
    names = tuple(dict.fromkeys([*query.dropped, *dropped]))
    return replace(query, fields=fields, dropped=names)
