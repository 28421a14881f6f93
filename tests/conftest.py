"""Shared fixtures: an isolated environment and one moto server per test session."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator, MutableMapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
import structlog
from moto.server import ThreadedMotoServer
from werkzeug.serving import BaseWSGIServer
from xdist.scheduler import LoadFileScheduling

import deploy_harness
from daemon_harness import TOKEN, Queues, make_queues
from ingest_harness import ingest_settings, loopback_client, running
from moto_speed import lighter_moto_requests
from triage.demo.ticketd import TicketServer
from triage.ingest import IngestService
from triage.redact.held import _forget_held

#: The files that take longest (their tests' durations summed, in a whole run of the suite on
#: this 2-core machine, 2026-12-05 23:38 UTC, load average ~4), started first: with xdist's
#: loadfile and --no-loadscope-reorder, workers take files in collection order, so these run
#: beside the many quick files instead of after them. Longest first (a SPLIT file by the length of its parts).
LONG_FIRST = (
    "test_every_source_hostile.py",  # ~84 CPU-s alone (2026-12-06): the hostile samples rendered, fixed points, prompt views
    "test_bench_smoke.py",  # 35 s, one test
    "test_deploy_round2_461.py",  # three `terraform plan`s of the module: ~31 CPU-s alone
    "test_localstack_init.py",  # 31 s
    "test_redaction_boundary.py",  # ~18 CPU-s alone (remembering redactor)
    "test_summarise_hostile_more.py",  # 19 s
    "test_normalize_hostile.py",  # 17 s
    "test_faults.py",  # 47 s in 3 parts
    "test_redact_idempotent.py",  # ~19 CPU-s alone, in 2 parts
    "test_sqs_fault_corners.py",  # 12 s
    "test_lifecycle_model.py",  # 12 s
    "test_signals_trust_scenarios.py",  # 11 s
    "test_ingest_gateway.py",  # 11 s
    "test_trust.py",  # 21 s in 2 parts
    "test_http_endpoints.py",  # 9 s
    "test_daemon.py",  # 9 s
    "test_bedrock.py",  # 9 s
    "test_store.py",  # 9 s
    "test_summarise_answer_siblings.py",  # 8 s
    "test_operator_bad_input.py",  # 8 s
    "test_sqs_stop_given_back.py",  # 8 s
    "test_escape_every_surface.py",  # 8 s
    "test_supervisor.py",  # 8 s
    "test_prometheus_e2e.py",  # 8 s
    "test_redact.py",  # 19 s in 3 parts
    "test_ingest_hostile.py",
    "test_normalize_fuzz.py",
    "test_groups_daemon.py",
    "test_quality.py",
    "test_readme_compose.py",
    "test_replicas.py",
    "test_readme_examples.py",
    "test_signals_dead_letters.py",
)
#: Files run last: test_deploy.py's terraform apply (~100 s, mostly the AWS provider waiting)
#: runs from the start in a process of its own (tests/deploy_harness.py, started below), so by
#: the time a worker takes the file its tests only read the result.
LAST = ("test_deploy.py",)
#: Long files of independent tests with no module-scoped fixtures, handed out in this many
#: parts (each test always in the same part): as one unit, the longest would be started first
#: and still end after the rest of the suite.
SPLIT = {
    "test_redact.py": 3,
    "test_faults.py": 3,
    "test_trust.py": 2,
    "test_redact_idempotent.py": 2,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the LONG_FIRST files first, longest first, and the LAST ones last; the rest keep
    their order (stable sort)."""
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    rank |= {name: len(LONG_FIRST) + 1 + i for i, name in enumerate(LAST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FIRST)))


class SplitLongFiles(LoadFileScheduling):
    """xdist's loadfile, except that the SPLIT files go out in parts: their tests dealt out in
    collection order, the first to part 0, the next to part 1 and so on."""

    _parts: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self._parts is None:
            assert self.collection is not None  # the scheduler asks once it has one
            self._parts = {}
            dealt: dict[str, int] = {}
            for test in self.collection:
                path = LoadFileScheduling._split_scope(self, test)
                parts = SPLIT.get(Path(path).name)
                if parts is not None:
                    n = dealt[path] = dealt.get(path, -1) + 1
                    self._parts[test] = f"{path}::part{n % parts}"
        return self._parts.get(nodeid) or LoadFileScheduling._split_scope(self, nodeid)


