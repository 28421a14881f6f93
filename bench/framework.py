"""What triage's own receive/work/ack framework costs per storm message, beside a bare
aiobotocore loop: both drain the same endless stub SQS queue in this process, alternating,
and each one's CPU per message is `time.process_time()` over its run (the stub answers from a
child process, so its CPU is not counted).

    python bench/framework.py [--messages 20000] [--rounds 3] [--profile FILE]

Each round runs the bare loop (bench/baseline.py's `drain`: 4 tasks receive 10 and delete
each batch) and then the `Supervisor` with its real `SqsInbox`, the acker, the heartbeat and
a handler that does nothing (a storm's repeat: one `COUNT` outcome), each over `--messages`
messages on a client of its own, opened and warmed before its CPU is read. The stub answers
every ReceiveMessage with 10 new messages at once, so neither waits on a queue: what differs
is the framework's own work (the receive loop, the tasks, the acker, the bookkeeping).
Everything listens on 127.0.0.1 only, and the stub stops with this process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import hashlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
#: The bare loop's receive tasks (as `bench/baseline.py`'s peer phase runs it).
BARE_LOOPS = 4
#: The daemon's worker slots in the peer phase's storm.
CONCURRENCY = 32
#: The collector's thresholds the daemon sets once started (`app._freeze_startup_objects`).
DAEMON_GC_THRESHOLD = (10_000, 10, 10)

# --- The stub SQS server (the child process) ----------------------------------------------------


def _bodies(count: int = 50) -> list[str]:
    """Storm-like bodies: generic alerts over a few incidents, as `rig.generic_alert` writes."""
    return [
        json.dumps(
            {
                "title": f"framework incident {i % 10}",
                "source": "bench",
                "severity": "error",
                "team": "platform",
                "priority": "P2",
                "description": f"Synthetic alert framework incident {i % 10} from the bench.",
                "dedup_key": f"framework-{i % 10}",
                "host": "bench-host-1",
                "occurrence": i,
            }
        )
        for i in range(count)
    ]


class Stub:
    """SQS's JSON protocol, as much as the bare loop and the Supervisor ask of it: every
    ReceiveMessage gets `MaxNumberOfMessages` new messages at once (never empty, never a
    wait); deletes and visibility changes succeed; the queue's depth is 0."""

    def __init__(self) -> None:
        self._sent = 0
        self._bodies = [(json.dumps(b), hashlib.md5(b.encode()).hexdigest()) for b in _bodies()]
        self._sent_ms = str(int(time.time() * 1000))
        #: Calls per operation, and the messages (or entries) they carried.
        self.calls: dict[str, int] = {}
        self.carried: dict[str, int] = {}

    def answer(self, operation: str, request: dict[str, Any]) -> bytes:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        carried = request.get("MaxNumberOfMessages") or len(request.get("Entries", ()))
        self.carried[operation] = self.carried.get(operation, 0) + int(carried)
        if operation == "Counts":  # ours, not SQS's: what the runs asked so far
            return json.dumps({"calls": self.calls, "carried": self.carried}).encode()
        if operation == "ReceiveMessage":
            return self._receive(int(request.get("MaxNumberOfMessages", 1)))
        if operation in ("DeleteMessageBatch", "ChangeMessageVisibilityBatch"):
            ok = [{"Id": e["Id"]} for e in request.get("Entries", [])]
            return json.dumps({"Successful": ok, "Failed": []}).encode()
        if operation == "GetQueueAttributes":
            attributes = {
                "QueueArn": f"arn:aws:sqs:{REGION}:000000000000:framework",
                "ApproximateNumberOfMessages": "0",
                "ApproximateNumberOfMessagesNotVisible": "0",
                "ApproximateNumberOfMessagesDelayed": "0",
            }
            return json.dumps({"Attributes": attributes}).encode()
        if operation == "GetQueueUrl":
            return json.dumps({"QueueUrl": "http://127.0.0.1/000000000000/framework"}).encode()
        return b"{}"  # DeleteMessage, ChangeMessageVisibility: nothing to say

    def _receive(self, count: int) -> bytes:
        entries = []
        for _ in range(count):
            n = self._sent
            self._sent += 1
            body, md5 = self._bodies[n % len(self._bodies)]
            entries.append(
                f'{{"MessageId":"m-{n:012d}","ReceiptHandle":"rh-{n:012d}-{"x" * 40}",'
                f'"MD5OfBody":"{md5}","Body":{body},"Attributes":{{'
                f'"ApproximateReceiveCount":"1","SentTimestamp":"{self._sent_ms}",'
                f'"ApproximateFirstReceiveTimestamp":"{self._sent_ms}"}}}}'
            )
        return ('{"Messages":[' + ",".join(entries) + "]}").encode()


