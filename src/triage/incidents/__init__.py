"""The incident protocol in one place: the lifecycle decision (`lifecycle`), the unit of work the
pipeline claims per alert (`ledger`), the one abstract `Store` and its backends (SQLite,
DynamoDB), how incidents are written (`codec`), groups (`groups`) and which group a member
fires in (`members`).

    pipeline ─► Ledger.claim(alert) ─► Store.begin: decide + claim the effect (one conditional
                   │                    write) ─► the pipeline carries the effect out ─►
                   │                    confirm per sink ─► finish (or release on failure)
                   └─ an effect a crashed worker abandoned is redone first, same idempotency key
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

from triage.aws import Aws
from triage.errors import ConfigError
from triage.incidents.ledger import Claim, Ledger, Work
from triage.incidents.lifecycle import Action, Incident, Outcome, Policy, State
from triage.incidents.store import Store, Transition

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
    """Open the store `TRIAGE_STORE_URL` names: `sqlite:///PATH` or `dynamodb://TABLE`."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else parsed.path
        if not path:
            raise ConfigError(f"TRIAGE_STORE_URL {url!r}: expected sqlite:///PATH")
        from triage.incidents.sqlite import SQLiteStore

        store = SQLiteStore(path, policy, lease, closed_ttl)
        await store.open()
        return store
    if parsed.scheme == "dynamodb":
        from triage.incidents.dynamodb import DynamoDBStore

        if not parsed.netloc:
            raise ConfigError(f"TRIAGE_STORE_URL {url!r}: expected dynamodb://TABLE")
        if aws is None:
            raise ConfigError("TRIAGE_STORE_URL dynamodb:// needs AWS clients")
        table = DynamoDBStore(
            await aws.client("dynamodb"), parsed.netloc, policy, lease, closed_ttl
        )
        await table.open()
        return table
    raise ConfigError(
        f"TRIAGE_STORE_URL {url!r}: unsupported scheme {parsed.scheme!r} (sqlite, dynamodb)"
    )