class QuickSplitLongFiles(SplitLongFiles):
    """SplitLongFiles handing out exactly the same work, with bookkeeping linear in the tests.

    xdist's own costs the controller ~5.7 CPU-s over the suite's ~23,400 tests (simulated,
    2026-12-07), quadratic in them: each unit handed out looks each of its tests up in the
    collection with `list.index`, and after each of a worker's ~6 events per test it counts the
    tests left by reading every test ever given to that worker. Here a test's place in the
    collection is a dict lookup, each handed-out unit keeps a count of its tests not yet done,
    and a unit is dropped from its worker's work once that count reaches 0 (xdist only reads a
    worker's work for the tests left in it, and a crashed worker's are handed out again)."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        self._left: dict[str, int] = {}  # each handed-out unit: its tests not yet done
        self._places: dict[Any, dict[str, int]] = {}  # each worker: a test's collection index

    def _place(self, node: Any) -> dict[str, int]:
        """Where each test is in `node`'s collection (its first place, as `list.index`)."""
        places = self._places.get(node)
        if places is None:
            places = self._places[node] = {}
            for index, nodeid in enumerate(self.registered_collections[node]):
                places.setdefault(nodeid, index)
        return places

    def _assign_work_unit(self, node: Any) -> None:
        scope, work_unit = self.workqueue.popitem(last=False)
        self.assigned_work.setdefault(node, {})[scope] = work_unit
        todo = [nodeid for nodeid, completed in work_unit.items() if not completed]
        self._left[scope] = len(todo)
        place = self._place(node)
        node.send_runtest_some([place[nodeid] for nodeid in todo])

    def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
        nodeid = self.registered_collections[node][item_index]
        scope = self._split_scope(nodeid)
        work = self.assigned_work[node]
        unit = work[scope]
        if not unit[nodeid]:
            unit[nodeid] = True
            self._left[scope] -= 1
            if not self._left[scope]:
                del work[scope]
        self._reschedule(node)

    def _pending_of(self, workload: dict[str, dict[str, bool]]) -> int:
        return sum(self._left[scope] for scope in workload)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under loadfile, QuickSplitLongFiles."""
    if config.getvalue("dist") != "loadfile":
        return None
    return QuickSplitLongFiles(config, log)


# --- test_deploy.py's terraform apply, started by the xdist controller -----------------------


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Tell each worker where the controller's terraform harness works, if it ever starts (a
    directory of this run's own, made only then)."""
    workdir = Path(tempfile.gettempdir()) / f"triage-deploy-{node.workerinput['testrunuid']}"
    node.config._triage_deploy_dir = workdir
    node.workerinput[deploy_harness.WORKER_INPUT_KEY] = str(workdir)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """Once a worker has collected test_deploy.py's tests, start its apply in the background."""
    config = node.config
    if config.option.collectonly or getattr(config, "_triage_deploy", None) is not None:
        return
    if deploy_harness.unavailable():
        return
    if any(Path(i.split("::", 1)[0]).name == "test_deploy.py" for i in ids):
        config._triage_deploy = deploy_harness.BackgroundApply(config._triage_deploy_dir)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller stops the harness (and its moto) and removes its files; every process
    removes its own state directory."""
    shutil.rmtree(_STATE_HOME, ignore_errors=True)
    harness = getattr(config, "_triage_deploy", None)
    if harness is not None:
        harness.stop()
        shutil.rmtree(harness.workdir, ignore_errors=True)


# Variables that would point a test at a real account, model or repository.
_ISOLATED_PREFIXES = ("AWS_", "OPENAI_", "TRIAGE_", "BACKEND_", "GITHUB_", "SLACK_", "SQS_")
_ISOLATED_NAMES = ("ALERT_TRIAGE_QUEUE_URL", "CLOUDWATCH_NAMESPACE")
#: Fake AWS credentials and region that reach nothing, set for every test.
_FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
#: Where `triage dlq` notes its own receives of a letter (`$XDG_STATE_HOME/triage/`): a
#: directory of this process's for every test, never the user's ~/.local/state.
_STATE_HOME = tempfile.mkdtemp(prefix="triage-test-state-")
_TEST_ENV = {**_FAKE_AWS, "XDG_STATE_HOME": _STATE_HOME}


@pytest.fixture(autouse=True)
def isolated_test() -> Iterator[None]:
    """Each test starts isolated from the ones before it, and leaves things as it found them.

    - environment: every variable triage reads is stripped, and boto gets fake credentials
      that reach nothing, and `triage dlq` a state directory of the process's; the variables
      changed are put back afterwards (as monkeypatch would);
    - credentials: none held by the process-wide redactor registry, before or after;
    - logging: a test that runs `triage.cli.main` in process points every logger at its
      captured stderr, which is closed once that test ends (a later test in the worker would
      fail writing there, and `capture_logs` would see nothing), so structlog's config and the
      root logger's handlers and level are restored;
    - the gateway's budget of `ingest.bad_http` lines (10 a second): the filter on aiohttp's
      logger is added once per process, so a test that sent a burst of unparsable requests
      would otherwise leave the next test's line suppressed.

    One fixture rather than four, without `monkeypatch`: each function-scoped fixture costs
    pytest ~0.04 ms to set up and tear down, paid by every one of the suite's ~18,000 tests."""
    environ = os.environ
    stripped = [n for n in environ if n.startswith(_ISOLATED_PREFIXES) or n in _ISOLATED_NAMES]
    before = {name: environ.get(name) for name in (*stripped, *_TEST_ENV)}
    for name in stripped:
        del environ[name]
    environ.update(_TEST_ENV)
    _forget_held()
    config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    server_log = logging.getLogger("aiohttp.server")
    for kept in [f for f in server_log.filters if type(f).__name__ == "BadHttpLines"]:
        server_log.removeFilter(kept)
    yield
    structlog.configure(**config)
    root.handlers[:] = handlers
    if root.level != level:
        root.setLevel(level)  # clears every logger's level cache: only when it changed
    _forget_held()
    for name, value in before.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value


