"""Round 5 (helper 501): the sinks against faults and hostile text. A re-fire whose reopen
GitHub answers 410 (the issue deleted as it was reopened), a Slack follow-up refused as blocks
and as plain text, and a red team of the sinks' remaining classes against loopback servers
answering as GitHub, Slack and a ticket backend do."""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from hostile_server import Answer, hostile
from test_github_later_life import REPO, TOKEN, LaterLifeGitHub, effect
from test_github_odd_answers import NEW as RENAMED
from test_github_odd_answers import OddGitHub
from test_sinks_faults_more import backend_sink, events, logged_text, slack_json, slack_sink
from test_sinks_faults_more import effect as plain_effect
from triage.errors import SinkRejectedError, SinkUnavailableError
from triage.models import EffectKind
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.aio import AiohttpTransport
from triage.sinks.backend import BackendSink
from triage.sinks.github import GitHubSink
from triage.sinks.slack import SlackSink
from triage.tls import client_context

Logs = list[MutableMapping[str, Any]]


# --- 1. Left from round 4 ------------------------------------------------------------------


class DeletedAtReopen(LaterLifeGitHub):
    """The stub, where the re-fire's reopen of an issue finds it deleted in between (its
    comment taken, then the issue deleted): the PATCH, and every later call, answers 410."""

    def __init__(self, **kwargs: Any) -> None:
        self.delete_on_reopen: set[tuple[str, int]] = set()
        super().__init__(**kwargs)

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Any:
        reopen = method == "PATCH" and isinstance(body, dict) and body.get("state") == "open"
        for repo, number in list(self.delete_on_reopen):
            if reopen and path == f"/repos/{repo}/issues/{number}":
                self.delete_on_reopen.discard((repo, number))
                self.deleted.add((repo, number))
        return super()._route(method, path, query, headers, body)


@pytest.fixture
async def deleting() -> AsyncIterator[tuple[DeletedAtReopen, GitHubSink]]:
    with DeletedAtReopen(tokens={TOKEN: "triage-bot"}, repositories=(REPO,)) as server:
        settings = Settings(github_api_url=server.url, github_repository=REPO, github_token=TOKEN)
        sink = GitHubSink(settings)
        try:
            yield server, sink
        finally:
            await sink.aclose()


async def test_a_refire_whose_reopen_answers_410_opens_a_new_issue_naming_the_old_once(
    deleting: tuple[DeletedAtReopen, GitHubSink], logs: Logs
) -> None:
    """A re-fire whose comment went on the closed issue, then whose reopen GitHub answers 410
    (the issue deleted in between), opens one new issue that names the old one, as a 422's
    does, with one warning; its retry finds that issue and opens nothing more."""
    github, sink = deleting
    ref = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))).ref
    await sink.apply(effect(EffectKind.CLOSE, ref, "close"))
    github.delete_on_reopen.add((REPO, 1))
    applied = await sink.apply(effect(EffectKind.REOPEN, ref, "refire"))
    retried = await sink.apply(effect(EffectKind.REOPEN, ref, "refire"))
    issues = github.issues(REPO)
    assert len(issues) == 2 and applied.ref == retried.ref == issues[1]["html_url"]
    assert f"{REPO}#1" in issues[1]["body"].split("\n")[0]
    said = [e for e in logs if e["log_level"] == "warning" and e["event"].startswith("github.")]
    assert [e["status"] for e in said][:1] == [410] and said[0]["action"] == "open_new"


async def test_a_follow_up_refused_as_blocks_and_as_plain_text_says_so_in_one_line(
    logs: Logs,
) -> None:
    """A resolve whose blocks Slack refuses (`invalid_blocks`) and whose plain-text post it
    refuses too (`invalid_payload`) fails, as a new incident's does (helper 565), with one
    error naming both refusals, not a `slack.blocks_refused` line for one failure."""
    async with (
        hostile(slack_json(400, "invalid_blocks"), slack_json(400, "invalid_payload")) as server,
        slack_sink(server.url) as sink,
    ):
        with pytest.raises(SinkRejectedError) as caught:
            await sink.apply(plain_effect(EffectKind.CLOSE, "posted", "close"))
    assert len(server.requests) == 2
    assert "invalid_payload" in str(caught.value) and "invalid_blocks" in str(caught.value)
    assert [e for e in logs if e["log_level"] == "warning"] == []
    assert "slackWebhookSecret0042" not in logged_text(logs) + str(caught.value)
    assert events(logs, "error") == []


