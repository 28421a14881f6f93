"""The URL the OpenAI summariser posts chat completions to, made once instead of per call."""

from __future__ import annotations

import pytest

from triage.settings import Settings
from triage.summarise.endpoint import openai_client
from triage.summarise.openai_chat import chat_completions_path

KEY = "sk-test-0123456789abcdef"

BASE_URLS = [
    "https://api.openai.com/v1",
    "http://127.0.0.1:8080/v1/",
    "http://[::1]:11434/v1",
    "https://gateway.example.com/openai%2Fv1/v1",
    "https://gateway.example.com/a%20b/v1?key=abc",
    "https://bücher.example/v1",
    "http://localhost:4000",
    "https://gateway.example.com/proxy/openai/v1/",
]


@pytest.mark.parametrize("base_url", BASE_URLS)
def test_the_whole_url_is_the_one_the_sdk_joins_per_call(base_url: str) -> None:
    """For OpenAI's client the URL made once is byte for byte the one the SDK would join
    to its base URL on each call (ports, IPv6, escapes, IDNA, a query kept apart)."""
    client = openai_client(Settings(openai_api_key=KEY, openai_base_url=base_url))
    path = chat_completions_path(client)
    assert path.startswith(("http://", "https://"))
    assert path == str(client._prepare_url("/chat/completions"))


def test_azure_deployments_keep_the_path_their_client_routes() -> None:
    """An Azure client is given the path: its client routes it to the deployment itself."""
    base_url = "https://res.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21"
    client = openai_client(Settings(openai_api_key=KEY, openai_base_url=base_url))
    assert chat_completions_path(client) == "/chat/completions"