@pytest.fixture(autouse=True, scope="session")
def one_botocore_loader() -> Iterator[None]:
    """Every botocore session this process makes reads AWS's data files through one loader.

    Each aioboto3 session (the daemon's, the gateway's, a store's: one or more per test)
    otherwise gets a loader of its own, which parses the service model and endpoint files
    again (JSON of up to ~1 MB) and lists botocore's data directories: ~40 ms of CPU a
    session. A loader caches what it read and hands out the same objects to every client it
    serves, as one session's clients already share them. Processes the tests start make
    their own, as in production."""
    import botocore.loaders
    import botocore.session

    shared: dict[str | None, botocore.loaders.Loader] = {}

    def create_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        loader = shared.get(search_path_string)
        if loader is None:
            loader = shared[search_path_string] = botocore.loaders.create_loader(search_path_string)
        # boto3 appends its own data directory to its session's loader: kept once.
        paths = loader.search_paths
        paths[:] = dict.fromkeys(paths)
        return loader

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", create_loader)
        yield


#: moto's DynamoDB operations that read or write items.
_DYNAMODB_ITEM_CALLS = (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "batch_get_item",
    "batch_write_item",
    "transact_get_items",
    "transact_write_items",
)


def _atomic_moto_dynamodb() -> None:
    """Make moto's DynamoDB item calls one at a time, as DynamoDB's are per item.

    The server answers each request on its own thread, and moto checks a ConditionExpression
    and then writes with no lock between: two replicas' conditional puts of one version could
    both succeed (a lost update DynamoDB never allows), which a loaded machine made visible as
    a group that never closed. Idempotent."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_triage_atomic", False):
        return
    lock = threading.RLock()
    for name in _DYNAMODB_ITEM_CALLS:
        call = getattr(DynamoDBBackend, name)

        @functools.wraps(call)
        def atomic(self: Any, *args: Any, _call: Any = call, **kwargs: Any) -> Any:
            with lock:
                return _call(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, atomic)
    DynamoDBBackend._triage_atomic = True  # type: ignore[attr-defined]


def _fast_moto_sqs_clock() -> None:
    """Read the clock in moto's SQS with `time.time()`, not through a naive datetime.

    moto asks every message of a queue whether it is visible or delayed on each call (a send
    included), and each answer built two datetimes: at 300 messages, a SendMessageBatch cost
    ~80 ms of this process's CPU, beside the daemons it serves. Same values, ~10x cheaper.
    Idempotent."""
    import moto.sqs.models as sqs_models

    if getattr(sqs_models, "_triage_fast_clock", False):
        return
    exact_ms, exact_s = sqs_models.unix_time_millis, sqs_models.unix_time

    def unix_time_millis(dt: datetime | None = None) -> float:
        return time.time() * 1000.0 if dt is None else exact_ms(dt)

    def unix_time(dt: datetime | None = None) -> float:
        return time.time() if dt is None else exact_s(dt)

    sqs_models.unix_time_millis = unix_time_millis
    sqs_models.unix_time = unix_time
    sqs_models._triage_fast_clock = True  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def moto_session_url() -> Iterator[str]:
    _atomic_moto_dynamodb()
    _fast_moto_sqs_clock()
    lighter_moto_requests()
    with pytest.MonkeyPatch.context() as patch:
        # werkzeug's serve_forever looks for a stop every 0.5 s, so stop() waited that long at
        # the end of every worker. Patched for the whole session: the server's thread calls it
        # after start() returns.
        patch.setattr(
            BaseWSGIServer,
            "serve_forever",
            functools.partialmethod(BaseWSGIServer.serve_forever, poll_interval=0.05),
        )
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture(scope="session")
def loopback_http() -> Iterator[httpx2.Client]:
    """One plain-HTTP client for the session's loopback calls: a client made per call loads
    the CA bundle each time (~40 ms of CPU), which no http:// request needs."""
    with httpx2.Client(verify=False, timeout=30) as client:
        yield client


