"""The one-shot commands (send, dlq, check) and the gateway's start-up against faulty services:
an endpoint that never answers, a model that refuses, a queue that is not there."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from botocore.config import Config

from triage import aws
from triage.cli import main


@dataclass
class Silent:
    """A TCP server on 127.0.0.1 that reads requests and never answers them."""

    sock: socket.socket
    requests: int = 0
    held: list[socket.socket] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed at the end of the test
            self.held.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        try:
            while data := conn.recv(65536):
                self.requests += data.count(b"HTTP/1.1\r\n")
        except OSError:
            return

    def wait_requests(self, count: int, deadline_s: float = 5) -> int:
        deadline = time.monotonic() + deadline_s
        while self.requests < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.requests


@pytest.fixture
def silent() -> Iterator[Silent]:
    sock = socket.create_server(("127.0.0.1", 0))
    server = Silent(sock)
    threading.Thread(target=server.serve, daemon=True).start()
    try:
        yield server
    finally:
        sock.close()
        for conn in server.held:
            conn.close()


@pytest.fixture
def quick_one_shot(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-shot commands' client settings with their timeouts cut to a fraction of a
    second (the tries and the retry mode as they are)."""
    monkeypatch.setattr(aws, "ONE_SHOT", aws.ONE_SHOT.merge(Config(read_timeout=0.2)))


@pytest.mark.parametrize(
    "argv",
    [["send", "--queue-url", "{url}/123456789012/q", "{file}"], ["dlq", "peek"], ["check"]],
    ids=["send", "dlq", "check"],
)
def test_one_shot_commands_give_up_on_a_silent_endpoint_after_two_tries(
    argv: list[str],
    silent: Silent,
    quick_one_shot: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:
    """send, dlq and check against an endpoint that never answers try each call twice (the
    daemon's clients four times, 30 s each) and fail with exit 1 and a line naming it."""
    body = f"{tmp_path}/alert.json"
    with open(body, "w") as f:
        f.write('{"title": "x"}')
    monkeypatch.setenv("AWS_ENDPOINT_URL", silent.url)
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", f"{silent.url}/123456789012/q")
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path}/t.db")
    code = main([arg.format(url=silent.url, file=body) for arg in argv])
    out, err = capsys.readouterr()
    assert code == 1
    assert silent.wait_requests(2) == 2
    shown = out if argv[0] == "check" else err
    assert f'Read timeout on endpoint URL: "{silent.url}/"' in shown
    assert "Traceback" not in err
