"""A replica whose clock never stepped finds an effect a dead replica claimed while its clock
was ahead: the sweep index dates that claim by the dead replica's clock, so besides the
incidents due, each pass reads the index's far end (entries dated further ahead than a live
claim's can be: a lease and CLAIM_CLOCK_SLACK) and looks at those whose time it has not seen
yet. Every store reads that far end from its index alone: in memory, SQLite, DynamoDB (moto)."""

from __future__ import annotations

from datetime import timedelta

from factories import T0, alert
from moto_speed import loopback_aws_client
from test_cloudwatch_contributors_close import store as store  # the store per backend
from test_lease_clock_sweep import HOUR, daemon
from test_pipeline import LEASE, POLICY
from triage.incidents import Store
from triage.incidents.dynamodb import DynamoDBStore
from triage.incidents.schedule import CLAIM_CLOCK_SLACK, dated_ahead_after
from triage.models import EffectKind

DEAD = "m1#0@dead"


async def test_the_sweep_redoes_an_open_a_dead_replica_claimed_an_hour_ahead() -> None:
    """This replica's clock never stepped: a dead replica, its clock an hour ahead, claimed an
    OPEN (the index has it due an hour from now). The next pass sends it."""
    d = daemon()
    d.sink.gate.set()
    await d.sweep.once()  # not the first pass: that one reads every incident anyway
    await d.store.begin(alert(), DEAD, T0 + HOUR)
    d.clock.now = T0 + timedelta(seconds=5)
    await d.sweep.once()
    assert [effect.kind for effect in d.sink.effects] == [EffectKind.OPEN]
    [incident] = await d.store.incidents()
    assert incident.pending is None and incident.refs == {"backend": "T-1"}


async def test_a_claim_a_little_ahead_waits_and_is_looked_at_once() -> None:
    """A dead replica's clock a little less than CLAIM_CLOCK_SLACK ahead: its claim is live by
    the rules (not taken over), and the passes that follow do not read it again while its
    index time stays as it was."""
    d = daemon()
    d.sink.gate.set()
    await d.sweep.once()
    ahead = T0 + CLAIM_CLOCK_SLACK - timedelta(seconds=1)
    [key] = [(await d.store.begin(alert(), DEAD, ahead)).fingerprint]
    reads: list[str] = []
    get = d.store.get

    async def counted(fingerprint: str) -> object:
        reads.append(fingerprint)
        return await get(fingerprint)

    d.store.get = counted  # type: ignore[method-assign,assignment]
    for seconds in (1, 2, 3):
        d.clock.now = T0 + timedelta(seconds=seconds)
        await d.sweep.once()
    assert d.sink.effects == []
    assert reads.count(key) <= 1


async def test_every_store_reads_the_far_end_of_its_index(store: Store) -> None:
    """`dated_after` names, with its index time, the incident whose claim a clock an hour
    ahead made, and not one claimed now (due within a lease and the sweep's grace)."""
    ahead = await store.begin(alert("ahead"), DEAD, T0 + HOUR)
    await store.begin(alert("now"), "m2#0@live", T0)
    far = dated_ahead_after(T0, LEASE)
    found = await store.dated_after(far)
    assert [key for key, _ in found] == [ahead.fingerprint]
    assert found[0][1] > far.timestamp()


async def test_a_table_without_the_sweep_index_reads_its_far_end_by_scan(moto_url: str) -> None:
    """A DynamoDB table made before the sweep index existed finds the claim dated an hour
    ahead by a scan (as it finds the due incidents), after its one warning."""
    async with loopback_aws_client("dynamodb", moto_url) as client:
        await client.create_table(
            TableName="old",
            KeySchema=[{"AttributeName": "fingerprint", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "fingerprint", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        old = DynamoDBStore(client, "old", POLICY, LEASE, timedelta(days=30))
        ahead = await old.begin(alert("ahead"), DEAD, T0 + HOUR)
        await old.begin(alert("now"), "m2#0@live", T0)
        found = await old.dated_after(dated_ahead_after(T0, LEASE))
        assert [key for key, _ in found] == [ahead.fingerprint]
        assert not old._has_sweep_index
