"""Tokens stored with the quotes they were pasted in (from a .env file, JSON, a shell line or a
chat's typographic quotes) stop `triage ingest` and fail `triage check`, naming the source and
saying to store them without the quotes, never quoting the token; as does the tokens' whole
JSON stored quoted. A quote that is part of a token (one end only, or inside) is kept."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import boto3
import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues, settings_for
from ingest_harness import TOKENS, ingest_settings, loopback_client, running
from triage.errors import ConfigError
from triage.ingest_tokens import parse_tokens
from triage.ops.check import run_checks

TOKEN = TOKENS["generic"]
NEXT = "generic-next-token-9876543210"
WHERE = "TRIAGE_INGEST_TOKENS"
WRAPPED = "is wrapped in quotes: store it without them"


def _refusal(text: str) -> str:
    """The ConfigError `parse_tokens` raises for `text`, checked to hold no token."""
    with pytest.raises(ConfigError) as caught:
        parse_tokens(text, WHERE)
    message = str(caught.value)
    for token in (TOKEN, NEXT):
        assert token not in message and token[:8] not in message, message
    return message


@pytest.mark.parametrize(
    "stored",
    [f'"{TOKEN}"', f"'{TOKEN}'", f"`{TOKEN}`", f"\u201c{TOKEN}\u201d", f"\u2018{TOKEN}\u2019",
     f'"{TOKEN}"\n', f" '{TOKEN}' ", '""'],
    ids=["double", "single", "backtick", "typographic-double", "typographic-single",
         "with-echo-newline", "with-spaces", "nothing-inside"],
)  # fmt: skip
def test_a_token_wrapped_in_quotes_is_refused_saying_to_drop_them(stored: str) -> None:
    """A token stored inside a pair of quotes (which its senders do not send) is a start-up
    error naming the source and saying to store it without them."""
    message = _refusal(json.dumps({"generic": stored}))
    assert message.startswith(f"{WHERE}: the generic token {WRAPPED}"), message


def test_a_quoted_token_of_a_rotation_is_refused_too() -> None:
    """The next token of a rotation, stored quoted beside the current one, is refused the same
    way (its senders would get 401 once they move to it)."""
    message = _refusal(json.dumps({"generic": [TOKEN, f'"{NEXT}"']}))
    assert message.startswith(f"{WHERE}: the generic token {WRAPPED}"), message


@pytest.mark.parametrize(
    "token",
    [f'"{TOKEN}', f"{TOKEN}'", f"ab\"c{TOKEN}'d", f"\"{TOKEN}'", f"'{TOKEN}\""],
    ids=["opening-only", "closing-only", "inside", "mismatched", "mismatched-other-way"],
)
def test_a_quote_that_is_part_of_a_token_is_kept(token: str) -> None:
    """Generated passwords hold punctuation (Secrets Manager's GetRandomPassword includes
    quotes): a quote at one end only, inside, or a pair that does not match is part of the
    token, read as is."""
    assert parse_tokens(json.dumps({"generic": token}), WHERE) == {"generic": (token.encode(),)}


@pytest.mark.parametrize("quote", ["'", '"', "`"], ids=["single", "double-unescaped", "backtick"])
def test_the_whole_json_stored_in_quotes_is_refused_saying_so(quote: str) -> None:
    """`TRIAGE_INGEST_TOKENS='{"generic": …}'` read from a file that keeps the quotes (docker
    `--env-file`, an ECS environment file) says the JSON is wrapped in quotes, not only that it
    is no JSON."""
    text = quote + json.dumps({"generic": TOKEN}) + quote + "\n"
    message = _refusal(text)
    assert message == f"{WHERE} is wrapped in quotes: store the JSON without them", message


def test_the_json_stored_as_a_json_string_is_refused_saying_so() -> None:
    """The tokens' JSON encoded twice (a JSON string holding it: Terraform's
    `jsonencode(jsonencode(…))`, or a quoted `--secret-string`) says to store the object
    itself."""
    text = json.dumps(json.dumps({"generic": TOKEN}))
    message = _refusal(text)
    assert message == (
        f"{WHERE} is a JSON string holding the tokens' JSON: store the object itself"
    ), message


NESTED = "[" * 100_000 + "]" * 100_000


def test_tokens_json_nested_past_the_parsers_stack_is_one_line() -> None:
    """The tokens' JSON nested 100,000 deep, or a JSON string holding such JSON, is one
    ConfigError line, not a RecursionError out of the gateway's start or `triage check`."""
    assert _refusal(NESTED) == f"{WHERE} is JSON nested too deeply"
    assert "\n" not in _refusal(json.dumps(NESTED))