async def _serve_stub() -> None:
    """Serve the stub on a free 127.0.0.1 port; print its URL; stop when stdin closes."""
    stub = Stub()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stub.calls["connections"] = stub.calls.get("connections", 0) + 1
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                operation = headers.get("x-amz-target", "").rpartition(".")[2]
                answer = stub.answer(operation, json.loads(body or b"{}"))
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
                    b"x-amzn-RequestId: stub\r\nConnection: keep-alive\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer)
                )
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}", flush=True)
    loop = asyncio.get_running_loop()
    # The parent closes our stdin when it is done (or dies): then we stop.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


class StubProcess:
    """The stub in a child process, for a `with` block."""

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__)), "stub"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        url = self.process.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            self.__exit__()
            raise RuntimeError("the stub SQS server did not start")
        return url

    def __exit__(self, *_: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- The two runs (this process) ----------------------------------------------------------------


def _client(endpoint: str) -> Any:
    """An aiobotocore SQS client as bench/baseline.py's bare loop opens it, for both runs."""
    from aiobotocore.session import get_session
    from botocore.config import Config

    return get_session().create_client(
        "sqs",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )


async def _opened(sqs: Any, url: str) -> None:
    """Keep-alive as the daemon asks; one call first (the connection, botocore's models)."""
    from triage.aws import keep_alive

    keep_alive(sqs, "sqs")
    await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])


def stub_counts(endpoint: str) -> dict[str, dict[str, int]]:
    """What the stub was asked so far: calls per operation, and the messages they carried."""
    parts = urlsplit(endpoint)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.request("POST", "/", b"{}", {"X-Amz-Target": "AmazonSQS.Counts"})
        answer: dict[str, dict[str, int]] = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    return answer