# --- 2. The backend: an answer that ends where its connection does ------------------------


def close_delimited(status: int, body: bytes, *, location: str | None = None) -> Answer:
    """An HTTP/1.0 answer with no Content-Length (and the `location` given): its body ends
    where the connection does, so a connection closed mid-answer looks, to HTTP, like a whole
    one."""
    where = "" if location is None else f"Location: {location}\r\n"

    async def write(writer: asyncio.StreamWriter) -> None:
        head = f"HTTP/1.0 {status} Created\r\nContent-Type: application/json\r\n{where}\r\n"
        writer.write(head.encode() + body)
        await writer.drain()

    return write


async def test_a_create_whose_unframed_json_answer_breaks_off_is_retried_not_misnamed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A create answered HTTP/1.0 without a length whose JSON breaks off (the connection closed
    mid-answer) is retried under its Idempotency-Key, as a chunked answer cut short is, and
    the retry's whole answer names the ticket: not recorded as a ticket named by its key,
    whose every update would go to a ticket that does not exist."""
    cut, whole = close_delimited(201, b'{"id": "OPS-'), close_delimited(201, b'{"id": "OPS-7"}')
    async with hostile(cut, whole) as server, backend_sink(server.url, monkeypatch) as sink:
        with pytest.raises(SinkUnavailableError) as failed:
            await sink.apply(plain_effect())
        applied = await sink.apply(plain_effect())
    assert failed.value.reason == "bad_response" and applied.ref == "OPS-7"
    keys = {
        line for r in server.requests for line in r.head.split(b"\r\n") if b"dempotency" in line
    }
    assert len(keys) == 1


async def test_an_unframed_json_answer_that_is_whole_names_its_ticket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same HTTP/1.0 answer without a length, whole, is the ticket it names at once."""
    async with (
        hostile(close_delimited(201, b'{"id": "OPS-7"}')) as server,
        backend_sink(server.url, monkeypatch) as sink,
    ):
        applied = await sink.apply(plain_effect())
    assert applied.ref == "OPS-7" and len(server.requests) == 1


# --- 2. TLS: a certificate for another name -------------------------------------------------


def certificate_pair(directory: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA's certificate, and a server certificate it signed for `name` only, with its key:
    (ca.pem, server.pem, server.key) in `directory`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)

    def build(subject: str, issuer: str, key: Any, signer: Any, *, ca: bool) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_cert = build("triage test CA", "triage test CA", ca_key, ca_key, ca=True)
    server_cert = build(name, "triage test CA", server_key, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca_cert.public_bytes(pem))
    paths[1].write_bytes(server_cert.public_bytes(pem))
    paths[2].write_bytes(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@asynccontextmanager
async def tls_backend(tmp_path: Path, name: str) -> AsyncIterator[tuple[str, str]]:
    """A loopback HTTPS server whose certificate (from a CA the client trusts) names `name`,
    not the address the client asks for; (its https URL, the CA file)."""
    ca, cert, key = certificate_pair(tmp_path, name)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}", str(ca)
    finally:
        server.close()
        await server.wait_closed()