async def test_the_gateway_does_not_start_with_a_quoted_token(queues: Queues) -> None:
    """`triage ingest` refuses to start with a token stored in quotes, naming the source."""
    quoted = json.dumps({**TOKENS, "grafana": f'"{TOKENS["grafana"]}"'})
    settings = ingest_settings(queues.url, queues.endpoint, ingest_tokens=quoted)
    with pytest.raises(ConfigError, match=f"the grafana token {WRAPPED}") as caught:
        async with running(settings):
            pass
    assert TOKENS["grafana"] not in str(caught.value)


def test_check_fails_a_quoted_token_in_the_secret(queues: Queues, tmp_path: Path) -> None:
    """`triage check` reads the secret as the gateway does: a token stored in quotes is one
    FAIL line naming the source and saying to drop them, never the token."""
    secrets = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    stored = json.dumps({"generic": f"'{TOKEN}'"})
    secrets.create_secret(Name="triage/quoted", SecretString=stored)
    settings = settings_for(
        queues, "http://127.0.0.1:9", tmp_path / "t.db", ingest_tokens_secret_id="triage/quoted"
    )
    out = io.StringIO()
    asyncio.run(run_checks(settings, out))
    (line,) = [line for line in out.getvalue().splitlines() if line.split()[1:2] == ["ingest"]]
    assert line.startswith(
        f"FAIL  ingest   TRIAGE_INGEST_TOKENS_SECRET_ID: the generic token {WRAPPED}"
    ), line
    assert TOKEN not in line


async def test_a_quoted_token_put_in_the_secret_later_keeps_the_old_ones(queues: Queues) -> None:
    """A rotation that stores the next token in quotes after start-up is refused on the re-read:
    the tokens read before still pass, the quoted one is 401, and one `ingest.tokens_refused`
    line says to store it without quotes, never quoting a token."""
    secrets = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    secrets.create_secret(Name="triage/quoted-later", SecretString=json.dumps({"generic": TOKEN}))
    settings = ingest_settings(
        queues.url,
        queues.endpoint,
        ingest_tokens=None,
        ingest_tokens_secret_id="triage/quoted-later",
        ingest_tokens_refresh_s=0.01,
    )
    body = json.dumps({"title": "disk full", "dedup_key": "disk-full"}).encode()
    async with running(settings) as service, loopback_client(service.port) as client:
        rotated = json.dumps({"generic": [TOKEN, f'"{NEXT}"']})
        secrets.put_secret_value(SecretId="triage/quoted-later", SecretString=rotated)
        with capture_logs() as logs:
            for token in (NEXT, f'"{NEXT}"'):
                headers = {"Authorization": f"Bearer {token}"}
                response = await client.post("/v1/alerts/generic", content=body, headers=headers)
                assert response.status_code == 401, response.text
        headers = {"Authorization": f"Bearer {TOKEN}"}
        response = await client.post("/v1/alerts/generic", content=body, headers=headers)
        assert response.status_code == 202, response.text
    errors = [e["error"] for e in logs if e["event"] == "ingest.tokens_refused"]
    assert errors and all(
        e.startswith(f"TRIAGE_INGEST_TOKENS_SECRET_ID: the generic token {WRAPPED}") for e in errors
    ), errors
    assert TOKEN not in repr(logs) and NEXT not in repr(logs)
