"""Records in a DynamoDB table, shared by every replica (`TRIAGE_STORE_URL=dynamodb://TABLE`).

One item per record: `fingerprint` (the partition key: an incident's fingerprint, or
`<kind>#<key>` for other kinds), `kind` (absent on incidents, as before other kinds existed),
`version`, `body` (the record as JSON) and `expires_at` (epoch seconds, the table's TTL
attribute: set on closed incidents and on budgets). Every write is conditional on the version
read, so replicas racing on one record agree.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from triage.errors import StoreBusyError, StoreUnavailableError
from triage.lifecycle import Policy
from triage.store import INCIDENT, R, Record, RecordChange, VersionedStore

#: Error codes that mean "slow down" or "try again", not "your request is wrong".
_TRANSIENT_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
}


class DynamoDBStore(VersionedStore):
    #: Lost races retried inside one call before the message is retried later instead.
    MAX_CONFLICTS = 25

    def __init__(
        self, client: Any, table: str, policy: Policy, lease: timedelta, closed_ttl: timedelta
    ) -> None:
        super().__init__(policy, lease, closed_ttl)
        self._ddb = client
        self.table = table

    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        for attempt in range(self.MAX_CONFLICTS):
            stored = await self._get(kind, key)
            write, result = change(stored)
            if write is None:
                return result
            if await self._put_if(write, stored.version if stored else None):
                return result
            # Another replica wrote first: spread the racers out a little before reading again.
            await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
        raise StoreBusyError(f"{kind} {key} kept changing under us", retry_after_s=1.0)

    async def _get(self, kind: str, key: str) -> Record | None:
        try:
            response = await self._ddb.get_item(
                TableName=self.table,
                Key={"fingerprint": {"S": _item_key(kind, key)}},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable("get_item", exc) from exc
        item = response.get("Item")
        if not item:
            return None
        expires = item.get("expires_at")
        return Record(
            key,
            kind,
            int(item["version"]["N"]),
            item["body"]["S"],
            float(expires["N"]) if expires else None,
        )

    async def _put_if(self, record: Record, expected_version: int | None) -> bool:
        item: dict[str, Any] = {
            "fingerprint": {"S": _item_key(record.kind, record.key)},
            "version": {"N": str(record.version)},
            "body": {"S": record.body},
        }
        if record.kind != INCIDENT:
            item["kind"] = {"S": record.kind}
        if record.expires_at is not None:
            item["expires_at"] = {"N": str(int(record.expires_at))}
        if expected_version is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(fingerprint)"}
        else:
            condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
            }
        try:
            await self._ddb.put_item(TableName=self.table, Item=item, **condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise _unavailable("put_item", exc) from exc
        except BotoCoreError as exc:
            raise _unavailable("put_item", exc) from exc
        return True

    async def ping(self) -> None:
        try:
            await self._ddb.describe_table(TableName=self.table)
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable("describe_table", exc) from exc

    async def aclose(self) -> None:
        """The client belongs to the process's AWS session, which closes it."""


def _item_key(kind: str, key: str) -> str:
    """Incidents are keyed by their fingerprint alone (a hex digest, so never holding `#`)."""
    return key if kind == INCIDENT else f"{kind}#{key}"


def _unavailable(call: str, exc: Exception) -> StoreUnavailableError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "?")
        kind = "throttled" if code in _TRANSIENT_CODES else "failed"
        return StoreUnavailableError(f"dynamodb {call} {kind}: {code}: {error.get('Message', '')}")
    return StoreUnavailableError(f"dynamodb {call} failed: {exc}")


async def create_table(client: Any, table: str) -> None:
    """Create the incidents table with its TTL attribute (dev stacks, tests, `triage demo`)."""
    await client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "fingerprint", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "fingerprint", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    await client.get_waiter("table_exists").wait(TableName=table)
    await client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