async def test_a_backend_whose_certificate_names_another_host_is_said_so_by_call_and_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend whose TLS certificate names another host (a CA we trust) fails the call as
    transient and the breaker's probe too, each saying the certificate does not match: the
    probe's line said only `ConnectError`, so an operator could not tell TLS from a host
    that is down."""
    monkeypatch.setenv("BACKEND_TOKEN", "backend-secret-token-42")
    async with tls_backend(tmp_path, "tickets.elsewhere.example") as (url, ca):
        settings = Settings(backend_base_url=url)
        transport = AiohttpTransport(client_context(ca))
        sink = BackendSink(settings, BackendToken(settings), transport=transport)
        try:
            with pytest.raises(SinkUnavailableError) as call:
                await sink.apply(plain_effect())
            with pytest.raises(SinkUnavailableError) as probe:
                await sink.probe()
        finally:
            await sink.aclose()
    for said in (str(call.value), str(probe.value)):
        assert "certificate" in said and "mismatch" in said, said
        assert "object at 0x" not in said and "backend-secret-token-42" not in said


async def test_a_slack_webhook_whose_certificate_names_another_host_says_so(
    tmp_path: Path,
) -> None:
    """A Slack webhook behind a certificate for another host fails its post as transient,
    the error saying the certificate was refused and why, without the webhook's secret path."""
    async with tls_backend(tmp_path, "hooks.elsewhere.example") as (url, ca):
        webhook = SecretStr(f"{url}/services/T1/B1/slackWebhookSecret0042")
        sink = SlackSink(
            Settings(slack_webhook_url=webhook, slack_min_interval_s=0),
            transport=AiohttpTransport(client_context(ca)),
        )
        try:
            with pytest.raises(SinkUnavailableError) as failed:
                await sink.apply(plain_effect())
        finally:
            await sink.aclose()
    said = str(failed.value)
    assert "TLS certificate refused" in said and "mismatch" in said, said
    assert "slackWebhookSecret0042" not in said


# --- 2. GitHub: a renamed repository's 307 ------------------------------------------------


class RenamedGitHub(OddGitHub):
    """OddGitHub, whose renamed repositories answer as GitHub documents it: 301 to a read,
    307 to any other method (which keeps the method and body, so a create is followed)."""

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Any:
        status, answered, head = super()._route(method, path, query, headers, body)
        if status == 301 and method != "GET" and "Location" in head:
            return 307, answered, head
        return status, answered, head


async def test_a_new_incident_in_a_repository_renamed_behind_a_307_says_to_update_the_route(
    logs: Logs,
) -> None:
    """A route naming a repository since renamed, whose old name answers a create with 307
    (followed: the issue is opened under the new name), says so once
    (`github.repository_renamed`, naming both names): the redirect lasts only until someone
    creates a repository of the old name, after which every issue would go there. A retry
    finds the issue instead of opening a second."""
    with RenamedGitHub(tokens={TOKEN: "triage-bot"}, repositories=(REPO, "acme/new")) as github:
        settings = Settings(github_api_url=github.url, github_repository=REPO, github_token=TOKEN)
        sink = GitHubSink(settings)
        try:
            await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))
            github.rename_everywhere(REPO, RENAMED)
            fresh = dataclasses.replace(
                effect(EffectKind.OPEN, None, "fp2:1"), fingerprint="f" * 64, idempotency_key="f:1"
            )
            made = await sink.apply(fresh)
            again = await sink.apply(fresh)
            third = dataclasses.replace(fresh, fingerprint="e" * 64, idempotency_key="e:1")
            await sink.apply(third)
        finally:
            await sink.aclose()
    assert made.ref == again.ref == f"{github.url}/{RENAMED}/issues/2"
    assert len(github.issues(RENAMED)) == 3
    said = [e for e in logs if e["event"] == "github.repository_renamed"]
    assert [(e["repository"], e["now"]) for e in said] == [(REPO, RENAMED)]


async def test_an_unframed_answer_cut_short_whose_location_names_the_ticket_is_that_ticket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A create's answer without a length whose JSON breaks off, but whose `Location` names the
    new ticket under the create route, is that ticket at once: the head came whole."""
    cut = close_delimited(201, b'{"id": "OPS-', location="/api/service/tickets/OPS-9")
    async with hostile(cut) as server, backend_sink(server.url, monkeypatch) as sink:
        applied = await sink.apply(plain_effect())
    assert applied.ref == "OPS-9" and len(server.requests) == 1
