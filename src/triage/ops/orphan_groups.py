"""Open groups whose grouping route the routes file no longer has (`triage check`): a group is
keyed by its route's `group_key`, else its name, so a grouping route renamed without keeping its
old name as `group_key` leaves its open groups to another route's sinks (`Router.named`), and
its new alerts open new groups."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

from triage.incidents.lifecycle import Incident, State
from triage.normalize.common import cut
from triage.routes import Router

#: Route keys named a line each; the rest are counted in one line.
MAX_ORPHAN_ROUTES = 10
#: How much of a stored route key a line shows: a route's name or group_key is at most 200
#: characters (routes.py), so only a key the routes file could never have written is cut.
_KEY_CHARS = 200


def open_group_keys(incidents: Iterable[Incident]) -> Counter[str]:
    """How many open groups each stored route key (`Group.route`) has."""
    return Counter(
        i.group.route for i in incidents if i.group is not None and i.state is State.OPEN
    )


def orphan_group_warnings(router: Router, open_groups: Counter[str]) -> list[str]:
    """One line per route key of `open_groups` that no grouping route keys its groups by now
    (most groups first), saying where their effects go and what to set; past
    `MAX_ORPHAN_ROUTES` keys, one line counts the rest."""
    keyed = {rule.route.grouping_name for rule in router.rules if rule.route.group_by}
    orphans = sorted(
        ((key, n) for key, n in open_groups.items() if key not in keyed),
        key=lambda kept: (-kept[1], kept[0]),
    )
    lines = [_warning(router, key, n) for key, n in orphans[:MAX_ORPHAN_ROUTES]]
    rest = orphans[MAX_ORPHAN_ROUTES:]
    if rest:
        groups = sum(n for _, n in rest)
        lines.append(
            f"and {len(rest)} more routes the routes file no longer groups by, with "
            f"{_groups(groups)} (`triage incidents list` shows them)"
        )
    return lines


def _warning(router: Router, key: str, count: int) -> str:
    """What becomes of `count` open groups keyed `key`, which no grouping route keys by."""
    route = router.named(key)
    head = f"{_groups(count)} of route '{_shown(key)}'"
    set_key = f"set group_key = {_toml(key)} on it"
    if route is router.default:
        return (
            f"{head}, which the routes file no longer has: their updates and closes go to the "
            "default route's sinks and new alerts open new groups; if the route was renamed, "
            f"{set_key}"
        )
    if not route.group_by:
        return (
            f"{head}, which no longer groups (no group_by): their updates and closes go to "
            "its sinks, but its new alerts open incidents of their own; give it back its "
            "group_by to keep grouping them"
        )
    return (
        f"{head}, which keys its groups by group_key '{_shown(route.grouping_name)}' now: "
        "their updates and closes go to its sinks, but its new alerts open new groups; "
        f"if that is not meant, {set_key}"
    )


def _groups(count: int) -> str:
    return f"{count} open group{'' if count == 1 else 's'}"


def _shown(key: str) -> str:
    return cut(key, _KEY_CHARS, ellipsis=True)


def _toml(key: str) -> str:
    """`key` as a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(_shown(key), ensure_ascii=False)
