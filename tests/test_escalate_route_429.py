"""Which route escalates a stored incident: a single incident's is the route called by its name,
a group's the grouping route keyed by its group's key. A `group_key` equal to another route's
name must not make either kind be looked up as the other (and never escalated)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hostile_server import answer, hostile
from triage.incidents.lifecycle import Group, Incident, State
from triage.ops.escalate import Escalator
from triage.routes import load_router
from triage.settings import Settings

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOOK_PATH = "/services/T01/B02/R0ut3N4m3Cl4sh"

#: A plain escalating route, and a grouping route keyed by that route's name.
PLAIN_NAME_IS_A_GROUP_KEY = """
[[route]]
name = "payments"
sinks = ["backend"]
escalate_after_s = 1800
[route.match]
team = ["payments"]
[route.escalate]
slack_webhook_url = "{hook}"

[[route]]
name = "crash-loops"
sinks = ["backend"]
group_by = ["alertname"]
group_key = "payments"
[route.match]
source = ["alertmanager"]
"""

#: An escalating grouping route, and another grouping route keyed by the first one's name.
GROUP_NAME_IS_ANOTHER_GROUP_KEY = """
[[route]]
name = "payments"
sinks = ["backend"]
group_by = ["alertname"]
group_key = "payments-groups"
escalate_after_s = 1800
[route.match]
team = ["payments"]
[route.escalate]
slack_webhook_url = "{hook}"

[[route]]
name = "crash-loops"
sinks = ["backend"]
group_by = ["alertname"]
group_key = "payments"
[route.match]
source = ["alertmanager"]
"""


def escalator(tmp_path: Path, routes_text: str) -> Escalator:
    routes = tmp_path / "routes.toml"
    routes.write_text(routes_text)
    settings = Settings(routes_file=routes)
    return Escalator(settings, load_router(settings))


def incident(group: Group | None = None) -> Incident:
    return Incident(
        fingerprint="f" * 32,
        state=State.OPEN,
        source="generic",
        title="api-5xx is failing",
        opened_at=T0,
        last_event_at=T0,
        occurrences=3,
        route="payments",
        escalate_after_s=1800,
        group=group,
    )


async def posts_of_one_escalation(tmp_path: Path, routes_text: str, stored: Incident) -> int:
    """Escalate `stored` once under `routes_text` (its webhook on loopback): the posts made."""
    async with hostile(answer(200, body=b"ok")) as server:
        e = escalator(tmp_path, routes_text.format(hook=f"{server.url}{HOOK_PATH}"))
        try:
            await e.escalate(stored, T0 + timedelta(minutes=31))
        finally:
            await e.aclose()
        return len(server.requests)


async def test_a_single_incident_escalates_by_its_route_not_a_group_keyed_by_its_name(
    tmp_path: Path,
) -> None:
    """A single incident of route `payments` is escalated by that route even when a grouping
    route's `group_key` is `payments`: it is no group, so it is not looked up as one."""
    assert await posts_of_one_escalation(tmp_path, PLAIN_NAME_IS_A_GROUP_KEY, incident()) == 1


async def test_a_group_escalates_by_its_group_key_not_a_group_keyed_by_its_route_name(
    tmp_path: Path,
) -> None:
    """A group of route `payments` (keyed `payments-groups`) is escalated by that route even
    when another grouping route's `group_key` is `payments`: a group is found by its key."""
    group = Group(route="payments-groups", by={"alertname": "ApiErrors"})
    text = GROUP_NAME_IS_ANOTHER_GROUP_KEY
    assert await posts_of_one_escalation(tmp_path, text, incident(group)) == 1