@pytest.fixture
def moto_url(moto_session_url: str, loopback_http: httpx2.Client) -> str:
    """A moto server on 127.0.0.1 with empty state for this test."""
    loopback_http.post(f"{moto_session_url}/moto-api/reset").raise_for_status()
    return moto_session_url


@pytest.fixture
def backend() -> Iterator[TicketServer]:
    """The loopback stand-in ticket backend, accepting `daemon_harness.TOKEN`."""
    server = TicketServer(token=TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def queues(moto_url: str) -> Queues:
    """A queue of this test's own (`alerts-…`) on moto, with a DLQ after 2 receives."""
    return make_queues(moto_url)


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The webhook gateway in the test's loop on a free port, with ingest_harness's tokens, in
    front of the test's queue on moto (a test file that needs other settings defines its own)."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


@pytest.fixture
async def client(gateway: IngestService) -> AsyncIterator[httpx2.AsyncClient]:
    """An HTTP client for `gateway` over loopback."""
    async with loopback_client(gateway.port) as c:
        yield c


@pytest.fixture
def logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """Every structlog event of the test at debug and up, unredacted (what the code itself
    wrote), whatever logging set-up an earlier test left. A file may define its own `logs`."""
    saved = structlog.get_config()
    capture = structlog.testing.LogCapture()
    structlog.configure(
        processors=[capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        cache_logger_on_first_use=False,
    )
    yield capture.entries
    structlog.configure(**saved)


@pytest.fixture
def sigint_not_ignored() -> Iterator[None]:
    """SIGINT handled in this process while the test runs, as a terminal's foreground job has
    it, so that a daemon it runs in-process handles it and a command it starts does not inherit
    it ignored: a suite started in the background by a shell without job control (`pytest &`
    in a script) runs with SIGINT ignored, which triage, as it should, leaves ignored."""
    inherited = signal.getsignal(signal.SIGINT)
    if inherited == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, inherited)
