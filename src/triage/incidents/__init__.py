"""The incident protocol in one place: the lifecycle decision (`lifecycle`), the unit of work the
pipeline claims per alert (`ledger`), the one abstract `Store` (put together from `base`,
`records`, `claims`, `sweeping`, `shared`, `schedule` and `history`; see `store`'s docstring)
and its backends (SQLite, DynamoDB), how incidents are written (`codec`), groups (`groups`)
and which group a member fires in (`members`).

    pipeline ─► Ledger.claim(alert) ─► Store.begin: decide + claim the effect (one conditional
                   │                    write) ─► the pipeline carries the effect out ─►
                   │                    confirm per sink ─► finish (or release on failure)
                   └─ an effect a crashed worker abandoned is redone first, same idempotency key
"""

from __future__ import annotations

from datetime import timedelta

from triage.aws import Aws
from triage.errors import ConfigError
from triage.incidents.ledger import Claim, Ledger, Work
from triage.incidents.lifecycle import Action, Incident, Outcome, Policy, State
from triage.incidents.store import Store, Transition
from triage.settings import store_url

__all__ = [
    "Action",
    "Claim",
    "Incident",
    "Ledger",
    "Outcome",
    "Policy",
    "State",
    "Store",
    "Transition",
    "Work",
    "open_store",
]


async def open_store(
    url: str, policy: Policy, lease: timedelta, closed_ttl: timedelta, aws: Aws | None = None
) -> Store:
    """Open the store `TRIAGE_STORE_URL` names: `sqlite:///PATH` or `dynamodb://TABLE`, the
    scheme in any case. The URL is read by the settings' own rule (`settings.store_url`), and no
    error repeats it: a URL of another database carries its password."""
    try:
        scheme, _, rest = store_url(url).partition(":")
    except ValueError as exc:
        raise ConfigError(f"TRIAGE_STORE_URL {exc}") from None
    if scheme == "sqlite":
        from triage.incidents.sqlite import SQLiteStore

        store = SQLiteStore(rest.removeprefix("///"), policy, lease, closed_ttl)
        await store.open()
        return store
    from triage.incidents.dynamodb import DynamoDBStore

    if aws is None:
        raise ConfigError("TRIAGE_STORE_URL dynamodb:// needs AWS clients")
    table = rest.removeprefix("//").removesuffix("/")
    dynamodb = DynamoDBStore(await aws.client("dynamodb"), table, policy, lease, closed_ttl)
    await dynamodb.open()
    return dynamodb
