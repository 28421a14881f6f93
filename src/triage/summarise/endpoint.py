"""Where OPENAI_BASE_URL points, and the openai SDK's client for it.

The SDK appends each API path (`/chat/completions`) to its base URL as text, so a query in
OPENAI_BASE_URL ended up in front of the path (`…/?api-version=2024-10-21chat/completions`):
the query is kept apart and sent with every request instead. A URL that names the API path
itself (the Azure portal's "Target URI" does) stands for the base URL it ends in, and OpenAI's
host alone (`https://api.openai.com`) for its API at `/v1`.

Azure OpenAI serves two APIs. A deployment's, `…/openai/deployments/<name>`, takes the key in
an `api-key` header (its `Authorization` header carries Microsoft Entra tokens only, and
refuses a key) and needs an `api-version` query: Azure's latest generally available one when
the URL names none (moved to the later one a model says it needs: Azure's reasoning models
need a preview version). The SDK's Azure client speaks it. The v1 API, `…/openai/v1`, is OpenAI's
own: the key as a bearer token, the deployment as OPENAI_MODEL and no dated api-version (it
refuses one), so it is asked as any other OpenAI-compatible server is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import openai

from triage.redact import hold
from triage.settings import Settings
from triage.summarise.chat import openai_key

#: The base URL without OPENAI_BASE_URL: OpenAI's own API.
OPENAI_API = "https://api.openai.com/v1"
#: OpenAI's own host, and the path its API is served under (`/chat/completions` at the host
#: itself is a 404).
_OPENAI_HOST = "api.openai.com"
_OPENAI_VERSION = "/v1"
#: Azure OpenAI's latest generally available data-plane version, for a deployment URL that
#: names none (preview versions come and go; this one is supported until Azure retires it).
AZURE_API_VERSION = "2024-10-21"
#: The path of an Azure OpenAI deployment's API, its name captured.
_DEPLOYMENT = re.compile(r"/openai/deployments/(?P<name>[^/]+)$")
#: The API path the SDK appends; a base URL ending in it names the API itself.
_API_PATH = "/chat/completions"
#: A query parameter that carries a credential (`key`, `subscription-key`, `code`, `token` …).
_CREDENTIAL = re.compile(r"key|token|secret|sig|code|auth|pass|credential", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """OPENAI_BASE_URL as the SDK must be given it."""

    #: Scheme, host and path only.
    base_url: str
    #: The query it carried, sent with every request.
    query: dict[str, str]
    #: The Azure OpenAI deployment its path names; None for any other server.
    deployment: str | None = None
    #: Whether the deployment's api-version is triage's (the URL names none), so a model that
    #: needs a later one may move it; one the URL names is the operator's, and kept.
    api_version_ours: bool = False


def endpoint(base_url: str | None) -> Endpoint:
    """Where `base_url` (OPENAI_BASE_URL, OpenAI's API when unset) points."""
    parts = urlsplit(base_url or OPENAI_API)
    path = parts.path.rstrip("/").removesuffix(_API_PATH).rstrip("/")
    if not path and parts.hostname == _OPENAI_HOST:
        path = _OPENAI_VERSION  # OpenAI's host as its dashboard names it: every path is /v1's
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    deployment = _DEPLOYMENT.search(path)
    ours = deployment is not None and "api-version" not in query
    if ours:
        query["api-version"] = AZURE_API_VERSION
    return Endpoint(
        base_url=urlunsplit((parts.scheme, parts.netloc, path, "", "")),
        query=query,
        deployment=unquote(deployment["name"]) if deployment else None,
        api_version_ours=ours,
    )


def openai_client(settings: Settings, **options: Any) -> openai.AsyncOpenAI:
    """The SDK's client for OPENAI_BASE_URL with OPENAI_API_KEY (checked and held,
    `openai_key`); `options` are the client's own (timeout, retries, http_client). An Azure
    deployment gets the SDK's Azure client: the key in `api-key`, no bearer token. A gateway's
    key in the URL's query is held as the API key is: a server may echo the URL it refused."""
    where = endpoint(settings.openai_base_url)
    key = openai_key(settings)
    for name, value in where.query.items():
        if _CREDENTIAL.search(name):
            hold(value)
    if where.deployment is None:
        return openai.AsyncOpenAI(
            api_key=key, base_url=where.base_url, default_query=where.query or None, **options
        )
    query = dict(where.query)
    version = query.pop("api-version")
    return openai.AsyncAzureOpenAI(
        api_key=key,
        api_version=version,
        base_url=where.base_url,
        default_query=query or None,
        **options,
    )
