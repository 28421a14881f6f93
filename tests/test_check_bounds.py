"""`triage check` asks the model for one token under the same bounds as the daemon's calls:
an answer that never ends is one FAIL line at once, not memory filled until the timeout."""

from __future__ import annotations

import io
from pathlib import Path

from hostile_server import endless, hostile
from triage.ops.check import run_checks
from triage.settings import Settings


async def test_an_endless_bedrock_answer_is_one_fail_line(tmp_path: Path) -> None:
    """A Converse endpoint answering 200 with a body that never ends: check reads 16 MiB of
    it at most, and the llm line fails saying so (it read on until TRIAGE_LLM_TIMEOUT_S)."""
    async with hostile(endless()) as server:
        settings = Settings(
            store_url=f"sqlite:///{tmp_path}/t.db",
            sinks=("slack",),
            llm_provider="bedrock",
            aws_endpoint_url_bedrock_runtime=server.url,
            llm_timeout_s=3.0,
        )
        out = io.StringIO()
        code = await run_checks(settings, out)
    (line,) = [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["llm"]]
    assert code == 1
    assert line.startswith("FAIL  llm      bedrock ") and "16,777,216 bytes" in line
