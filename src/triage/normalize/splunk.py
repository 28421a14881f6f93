"""Splunk's webhook alert action: the saved search that triggered, a link to its results and
their first row, pointed at the gateway's generic path.

Identity: the app, the search's owner (`owner`) when it is sent, and the saved search's name,
as Splunk itself knows a saved search by owner, app and name: two owners' private searches of
one name in one app are two incidents. A body without an owner (a template that leaves it out)
is keyed by app and name alone, as it was before the owner was read. A search without a name
(Splunk sends null for some) is named by its search id without the run's "_at_<time>_<n>"
suffix, which every run of one scheduled search shares (a real-time search's ends
"_at_<time>_<n>.<m>"); never by the whole sid, which each run has its own. The result row's
`host` keys a row of a search triggered "For each result" too (`_per_result`: Splunk links
such a row as "|loadjob <sid> | head <n> | tail 1"): it sends one webhook per row, and its rows
about two hosts are two problems (Splunk's own throttle for such a search suppresses by a
field's value, most often host); the same host's row in the next run is the same incident, and
a row that names no host is keyed by its search as before. A digest ("Once") search sends its
first row, which is whichever row came first: it never keys the incident. No other field of a
row keys it: a count, a time or a message changes with every run. Splunk sends
nothing when a search stops matching, so the alert only fires: its incident counts the runs
that match and stays open until an operator closes it (`triage incidents close`), as an SNS
text alert's does. A body without `results_link` (a real-time search's) is read all the same.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized

SOURCE = "splunk"
#: What a scheduled search's id adds for each run: "scheduler_admin_search_W2_at_14232356_132",
#: a real-time one's "rt_scheduler__admin__search__sudo_at_1483557185_2.2".
_RUN = re.compile(r"_at_\d+_\d+(?:\.\d+)*$")
#: The search a per-result row's link runs: the run's results, their n-th row.
_ONE_ROW = re.compile(r"\|\s*loadjob\s+\S{1,300}\s*\|\s*head\s+\d{1,9}\s*\|\s*tail\s+1\b")
#: The first result row is shown, a field a line, up to this many fields.
_ROW_FIELDS = 30


def matches(payload: dict[str, Any]) -> bool:
    """The alert action's payload: `sid` and `result`, with the `search_name` or the
    `results_link` (either may be missing: a real-time search's body has no link)."""
    keys = payload.keys()
    return {"sid", "result"} <= keys and ("search_name" in keys or "results_link" in keys)


def normalize(payload: dict[str, Any]) -> Normalized:
    app = common.ident_or_none(payload.get("app"), "app") or ""
    name = common.line(common.unnested(payload.get("search_name")), "search_name")
    search = common.ident_or_none(payload.get("search_name"), "search_name") if name else None
    if not search:
        sid = common.ident_or_none(payload.get("sid"), "sid")
        search = _RUN.sub("", sid) if sid else None
    if not search:
        raise InvalidAlertError(
            "splunk search_name and sid are missing: the alert cannot be identified"
        )
    owner = common.ident_or_none(payload.get("owner"), "owner")
    row = common.obj_or_empty(payload.get("result"))
    host = _row_host(row) if _per_result(payload.get("results_link")) else None
    labels = common.Labels()
    for key, value in (
        ("app", app), ("owner", payload.get("owner")), ("search", search), ("host", host),
    ):  # fmt: skip
        common.add_label(labels, key, common.unnested(value))
    named = common.first_title(name, f"Splunk search {search}")
    alert = Alert(
        source=SOURCE,
        status=Status.FIRING,
        title=common.title(f"{named} on {host}") if host else named,
        description=_row(row),
        links=common.links(source=common.url(payload.get("results_link"), "results_link")),
        labels=labels,
        occurred_at=common.now(),
        identity=_identity(app, owner, search) | ({"host": host} if host else {}),
        raw=payload,
    )
    return Normalized((alert,), ())


def _per_result(link: Any) -> bool:
    """Whether the body is one row of a search triggered "For each result": Splunk links such
    a row as the search "|loadjob <sid> | head <n> | tail 1" (the run's n-th row), a digest's
    results as ".../@go?sid=<sid>". A link of neither form, or none, is a digest's."""
    if not isinstance(link, str):
        return False
    query = urllib.parse.unquote_plus(link[: common.URL_MAX])
    return _ONE_ROW.search(query) is not None


def _row_host(row: dict[str, Any]) -> str | None:
    """The row's `host`, Splunk's default field for the machine an event came from and the
    field a per-result search is most often split and throttled by; None when it names none."""
    return common.ident_or_none(common.unnested(row.get("host")), "result.host")


def _identity(app: str, owner: str | None, search: str) -> dict[str, str]:
    """The app, the owner and the search: the owner only when sent, so a body without one keeps
    the key (and the fingerprint) it had before owners were told apart."""
    if owner:
        return {"app": app, "owner": owner, "search": search}
    return {"app": app, "search": search}


def _row(row: dict[str, Any]) -> str:
    """The first result row, "field: value" a line."""
    lines = [f"{key}: {common.shown(value)}" for key, value in list(row.items())[:_ROW_FIELDS]]
    if not lines:
        return ""
    shown = "\n".join(["First result:", *lines])
    return common.text(shown, "description", common.DESCRIPTION_MAX) or ""