def _calls_made(endpoint: str, before: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The receive and delete calls since `before`, and the messages each carried on average."""
    after = stub_counts(endpoint)
    made: dict[str, Any] = {}
    for operation, name in (("ReceiveMessage", "receives"), ("DeleteMessageBatch", "deletes")):
        calls = after["calls"].get(operation, 0) - before["calls"].get(operation, 0)
        carried = after["carried"].get(operation, 0) - before["carried"].get(operation, 0)
        made[name] = calls
        made[f"per_{name[:-1]}"] = carried / calls if calls else 0.0
    made["connections"] = after["calls"].get("connections", 0) - before["calls"].get(
        "connections", 0
    )
    return made


async def run_bare(endpoint: str, count: int) -> dict[str, Any]:
    """The bare loop over `count` messages: its CPU and wall time."""
    import baseline

    url = f"{endpoint}/000000000000/framework"
    async with _client(endpoint) as sqs:
        await _opened(sqs, url)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = await baseline.drain(sqs, url, count, BARE_LOOPS, time.monotonic() + 300)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if result["done"] < count:
        raise RuntimeError(f"the bare loop drained {result['done']} of {count}")
    return {"cpu_s": cpu, "wall_s": wall, "done": result["done"]}


async def run_framework(
    endpoint: str, count: int, profiler: cProfile.Profile | None = None
) -> dict[str, Any]:
    """The Supervisor, its SqsInbox and a handler that does nothing, until `count` messages
    are deleted: its CPU and wall time to then (its stop, after, is not counted)."""
    from triage.incidents.lifecycle import Action, Outcome
    from triage.metrics import Metrics
    from triage.sqs.inbox import Message, SqsInbox
    from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig
    from triage.sqs.user_agent import remember_user_agent

    url = f"{endpoint}/000000000000/framework"
    outcome = [Outcome("framework-fp", Action.COUNT, "bench")]
    end: dict[str, float] = {}
    stop = asyncio.Event()

    async def nothing(_message: Message, _progress: Progress) -> list[Outcome]:
        return outcome

    class CountingInbox(SqsInbox):
        """Counts the deletes SQS confirmed; at `count`, notes the time and stops."""

        deleted = 0

        async def delete(self, messages: Any) -> list[str]:
            failed = await super().delete(messages)
            self.deleted += len(messages) - len(failed)
            if self.deleted >= count and not end:
                end["cpu"], end["wall"] = time.process_time(), time.perf_counter()
                if profiler is not None:
                    profiler.disable()
                stop.set()
            return failed

    async with _client(endpoint) as sqs:
        await _opened(sqs, url)
        # As the daemon's client (`app._run_daemon`): its User-Agent built once per set of
        # features, not twice per call; the bare loop's client is aiobotocore's as it comes.
        remember_user_agent(sqs)
        inbox = CountingInbox(sqs, url)
        config = SupervisorConfig(concurrency=CONCURRENCY, shutdown_grace_s=5.0)
        supervisor = Supervisor(
            config, inbox, nothing, Metrics(), should_exit=stop, own_signals=False
        )
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        await supervisor.serve()
        if profiler is not None:
            profiler.disable()
    if not end:
        raise RuntimeError(f"the Supervisor stopped after {inbox.deleted} of {count} deletes")
    return {"cpu_s": end["cpu"] - cpu0, "wall_s": end["wall"] - wall0, "done": inbox.deleted}


def measure(endpoint: str, count: int, rounds: int, profile: Path | None = None) -> dict[str, Any]:
    """`rounds` times (the bare loop, then the Supervisor), each run on a fresh event loop."""
    from triage.logs import configure_logging

    # As the daemon logs (JSON, info), to nowhere: the lines' cost counts, not a terminal's.
    sink = open(os.devnull, "w")  # noqa: SIM115 (open for the whole measurement)
    configure_logging("json", "info", sink)
    # A short warm-up of each: imports, botocore's models, first-call caches.
    asyncio.run(run_bare(endpoint, min(count, 500)))
    asyncio.run(run_framework(endpoint, min(count, 500)))
    # What start-up made (modules, botocore's models) out of the collector's sight, as the
    # daemon does (`app._freeze_startup_objects`); each run then collects as its process
    # would: the daemon with its threshold, the bare loop with Python's default.
    gc.freeze()
    thresholds = {"bare": gc.get_threshold(), "framework": DAEMON_GC_THRESHOLD}
    runs: dict[str, list[dict[str, Any]]] = {"bare": [], "framework": []}
    for _ in range(rounds):
        for name, run in (("bare", run_bare), ("framework", run_framework)):
            gc.set_threshold(*thresholds[name])
            before = stub_counts(endpoint)
            result = asyncio.run(run(endpoint, count))
            runs[name].append({**result, **_calls_made(endpoint, before)})
    gc.set_threshold(*thresholds["bare"])
    if profile is not None:
        gc.set_threshold(*DAEMON_GC_THRESHOLD)
        profiler = cProfile.Profile()
        asyncio.run(run_framework(endpoint, count, profiler))
        profiler.dump_stats(profile)
    sink.close()
    return {
        name: [{**r, "us_per_message": r["cpu_s"] / r["done"] * 1e6} for r in results]
        for name, results in runs.items()
    }


def table(result: dict[str, Any]) -> list[str]:
    """The figures as a small Markdown table: median µs per message, every round's, ratio."""
    bare = [r["us_per_message"] for r in result["bare"]]
    framework = [r["us_per_message"] for r in result["framework"]]
    ratios = [f / b for f, b in zip(framework, bare, strict=True)]
    lines = [
        "| run | CPU µs/message, median | rounds (A/B alternating) | wall s/round "
        "| messages per receive / per delete call |",
        "|---|---|---|---|---|",
    ]
    for name, values in (("bare aiobotocore loop", bare), ("Supervisor + no-op", framework)):
        key = "bare" if name.startswith("bare") else "framework"
        walls = ", ".join(f"{r['wall_s']:.2f}" for r in result[key])
        rounds = ", ".join(f"{v:.0f}" for v in values)
        sizes = ", ".join(f"{r['per_receive']:.1f} / {r['per_delete']:.1f}" for r in result[key])
        lines.append(f"| {name} | {statistics.median(values):.0f} | {rounds} | {walls} | {sizes} |")
    lines.append(
        f"| ratio | {statistics.median(ratios):.2f} | {', '.join(f'{r:.2f}' for r in ratios)} | | |"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="also profile one framework run (cProfile)")
    parser.add_argument("--json", action="store_true", help="print the runs as JSON too")
    args = parser.parse_args(argv)
    with StubProcess() as endpoint:
        result = measure(endpoint, args.messages, args.rounds, args.profile)
    print("\n".join(table(result)))
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]
    if sys.argv[1:2] == ["stub"]:
        asyncio.run(_serve_stub())
    else:
        sys.exit(main())
