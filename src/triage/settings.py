"""One typed `Settings`, read from the environment once at startup and passed down.

The original worker's variable names keep working (`ALERT_TRIAGE_QUEUE_URL`, `AWS_REGION`,
`BACKEND_*`, `OPENAI_*`, `SQS_*` …); everything new is `TRIAGE_*`. Durations carry their unit.

Values are read as people write them in env files: surrounding whitespace (a secret pasted
with its newline) and one pair of quotes around a whole value are dropped, and an empty value
means unset, so `GITHUB_APP_ID=` in a copied
`.env.example` is the default, not an error or an empty string used as a URL or a path.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from triage import config_files, route_variables
from triage.errors import ConfigError
from triage.models import Priority

#: Sinks this release can build, in the order they run for one incident (Slack last, so its
#: message can link to the ticket and issue the others created).
KNOWN_SINKS = ("backend", "github", "slack")

#: The longest duration any `*_S` setting takes: ten years. Longer ones are typos (a value in
#: milliseconds), and past ~3e13 s a timedelta made of one overflows.
MAX_DURATION_S = 315_360_000

#: Durations SQS takes in whole seconds (a long poll's wait, a message's visibility): a whole
#: number written as a decimal (`60.0`) is read as it, a fraction refused.
WHOLE_SECOND_FIELDS = ("sqs_wait_time", "visibility_timeout_s")

#: Polling more often than this gains nothing: CloudWatch keeps no metric finer than a second,
#: and SQS's counts of a queue are approximate (they settle over about a minute).
MIN_USEFUL_INTERVAL_S = 1.0

#: Settings that are URLs of a service; each must be http(s) with a host. (BACKEND_BASE_URL
#: and GITHUB_API_URL are checked by their sinks, when a route uses them.)
URL_FIELDS = (
    "queue_url",
    "aws_endpoint_url",
    "aws_cloudwatch_endpoint",
    "aws_endpoint_url_bedrock_runtime",
    "openai_base_url",
)
#: No whitespace or control character (C0, DEL, C1) anywhere: none has a place in a URL, and an
#: HTTP library would send it as written or quote it in an error.
_HTTP_URL = re.compile(r"https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*", re.I)

#: URL settings whose requests send their own Authorization header (AWS's signature, the API
#: key, the bearer token): a user and password in the URL cannot go with it, and the HTTP
#: client refuses every request. (The queue URL is a parameter of SQS's calls, not where they
#: go; a Slack webhook sends no header of its own.)
SIGNED_URL_FIELDS = (
    "aws_endpoint_url",
    "aws_cloudwatch_endpoint",
    "aws_endpoint_url_bedrock_runtime",
    "openai_base_url",
    "backend_base_url",
    "github_api_url",
)

#: Credentials sent as an HTTP header value (an API key, a bearer token). GITHUB_TOKEN is
#: checked by the GitHub sink, when a route uses it.
HEADER_CREDENTIALS = ("openai_api_key", "api_token")
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")
#: The pairs of quotes a pasted token keeps (a .env file, JSON, a shell line, Markdown, a chat's
#: typographic ones).
_QUOTE_PAIRS = (('"', '"'), ("'", "'"), ("`", "`"), ("\u201c", "\u201d"), ("\u2018", "\u2019"))
#: A token pasted with its header's scheme (`Bearer abc…`), any case.
_SCHEME_PREFIX = re.compile(r"(bearer|basic)\s", re.IGNORECASE)

#: Credentials that are one value, not JSON: a whole Secrets Manager secret of key/value pairs
#: in one of them is refused (`whole_secret_problem`). TRIAGE_INGEST_TOKENS is JSON by design.
WHOLE_SECRET_FIELDS = (
    "openai_api_key",
    "github_token",
    "api_token",
    "slack_webhook_url",
    "github_app_private_key",
)

#: Credentials that may be given in a file instead, whose path `<VARIABLE>_FILE` names (Docker's
#: and Kubernetes' secrets are mounted as files): read at start-up, as the variable would be.
FILE_CREDENTIALS = (
    "openai_api_key",
    "github_token",
    "api_token",
    "slack_webhook_url",
    "ingest_tokens",
)


def whole_secret_problem(value: str, key: str | None = None) -> str | None:
    """Why `value`, given for a credential, is none: it is a JSON object, a whole Secrets
    Manager secret of key/value pairs as ECS injects one whose `valueFrom` names no key (ECS
    resolves `ARN:KEY::` to that key's value). Says the key to name (`key` when the secret
    has it, else its first key that reads as a name), never a value; None for anything else."""
    text = value.strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    # A key is named only when it reads as a variable's name, never as a token.
    names = [
        name
        for name in data
        if _VARIABLE.fullmatch(name)
        and not _looks_like_a_credential(name)
        and not _CREDENTIAL.search(name)
    ]
    meant = key if key in data else next(iter(names), "KEY")
    return (
        "holds a JSON object, a whole Secrets Manager secret as ECS injects one whose "
        "valueFrom names no key: store the value alone as the secret's plain text, or end "
        f"valueFrom with its key (ARN:{meant}::); the value is not repeated"
    )


#: Credentials that are URLs (a Slack webhook's path is its secret). Only their characters are
#: checked here; the Slack sink checks the URL itself when a route uses it.
URL_CREDENTIALS = ("slack_webhook_url",)

#: botocore's own check of a region name.
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?")
_REPOSITORY = re.compile(r"[\w.-]+/[\w.-]+")
_NAMESPACE = re.compile(r"[0-9A-Za-z.\-_/#: ]{1,255}")
#: DynamoDB's own characters of a table name (its length, 3 to 255, is left to DynamoDB).
_TABLE = re.compile(r"[A-Za-z0-9_.-]{1,255}")
#: A URL scheme short and plain enough to name in an error (never a value's other parts).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,19}")


def is_http_url(value: str) -> bool:
    """Whether `value` is an http:// or https:// URL with a host, and no whitespace or control
    character anywhere (what every URL setting must be)."""
    return _HTTP_URL.fullmatch(value) is not None


def authority_problem(value: str) -> str | None:
    """Why the host and port of the http(s) URL `value` are none an HTTP client can read, or
    None: an IPv6 address not closed in brackets (or no address), or a port that is no number
    from 1 to 65535. botocore, httpx and aiohttp each refuse these only at their first call, in
    words that name no setting (or with a traceback). The value is never repeated."""
    authority = re.split(r"[/?#]", value.partition("://")[2], maxsplit=1)[0]
    host_port = authority.rpartition("@")[2]
    port: str | None = None
    if host_port.startswith("[") or "]" in host_port:
        literal, closed, rest = host_port.removeprefix("[").partition("]")
        if not closed or not _is_ipv6(literal) or (rest and not rest.startswith(":")):
            return "has an IPv6 address that is not one closed in brackets (http://[::1]:4566)"
        port = rest[1:] if rest else None
    elif host_port.count(":") > 1:
        return "has an IPv6 address without brackets: write it as http://[::1]:4566"
    elif ":" in host_port:
        port = host_port.rpartition(":")[2]
    if port and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        return "has a port that is no number from 1 to 65535"
    return None


def _is_ipv6(literal: str) -> bool:
    """Whether `literal` (what a URL holds between brackets) is an IPv6 address; a zone id is
    written %25<zone> in a URL."""
    try:
        ipaddress.IPv6Address(literal.replace("%25", "%", 1))
    except ValueError:
        return False
    return True


#: Settings that name a file.
PATH_FIELDS = ("routes_file", "patterns_file", "github_app_private_key_file")
#: A variable a shell would expand: $NAME or ${NAME} (a lower-case `$name` is left alone: file
#: names rarely hold one, and variables are written in capitals).
_SHELL_VARIABLE = re.compile(r"\$(?:\{[^}]*\}?|[A-Z_][A-Z0-9_]*)")


def path_problem(value: str) -> str | None:
    """Why `value` is no path a process opens as written, or None: a file:// URL, a leading ~
    or a $VARIABLE, which a browser or a shell reads but env files, ECS and systemd pass on as
    they are (Path would take `file:///etc/x` as file:/etc/x, `~/x` as ./~/x), failing later
    as a missing file under a name no one wrote."""
    if value.lower().startswith("file:"):
        return "is a file:// URL: give the path alone, without file:// (/etc/triage/x.toml)"
    if value.startswith("~"):
        return "starts with ~, which only a shell expands: give the whole path"
    variable = _SHELL_VARIABLE.search(value)
    if variable is not None:
        return (
            f"holds {variable[0][:40]}, which only a shell expands (env files, ECS and systemd "
            "do not): give the whole path"
        )
    return None


#: How a queue URL looks, said by each refusal of one.
QUEUE_URL_FORM = "https://sqs.REGION.amazonaws.com/ACCOUNT/NAME"


def queue_url_problem(value: str) -> str | None:
    """Why `value` is no SQS queue URL (http(s) with a host; a local endpoint's too), or None.
    An ARN or a bare name is answered with how to get the URL: SQS takes neither as one. The
    value is never repeated."""
    if value.startswith("arn:"):
        return (
            f"must be an http:// or https:// URL with a host, not an ARN: give {QUEUE_URL_FORM} "
            "(`aws sqs get-queue-url --queue-name NAME` prints it)"
        )
    odd = next((i for i, c in enumerate(value) if not (c.isascii() and c.isprintable())), None)
    if odd is not None:
        # A zero-width space, a non-breaking hyphen, full-width digits: invisible in a terminal,
        # and SQS would answer QueueDoesNotExist (or no endpoint) at every receive.
        return (
            f"has a character no queue URL has (U+{ord(value[odd]):04X} at {odd + 1}), as a "
            "page or a chat may add to a pasted one: type it again, or paste it from "
            "`aws sqs get-queue-url`"
        )
    if not is_http_url(value):
        return f"must be an http:// or https:// URL with a host, such as {QUEUE_URL_FORM}"
    return None


def as_written(value: str) -> str:
    """An environment variable's value as a person means it: without the whitespace around it,
    then without one pair of quotes around it all (`"sk-…"`, `'…'`) that has no quote of its
    kind inside. `docker run --env-file`, systemd and ECS environment files keep quotes a shell
    or compose would drop, and an API key sent with them is refused at every call."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return inner.strip() if value[0] not in inner else value
    return value


#: A comment after a value, as a shell and compose read one: `#` after whitespace.
_TRAILING_COMMENT = re.compile(r"\s#")
#: A value that is wholly a reference to another variable, `$NAME` or `${NAME}`.
_REFERENCE = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})")


def env_file_slip(value: str, secret: bool = False) -> str:
    """What an env file read by `docker run --env-file` or ECS (which keep a line's comment
    and expand no reference, where a shell and compose do) left in `value`, said without it;
    "" when nothing. A `secret`'s own checks refuse a space inside, so a comment is theirs."""
    if _REFERENCE.fullmatch(as_written(value)):
        return (
            "is a $VARIABLE reference no one expanded (`docker run --env-file` and ECS "
            "environment files do not; a shell and compose do): give the value itself"
        )
    if not secret and env_file_comment(value):
        return (
            "ends with ` # …`, an env file's comment that `docker run --env-file` and ECS "
            "environment files keep in the value: put the comment on a line of its own (or "
            "quote the whole value when ` #` is its own)"
        )
    return ""


def env_file_comment(value: str) -> bool:
    """Whether `value` ends with an env file's comment (`gpt-4o-mini # cheap`), which a shell
    and compose drop but `docker run --env-file`, ECS environment files and systemd keep in
    the value. A `#` inside a word (`Alert#Triage`) or inside quotes around the whole value
    (`"a # b"`) is the value's own."""
    value = value.strip()
    return not quoted(value) and _TRAILING_COMMENT.search(value) is not None


def quoted(text: str) -> bool:
    """Whether `text` starts and ends with a matching pair of quotes (one quote at one end
    only is part of a token: generated passwords hold punctuation)."""
    return len(text) >= 2 and any(
        text.startswith(opening) and text.endswith(closing) for opening, closing in _QUOTE_PAIRS
    )


def pasted_fault(token: str) -> str | None:
    """Why `token` is no token a client presents as `Bearer <token>` (it is wrapped in a pair
    of quotes, or starts with its header's scheme), else None; never quotes the token. The
    operator API's token and the gateway's (`ingest_tokens`) are refused for these alike."""
    if quoted(token):
        return (
            "is wrapped in quotes: store it without them "
            "(a generated token that starts and ends with a quote: generate another)"
        )
    scheme = _SCHEME_PREFIX.match(token)
    if scheme is not None:
        return (
            f"starts with '{scheme.group(1).capitalize()} ': store the token alone "
            "(the client adds the scheme)"
        )
    return None


#: P0..P3, as alerts and people write priorities, to the words Priority uses.
_P_LEVELS = {"p0": "critical", "p1": "high", "p2": "medium", "p3": "low"}


def _priority_word(value: object) -> object:
    """`High`, `P1` and `p1` as `high`; anything else as it is, for the enum to judge."""
    if isinstance(value, str):
        word = value.strip().lower()
        return _P_LEVELS.get(word, word)
    return value


def _whole_seconds(value: object) -> object:
    """A whole number of seconds written as a decimal (`60.0`, `60.`) as the integer; a
    fraction (`60.5`) refused saying so; anything else as it is, for the integer check."""
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
    if not isinstance(number, float) or not math.isfinite(number):
        return value
    if not number.is_integer():
        raise ValueError(f"must be whole seconds (SQS takes no fractions), not {number:g}")
    return int(number)


#: A number written with an exponent (`1e9`, `2.5E1`), which an integer setting's check would
#: call no whole number whatever its value.
_EXPONENT_FORM = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+")


def _whole_in_exponent_form(value: object) -> object:
    """A whole number written with an exponent (`1e9`, `1E3`) as the integer, so a count past
    its bound is refused saying the bound, not "expected a whole number"; anything else as it
    is (a fraction, `2.5e0`, then refused as no whole number)."""
    if not isinstance(value, str) or not _EXPONENT_FORM.fullmatch(value.strip()):
        return value
    number = float(value)
    return int(number) if math.isfinite(number) and number.is_integer() else value


def did_you_mean(given: object, choices: Iterable[str]) -> str:
    """`; did you mean 'word'?` when `given` is a typo of one of `choices` (any case), else
    "". Only a choice is ever quoted, never what was given: a value typed into the wrong
    setting may be a credential."""
    if not isinstance(given, str):
        return ""
    words = [str(choice) for choice in choices]
    meant = difflib.get_close_matches(given.strip().lower(), words, n=1, cutoff=0.6)
    return f"; did you mean {meant[0]!r}?" if meant else ""


def _sinks_listed_otherwise(parts: Iterable[str]) -> list[str]:
    """The sinks meant by TRIAGE_SINKS's comma-split `parts` when they are known sinks listed
    another way (apart by spaces or `;`, quoted, a JSON list `["backend","github"]`), each
    once in the order given; [] when some word is no sink, or a single sink is meant (a typo
    of one is `did_you_mean`'s). A guess of one sink would drop the others."""
    words = re.findall(r"[^\s,;\[\]\"'`]+", ",".join(parts))
    if not words or any(word not in KNOWN_SINKS for word in words):
        return []
    listed = list(dict.fromkeys(words))
    return listed if len(listed) > 1 else []


def _env(name: str) -> AliasChoices:
    # AliasChoices with the field name too, so tests can build Settings(queue_url=...).
    return AliasChoices(name)


class Settings(BaseSettings):
    """Every setting of the daemon; the README's table is generated from the same names."""

    model_config = SettingsConfigDict(
        env_prefix="TRIAGE_",
        case_sensitive=False,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        # inf and nan are no durations: an infinite grace never ends a drain, and an infinite
        # interval overflows the first timedelta made of it.
        allow_inf_nan=False,
    )

    # --- AWS -------------------------------------------------------------------------------
    queue_url: str | None = Field(None, validation_alias=_env("ALERT_TRIAGE_QUEUE_URL"))
    #: AWS_REGION, else AWS_DEFAULT_REGION (the AWS CLI's and SDKs' own fallback).
    aws_region: str = Field(
        "us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    aws_endpoint_url: str | None = Field(None, validation_alias=_env("AWS_ENDPOINT_URL"))
    aws_cloudwatch_endpoint: str | None = Field(
        None, validation_alias=_env("AWS_CLOUDWATCH_ENDPOINT")
    )
    cloudwatch_namespace: str = Field("AlertTriage", validation_alias=_env("CLOUDWATCH_NAMESPACE"))
    sqs_wait_time: int = Field(20, ge=0, le=20, validation_alias=_env("SQS_WAIT_TIME"))
    sqs_max_messages: int = Field(10, ge=1, le=10, validation_alias=_env("SQS_MAX_MESSAGES"))

    # --- Ticket backend --------------------------------------------------------------------
    backend_base_url: str = Field(
        "http://localhost:4000", validation_alias=_env("BACKEND_BASE_URL")
    )
    backend_service_route: str = Field(
        "/api/service/tickets", validation_alias=_env("BACKEND_SERVICE_ROUTE")
    )
    backend_token_secret_id: str | None = Field(
        None, validation_alias=_env("BACKEND_TOKEN_SECRET_ID")
    )
    backend_token_env_key: str = Field(
        "BACKEND_TOKEN", validation_alias=_env("BACKEND_TOKEN_ENV_KEY")
    )
    backend_timeout_s: float = Field(10.0, gt=0)
    #: Optional routes for later effects; `{ref}` is replaced by the ticket id the create returned.
    backend_update_route: str | None = None
    backend_resolve_route: str | None = None
    #: How long a token read from Secrets Manager is reused before it is read again.
    backend_token_ttl_s: float = Field(300.0, gt=0)

    # --- GitHub ----------------------------------------------------------------------------
    #: "owner/name"; a route's `repository` overrides it.
    github_repository: str | None = Field(None, validation_alias=_env("GITHUB_REPOSITORY"))
    github_token: SecretStr | None = Field(None, validation_alias=_env("GITHUB_TOKEN"))
    github_api_url: str = Field("https://api.github.com", validation_alias=_env("GITHUB_API_URL"))
    #: Where people open the issues, an origin (`https://ghe.example`); every reference kept is
    #: built there. Unset, it is read from GITHUB_API_URL, unless that is a proxy (`refs.py`).
    github_web_url: str | None = Field(None, validation_alias=_env("GITHUB_WEB_URL"))
    #: A GitHub App instead of a token: its id, private key (PEM text or a file) and installation.
    github_app_id: str | None = Field(None, validation_alias=_env("GITHUB_APP_ID"))
    github_app_private_key: SecretStr | None = Field(
        None, validation_alias=_env("GITHUB_APP_PRIVATE_KEY")
    )
    github_app_private_key_file: Path | None = Field(
        None, validation_alias=_env("GITHUB_APP_PRIVATE_KEY_FILE")
    )
    github_app_installation_id: int | None = Field(
        None, ge=1, validation_alias=_env("GITHUB_APP_INSTALLATION_ID")
    )
    github_timeout_s: float = Field(10.0, gt=0)
    #: Issue creations per repository: a burst budget and an hourly one.
    github_create_per_minute: int = Field(20, ge=1)
    github_create_per_hour: int = Field(150, ge=2)
    #: Past the hourly budget, new incidents are listed in one digest issue per repository.
    github_storm_digest: bool = True
    #: An issue a person closed is neither commented on nor reopened for this long.
    github_hand_closed_hold_s: float = Field(86_400.0, ge=0)

    # --- LLM -------------------------------------------------------------------------------
    openai_api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    openai_model: str = Field("gpt-4o-mini", validation_alias=_env("OPENAI_MODEL"))
    #: Any OpenAI-compatible server (…/v1), or Azure OpenAI: a deployment's URL
    #: (…/openai/deployments/<name>, its api-version query kept) or the v1 API (…/openai/v1);
    #: a query is sent with every request (`summarise/endpoint.py`).
    openai_base_url: str | None = Field(None, validation_alias=_env("OPENAI_BASE_URL"))
    llm_timeout_s: float = Field(20.0, gt=0)
    llm_concurrency: int = Field(4, ge=1)
    #: Budget for the alert in the prompt's user message, in estimated tokens (`prompt.tokens`).
    llm_max_input_tokens: int = Field(1500, ge=200)
    llm_retries: int = Field(2, ge=0)
    llm_breaker_failures: int = Field(5, ge=1)
    llm_breaker_reset_s: float = Field(30.0, gt=0)
    #: Regex → category → steps file for the deterministic summariser (default: the bundled one).
    patterns_file: Path | None = None

    # --- LLM provider: OpenAI or Bedrock (README "The LLM summariser") -----------------------
    #: openai | bedrock | none; unset: openai when OPENAI_API_KEY is set, else none (see `llm`).
    llm_provider: Literal["openai", "bedrock", "none"] | None = None
    #: The model or inference profile Bedrock's Converse API runs; called with the default
    #: credential chain (the task role on ECS), in AWS_REGION.
    bedrock_model_id: str = Field("anthropic.claude-3-haiku-20240307-v1:0", min_length=1)
    #: Bedrock Runtime's endpoint (a VPC endpoint, a stand-in); unset: AWS_ENDPOINT_URL, else AWS's.
    aws_endpoint_url_bedrock_runtime: str | None = Field(
        None, validation_alias=_env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
    )

    # --- Slack -----------------------------------------------------------------------------
    #: The default incoming webhook; a route's `webhook_url` overrides it. A credential: never logged.
    slack_webhook_url: SecretStr | None = Field(None, validation_alias=_env("SLACK_WEBHOOK_URL"))
    #: Tickets below this priority are not posted, nor are their reopens and closes.
    slack_min_priority: Annotated[Priority, BeforeValidator(lambda v: _priority_word(v))] = (
        Priority.HIGH
    )
    slack_timeout_s: float = Field(10.0, gt=0)
    #: Slack accepts about one message a second per webhook; posts to one webhook are spaced so.
    slack_min_interval_s: float = Field(1.0, ge=0)

    # --- Daemon ----------------------------------------------------------------------------
    concurrency: int = Field(16, ge=1, le=1024)
    store_url: str = "sqlite:///triage.db"
    #: The default route: sinks for alerts that no rule of the routes file matches.
    sinks: Annotated[tuple[str, ...], NoDecode] = ("backend",)
    #: A TOML routes file (see README "Routing"); unset means every alert goes to `sinks`.
    routes_file: Path | None = None
    #: A sink's circuit breaker opens after this many failed calls in a row; while it is open
    #: the daemon takes no new messages, and after `sink_breaker_reset_s` one probe goes out.
    sink_breaker_failures: int = Field(5, ge=1)
    sink_breaker_reset_s: float = Field(30.0, gt=0)
    #: `emf` (lines on stdout), `cloudwatch` (PutMetricData; implied by AWS_CLOUDWATCH_ENDPOINT), `off`.
    metrics: Literal["emf", "cloudwatch", "off"] = "emf"
    metrics_interval_s: float = Field(60.0, gt=0)
    # --- Observability (issue 17) -----------------------------------------------------------
    #: How often the depth of the queue and its DLQ is polled for the gauges (0: never).
    queue_depth_poll_s: float = Field(30.0, ge=0)
    #: /healthz, /readyz and /metrics; 0 turns the endpoints off.
    http_port: int = Field(8080, ge=0, le=65535)
    #: Loopback: the container health check runs inside the container; set 0.0.0.0 only
    #: where something outside it (a published port, a scraper) must reach the endpoints.
    http_host: str = "127.0.0.1"
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    #: On SIGTERM: in-flight messages get this long to finish …
    shutdown_grace_s: float = Field(23.0, ge=0)
    #: … then the rest are cancelled and released within this long (grace + this + 1 s for
    #: the last deletes + 1 s each for the last metrics flush and the spans: 29 s, inside
    #: ECS's 30 s stop timeout).
    shutdown_cancel_s: float = Field(3.0, gt=0)
    #: A failed message is released for base * 2**(receives-1) seconds, jittered, capped.
    retry_base_s: float = Field(2.0, ge=0)
    retry_max_s: float = Field(300.0, ge=0)
    #: After a failed ReceiveMessage, the next waits base * 2**(failures-1) s, jittered, capped.
    receive_retry_base_s: float = Field(1.0, ge=0)
    receive_retry_max_s: float = Field(30.0, ge=0)
    #: Messages are hidden this long on receive, and extended by a heartbeat while worked on;
    #: above 21585 s it is clamped to that (one warning at start-up).
    visibility_timeout_s: int = Field(60, ge=3, le=43_200)
    #: A message still unfinished after this long is cancelled and retried later.
    message_timeout_s: float = Field(120.0, gt=0)
    #: How long a worker owns an incident's pending effect before another may take it over.
    #: Longer than message_timeout_s, so only a crashed worker's effect is ever taken over.
    effect_lease_s: float = Field(150.0, gt=0)

    # --- Incident lifecycle ----------------------------------------------------------------
    update_interval_s: float = Field(900.0, ge=0)
    reopen_window_s: float = Field(3600.0, ge=0)
    flap_threshold: int = Field(3, ge=1)
    #: A flapping incident's tickets are closed only once it has stayed resolved this long (a
    #: firing meanwhile is counted, with no reopen); unset: TRIAGE_REOPEN_WINDOW_S; 0: at once.
    flap_quiet_s: float | None = Field(None, ge=0)
    closed_ttl_s: float = Field(30 * 86400.0, gt=0)
    #: An event time further than this ahead of when its message was queued is replaced
    #: (logged with the original): a sender stamps before it sends, so a clock running fast
    #: must not order events.
    max_future_skew_s: float = Field(5.0, ge=0)

    # --- The operator's view (API, status page, silences, the sweep) ------------------------
    #: Bearer token of `/api/v1/…` and the status page `/` on TRIAGE_HTTP_PORT; unset: both
    #: are off (the health endpoints stay open). A credential: never logged.
    api_token: SecretStr | None = None
    #: Proxies in front of TRIAGE_HTTP_PORT that append the address they saw to
    #: X-Forwarded-For (an ALB, nginx's `proxy_add_x_forwarded_for`: 1). The address the
    #: wrong-token limit counts is that entry; 0: the connection's peer. A setting of its own,
    #: not the gateway's: the ports are separate processes, usually behind separate proxies
    #: (or none), and a port without the proxy would let a client name any address it likes.
    http_trusted_proxy_hops: int = Field(0, ge=0, le=10)
    #: Silences are re-read from the store at most this long apart: a silence added or
    #: expired on one replica is honoured by every other within this long.
    silence_cache_s: float = Field(1.0, gt=0, le=60)
    #: How often each replica looks for held effects to let go, abandoned ones and escalations.
    sweep_interval_s: float = Field(5.0, gt=0)

    # --- Ingest gateway (`triage ingest`) ------------------------------------------------------
    #: Where `POST /v1/alerts/{source}`, /healthz and /readyz listen (0: any free port).
    ingest_host: str = "0.0.0.0"
    ingest_port: int = Field(8081, ge=0, le=65535)
    #: Secrets Manager JSON secret {"grafana": "…", "alertmanager": "…", "sentry": "<client
    #: secret>", …}; else the same JSON in `ingest_tokens`. A source without a token is off.
    ingest_tokens_secret_id: str | None = None
    ingest_tokens: SecretStr | None = None
    #: Tokens from Secrets Manager are reused this long; a credential that fails re-reads them
    #: at most once per `ingest_tokens_refresh_s`, so a rotation needs no restart.
    ingest_tokens_ttl_s: float = Field(300.0, gt=0)
    ingest_tokens_refresh_s: float = Field(5.0, gt=0)
    #: Requests per second per source; a burst of five seconds' worth passes.
    ingest_rate_per_s: float = Field(20.0, gt=0)
    #: How long the first body of a SendMessageBatch waits for others to join it.
    ingest_linger_ms: float = Field(5.0, ge=0, le=1000)
    #: A connection without a request in hand is closed after this: idle between requests, or
    #: still sending a request's head (a client trickling its headers is cut, however often it
    #: sends a byte). Keep it above a load balancer's idle timeout (an ALB's is 60 s), or the
    #: balancer may send a request on a connection the gateway is closing (a 502).
    ingest_idle_timeout_s: float = Field(75.0, gt=0)
    #: Connections the gateway keeps open at once (fewer when `ulimit -n` leaves less room
    #: beside 256 descriptors); past it, the longest idle is closed for a new one, or, with none
    #: idle, the new one is answered 503. About 10 KiB each.
    ingest_max_connections: int = Field(4096, ge=1, le=1_000_000)
    #: Proxies in front of the gateway that append the address they saw to X-Forwarded-For (an
    #: ALB: 1). The sender's address, for its share of the budget for bodies read before they
    #: can be authenticated, is that entry; 0: the connection's peer is the sender. Set it only
    #: behind such a proxy: without one, a sender could name any address it likes.
    ingest_trusted_proxy_hops: int = Field(0, ge=0, le=10)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then the environment under each setting's documented name only
        (`_DocumentedNames`); no .env or secrets directory is read."""
        return init_settings, _DocumentedNames(settings_cls)

    @model_validator(mode="before")
    @classmethod
    def _as_written(cls, data: Any) -> Any:
        """Values as a person means them: whitespace around a value is dropped (a secret pasted
        with its newline, `INFO ` from a hand-edited file), then one pair of quotes around it,
        and a blank value is unset."""
        if not isinstance(data, Mapping):
            return data
        slips = [
            f"{env_name(field)}: {slip}"
            for key, value in data.items()
            if (field := _field_named(key)) is not None
            and isinstance(value, str)
            and (slip := env_file_slip(value, secret=field in _SECRET_FIELDS))
        ]
        if slips:
            raise ValueError("; ".join(slips))
        values = {k: as_written(v) if isinstance(v, str) else v for k, v in data.items()}
        return {k: v for k, v in values.items() if v != ""}

    @model_validator(mode="before")
    @classmethod
    def _no_credential_out_of_place(cls, data: Any) -> Any:
        """A credential in a setting that is no secret (an access key in AWS_REGION, the line
        beside it in an env file; a token in OPENAI_MODEL) is refused naming the variable
        only: that setting's own check, `triage check` or a log line would quote it back.
        Runs before every other check, as several of them quote a short value."""
        if not isinstance(data, Mapping):
            return data
        for key, value in data.items():
            field = _field_named(key)
            if field is None or field in _SECRET_FIELDS or not isinstance(value, str):
                continue
            if _CREDENTIAL.search(value) or (
                field not in _NAMES_OF_SECRETS and _AWS_SECRET_KEY.search(value)
            ):
                raise ValueError(
                    f"{env_name(field)}: looks like a credential (an access key or token), "
                    "which belongs in its own variable; the value is not repeated"
                )
        return data

    @field_validator(*WHOLE_SECOND_FIELDS, mode="before")
    @classmethod
    def _whole(cls, value: object) -> object:
        return _whole_seconds(value)

    @field_validator("*", mode="before")
    @classmethod
    def _count(cls, value: object, info: ValidationInfo) -> object:
        """An integer setting's whole number written with an exponent, read as it."""
        if info.field_name is None or cls.model_fields[info.field_name].annotation is not int:
            return value
        return _whole_in_exponent_form(value)

    @field_validator(*URL_FIELDS)
    @classmethod
    def _http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        # The value is not repeated: a URL may carry a user and password.
        if value is None:
            return value
        if info.field_name == "queue_url":
            problem = queue_url_problem(value)
            if problem is not None:
                raise ValueError(problem)
        if not _HTTP_URL.fullmatch(value):
            raise ValueError("must be an http:// or https:// URL with a host")
        problem = authority_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("backend_base_url", "github_api_url")
    @classmethod
    def _sink_url_authority(cls, value: str) -> str:
        # The sinks check the rest of these when a route uses them; a port that is no number
        # or an IPv6 address not closed is refused here, before an HTTP client raises on it
        # (with a traceback, in `triage check`) or names no setting.
        problem = authority_problem(value) if _HTTP_URL.fullmatch(value) else None
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator(*SIGNED_URL_FIELDS)
    @classmethod
    def _no_user_and_password(cls, value: str | None) -> str | None:
        # The authority: what follows the scheme, up to the path, query or fragment.
        authority = re.split(r"[/?#]", value.partition("://")[2], maxsplit=1)[0] if value else ""
        if "@" in authority:
            raise ValueError(
                "must not carry a user and password (user:password@): its requests send "
                "their own credentials, and the HTTP client refuses both"
            )
        return value

    @field_validator("backend_service_route", "backend_update_route", "backend_resolve_route")
    @classmethod
    def _backend_route(cls, value: str | None, info: ValidationInfo) -> str | None:
        problem = None if value is None else backend_route_problem(value, info.field_name)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("openai_model", "bedrock_model_id")
    @classmethod
    def _model_id(cls, value: str, info: ValidationInfo) -> str:
        # No server names a model with whitespace or a control character inside (fine-tuned,
        # Hugging Face, Ollama and Bedrock ids have none): such a value is a YAML block or a
        # sentence pasted on the line, and every call would be refused, each summary then
        # the deterministic one. The value is not repeated: it may be what was pasted.
        if any(c.isspace() or not c.isprintable() for c in value):
            example = cls.model_fields[str(info.field_name)].default
            raise ValueError(
                "has whitespace or a control character inside it: give the model's id as the "
                f"server names it (such as {example})"
            )
        return value

    @field_validator("backend_token_env_key")
    @classmethod
    def _variable_name(cls, value: str) -> str:
        # Never repeated: the token itself, pasted on the wrong line, is the likely mistake,
        # and `no backend token: set <this>` would print it.
        if not _VARIABLE.fullmatch(value) or _looks_like_a_credential(value):
            raise ValueError(
                "must be the name of the variable that holds the backend token (such as "
                "BACKEND_TOKEN: letters, digits and _), not the token"
            )
        return value

    @field_validator(*PATH_FIELDS, mode="before")
    @classmethod
    def _path_as_a_path(cls, value: object) -> object:
        problem = path_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("http_host", "ingest_host")
    @classmethod
    def _listen_host(cls, value: str) -> str:
        inner = value[1:-1] if value.startswith("[") and value.endswith("]") else ""
        if inner and _is_ipv6(inner):
            # As a URL writes it; the listener takes the address alone.
            raise ValueError(f"write the IPv6 address without brackets: {inner}")
        if not _is_host(value):
            raise ValueError(
                "must be an IP address or host name to listen on (0.0.0.0 or :: for every "
                "address), without a scheme or port"
            )
        return value

    @field_validator("github_web_url")
    @classmethod
    def _web_origin(cls, value: str | None) -> str | None:
        problem = None if value is None else web_origin_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("store_url")
    @classmethod
    def _store(cls, value: str) -> str:
        # Checked here, before any command opens it, so that the error never quotes the value:
        # a URL of another database (postgres://user:password@…) carries its password.
        return store_url(value)

    @field_validator("cloudwatch_namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        # CloudWatch's own rules: PutMetricData and EMF refuse any other namespace, and every
        # flush would fail (metrics lost, one warning a minute).
        if not _NAMESPACE.fullmatch(value) or value.upper().startswith("AWS/"):
            raise ValueError(
                "must be at most 255 of A-Z a-z 0-9 . - _ / # : and space, not starting AWS/"
            )
        return value

    @field_validator("aws_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _REGION.fullmatch(value):
            raise ValueError(f"{_shown_region(value)} is not an AWS region name (e.g. eu-west-1)")
        if value != value.lower():
            # botocore signs each call for the region as written, and AWS, whose regions are
            # all lower case, refuses every signature far from this setting. Refused, not
            # lowered: the SDKs and the AWS CLI beside triage read the same variable as written.
            if not _region_attempt(value):
                raise ValueError(
                    f"{_shown_region(value)} is not an AWS region name (e.g. eu-west-1)"
                )
            raise ValueError(f"AWS region names are lower case: set {value.lower()}")
        return value

    @field_validator("backend_token_secret_id", "ingest_tokens_secret_id")
    @classmethod
    def _secrets_manager_id(cls, value: str | None) -> str | None:
        problem = None if value is None else secret_id_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("github_api_url")
    @classmethod
    def _github_api(cls, value: str) -> str:
        problem = github_api_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("github_repository")
    @classmethod
    def _repository(cls, value: str | None) -> str | None:
        if value is not None and not _REPOSITORY.fullmatch(value):
            # Without a `/` it is no attempt at owner/name, and may be the token from the line
            # next to it in the env file: not quoted.
            if "/" not in value:
                raise ValueError("has no /: expected owner/name (e.g. acme/ops)")
            raise ValueError(f"{value[:100]!r} is not owner/name")
        return value

    @field_validator(*WHOLE_SECRET_FIELDS, mode="before")
    @classmethod
    def _not_a_whole_secret(cls, value: object) -> object:
        # Before the other checks: a compact JSON object has no space or quote pair to be
        # refused for, and would be sent as the credential at every request.
        problem = whole_secret_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("api_token", "openai_api_key", "github_token")
    @classmethod
    def _token_as_presented(cls, value: SecretStr | None) -> SecretStr | None:
        # Each is sent alone after its header's scheme: one still wrapped in quotes (what is
        # left after `as_written` took one pair off) or pasted with its scheme would make every
        # request a 401 (the operator's, the model's, GitHub's) with no hint. Refused, not
        # repaired: a generated token may start and end with a quote, and the operator's copy
        # may keep what was pasted.
        fault = pasted_fault(value.get_secret_value()) if value is not None else None
        if fault is not None:
            raise ValueError(fault)
        return value

    @field_validator(*HEADER_CREDENTIALS)
    @classmethod
    def _header_safe(cls, value: SecretStr | None) -> SecretStr | None:
        # A credential goes in an HTTP header, where a line break or a space inside it makes
        # the HTTP library raise an error that quotes the header; refuse it here, unquoted.
        if value is not None and not _HEADER_SAFE.fullmatch(value.get_secret_value()):
            raise ValueError("has whitespace, control or non-ASCII characters inside it")
        return value

    @field_validator(*URL_CREDENTIALS)
    @classmethod
    def _url_safe(cls, value: SecretStr | None) -> SecretStr | None:
        # A space or a control character inside a pasted webhook URL would be sent, encoded, as
        # part of another URL: every post refused, or quoted by the HTTP library's error.
        secret = value.get_secret_value() if value is not None else ""
        if secret and not _HEADER_SAFE.fullmatch(secret):
            raise ValueError("has whitespace, control or non-ASCII characters inside it")
        return value

    @field_validator("receive_retry_base_s")
    @classmethod
    def _receive_backoff_pauses(cls, value: float) -> float:
        # 0 doubles to 0: SQS refusing at once (a permission gone, an endpoint down) would
        # be asked again without pause, a busy loop of calls for the whole outage.
        if value == 0:
            raise ValueError(
                "must be more than 0: a failed receive would be retried without pause, over "
                "and over for as long as SQS fails (0.1 is short and still backs off)"
            )
        return value

    @field_validator("sinks", mode="before")
    @classmethod
    def _split_sinks(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("sinks")
    @classmethod
    def _known_sinks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError(f"names no sink; known: {', '.join(KNOWN_SINKS)}")
        unknown = sorted(set(value) - set(KNOWN_SINKS))
        if unknown:
            # A name as long as no sink's is more likely a token pasted on the wrong line; one
            # holding a line break or control character is quoted, so the refusal stays a line.
            named = [
                f"({len(name)} characters)"
                if len(name) > 20
                else name
                if name.isprintable()
                else repr(name)
                for name in unknown
            ]
            meant = did_you_mean(unknown[0], KNOWN_SINKS) if len(unknown) == 1 else ""
            listed = _sinks_listed_otherwise(value)
            if listed:
                meant = f"; separate sinks with commas: {','.join(listed)!r}"
            raise ValueError(
                f"unknown sink(s) {', '.join(named)}; known: {', '.join(KNOWN_SINKS)}{meant}"
            )
        return value

    @field_validator("log_format", "log_level", "metrics", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("llm_provider", mode="before")
    @classmethod
    def _provider(cls, value: object) -> object:
        # Empty (`TRIAGE_LLM_PROVIDER=` in an env file) means unset: the default applies.
        if isinstance(value, str):
            return value.strip().lower() or None
        return value

    @property
    def metrics_mode(self) -> str:
        if self.metrics == "emf" and self.aws_cloudwatch_endpoint:
            return "cloudwatch"
        return self.metrics

    @property
    def llm(self) -> Literal["openai", "bedrock", "none"]:
        """The LLM that writes new tickets: TRIAGE_LLM_PROVIDER, else openai when
        OPENAI_API_KEY is set, else none (the deterministic summariser alone)."""
        if self.llm_provider is not None:
            return self.llm_provider
        return "openai" if self._has_openai_key else "none"

    @property
    def _has_openai_key(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())

    @model_validator(mode="after")
    def _one_github_app_key(self) -> Settings:
        if self.github_app_private_key is not None and self.github_app_private_key_file:
            raise ValueError(
                "GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_FILE are both set: set one "
                "(the key's text, or the file holding it)"
            )
        return self

    @model_validator(mode="after")
    def _openai_has_a_key(self) -> Settings:
        if self.llm_provider == "openai" and not self._has_openai_key:
            raise ValueError("TRIAGE_LLM_PROVIDER=openai needs OPENAI_API_KEY")
        return self

    @model_validator(mode="after")
    def _api_token_is_not_guessable(self) -> Settings:
        token = self.api_token.get_secret_value() if self.api_token else ""
        if token and len(token) < MIN_API_TOKEN_CHARS:
            raise ValueError(
                f"TRIAGE_API_TOKEN must be at least {MIN_API_TOKEN_CHARS} characters "
                "(it opens the API and the status page; e.g. `openssl rand -hex 24`)"
            )
        return self

    @model_validator(mode="after")
    def _durations_are_bounded(self) -> Settings:
        for name, value in self:
            if name.endswith("_s") and isinstance(value, int | float) and value > MAX_DURATION_S:
                raise ValueError(
                    f"{env_name(name)} ({value:g}) is more than ten years ({MAX_DURATION_S} s)"
                )
        return self

    @model_validator(mode="after")
    def _retry_base_within_max(self) -> Settings:
        # Above the cap, every retry would wait the cap: not what a larger base asks for.
        if self.retry_base_s > self.retry_max_s:
            raise ValueError(
                f"TRIAGE_RETRY_BASE_S ({self.retry_base_s:g}) must be at most "
                f"TRIAGE_RETRY_MAX_S ({self.retry_max_s:g}), the longest a retry waits"
            )
        if self.receive_retry_base_s > self.receive_retry_max_s:
            raise ValueError(
                f"TRIAGE_RECEIVE_RETRY_BASE_S ({self.receive_retry_base_s:g}) must be at most "
                f"TRIAGE_RECEIVE_RETRY_MAX_S ({self.receive_retry_max_s:g}), the longest a"
                " failed receive waits"
            )
        return self

    @model_validator(mode="after")
    def _region_aws_has(self) -> Settings:
        # botocore takes any name of letters, digits and dashes, and builds AWS's hosts from it
        # (sqs.useast1.amazonaws.com): every call would fail as a network error. A local
        # endpoint (LocalStack, moto) takes any name, so only calls to AWS are guarded.
        custom = self.aws_endpoint_url or os.environ.get("AWS_ENDPOINT_URL_SQS")
        if custom or _AWS_REGION_NAME.fullmatch(self.aws_region):
            return self
        shown = _shown_region(self.aws_region, "it")
        raise ValueError(
            f"AWS_REGION: {shown} is no AWS region's name (area-direction-number, such as "
            "eu-west-1 or us-gov-west-1); set AWS_ENDPOINT_URL if it names a local one"
        )

    @model_validator(mode="after")
    def _queue_in_the_region(self) -> Settings:
        # botocore sends SQS's JSON calls to AWS_REGION's endpoint whatever host the queue URL
        # names, so a queue in another region answers "does not exist".
        problem = self.queue_region_problem(self.queue_url, "ALERT_TRIAGE_QUEUE_URL")
        if problem is not None:
            raise ValueError(problem)
        return self

    def queue_region_problem(self, url: str | None, named: str) -> str | None:
        """Why the queue `url` (given as `named`) cannot be reached: it is an AWS queue of
        another region than AWS_REGION, whose endpoint botocore sends SQS's calls to (unless
        AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_SQS names another); None when it can."""
        region = _queue_region(url)
        custom = self.aws_endpoint_url or os.environ.get("AWS_ENDPOINT_URL_SQS")
        if region is None or custom or region == self.aws_region:
            return None
        return (
            f"{named} names a queue in {region} but AWS_REGION is {self.aws_region}: SQS calls "
            f"go to AWS_REGION's endpoint; set AWS_REGION={region}"
        )

    @model_validator(mode="after")
    def _flap_quiet_within_closed_ttl(self) -> Settings:
        # A damped incident is closed in the store while its held close waits, and the store
        # deletes closed incidents after the TTL: deleted first, its ticket would stay open.
        quiet = self.reopen_window_s if self.flap_quiet_s is None else self.flap_quiet_s
        if quiet >= self.closed_ttl_s:
            unset = " (unset: TRIAGE_REOPEN_WINDOW_S)" if self.flap_quiet_s is None else ""
            raise ValueError(
                f"TRIAGE_FLAP_QUIET_S{unset} ({quiet:g}) must be shorter than "
                f"TRIAGE_CLOSED_TTL_S ({self.closed_ttl_s:g}): a flapping incident's held "
                "close would be deleted with it"
            )
        return self

    @model_validator(mode="after")
    def _lease_outlives_message(self) -> Settings:
        if self.effect_lease_s <= self.message_timeout_s:
            raise ValueError(
                f"TRIAGE_EFFECT_LEASE_S ({self.effect_lease_s:g}) must be longer than "
                f"TRIAGE_MESSAGE_TIMEOUT_S ({self.message_timeout_s:g})"
            )
        return self

    def require(self, *fields: str) -> None:
        """Raise ConfigError naming every listed setting that is unset, by its env name."""
        missing = [env_name(f) for f in fields if getattr(self, f) in (None, "")]
        if missing:
            raise ConfigError(f"missing required setting: {', '.join(missing)}")

    def require_to_run(self) -> None:
        """Raise ConfigError naming, in one line, all that `triage run` cannot start without
        and is not given: the queue, and the backend's token when the default route sends to
        the backend with no routes file (whose routes may send elsewhere; the sinks check
        their own). A first run on a bare environment learns both at once, not one per try."""
        missing = [env_name("queue_url")] if not self.queue_url else []
        if self.routes_file is None and "backend" in self.sinks and not self._backend_token_given:
            missing.append(
                f"the backend's token ({self.backend_token_env_key} or BACKEND_TOKEN_SECRET_ID)"
            )
        if missing:
            raise ConfigError(f"missing required setting: {', '.join(missing)}")

    @property
    def _backend_token_given(self) -> bool:
        """Whether the backend's token is given in any way triage reads one: a secret's id,
        the variable BACKEND_TOKEN_ENV_KEY names, or that variable's `_FILE`."""
        variables = (self.backend_token_env_key, f"{self.backend_token_env_key}_FILE")
        given = any(as_written(os.environ.get(name, "")) for name in variables)
        return given or self.backend_token_secret_id is not None


def _region_attempt(value: str) -> bool:
    """Whether AWS_REGION's `value` reads as an attempt at a region's name (`eu-wst-1`,
    `useast1`, `EU-WEST-1`), which its refusal may repeat: short, and with a dash or few
    digits in one case. A token of mixed letters and digits (the secret from the line beside
    it in an env file) is none, and is never repeated, in any case."""
    if len(value) > 25:
        return False
    one_case = value == value.lower() or value == value.upper()
    return "-" in value or (one_case and sum(c.isdigit() for c in value) <= 2)


def _shown_region(value: str, otherwise: str = "") -> str:
    """AWS_REGION's `value` as its refusal names it: quoted when it reads as an attempt at a
    region (`_region_attempt`), else by its length alone (or `otherwise`)."""
    if _region_attempt(value):
        return repr(value)
    return otherwise or f"a value of {len(value)} characters"


#: How AWS names its regions in every partition: an area (us, eu, ap, eusc …), at most one
#: partition or country word (gov, iso, isob, de …), a direction of the compass or `central`,
#: and a number (us-east-1, us-gov-west-1, ap-southeast-4, eusc-de-east-1). A misspelt
#: direction (`eu-wst-1`) is no region: botocore would build a host nobody answers.
_AWS_REGION_NAME = re.compile(
    r"[a-z]{2,5}(?:-(?:gov|iso[a-z]?|[a-z]{2}))?"
    r"-(?:central|(?:north|south)(?:east|west)?|east|west)-[0-9]{1,2}"
)

#: The region in a real SQS queue URL's host: sqs.<region>.amazonaws.com(.cn), a FIPS
#: endpoint's sqs-fips.<region>.amazonaws.com, the dual-stack sqs.<region>.api.aws, a VPC
#: endpoint's <id>.sqs.<region>.vpce.amazonaws.com, or the legacy <region>.queue.amazonaws.com.
_QUEUE_HOST = re.compile(
    r"(?:(?:[a-z0-9-]+\.)?sqs(?:-fips)?\.([a-z0-9-]+)\.(?:vpce\.)?(?:amazonaws\.com(?:\.cn)?|api\.aws)"
    r"|([a-z0-9-]+)\.queue\.amazonaws\.com(?:\.cn)?)"
)
#: The legacy host of us-east-1's queues, which names no region.
_US_EAST_1_QUEUE_HOST = "queue.amazonaws.com"


def _queue_region(url: str | None) -> str | None:
    """The AWS region a queue URL's host names, or None (a local endpoint, no URL)."""
    if not url:
        return None
    try:
        host = (urlsplit(url).hostname or "").removesuffix(".")  # a fully qualified name's dot
    except ValueError:
        return None
    if host == _US_EAST_1_QUEUE_HOST:
        return "us-east-1"
    match = _QUEUE_HOST.fullmatch(host)
    return (match[1] or match[2]) if match else None


#: Credentials by their issuers' own shapes: an AWS access key id, OpenAI, GitHub, GitLab and
#: Slack tokens, a JWT and a PEM private key. (The redactor knows many more, but costs a second
#: to load; these are the ones an env file holds beside triage's settings.)
_CREDENTIAL = re.compile(
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"
    r"|\bsk-[A-Za-z0-9_-]{20,}"
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{30,}"
    r"|\bglpat-[A-Za-z0-9_-]{20,}"
    r"|\bxox[abeprs]-[A-Za-z0-9-]{10,}"
    r"|\beyJ[A-Za-z0-9_-]{10,}\.eyJ"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)

#: An AWS secret access key as AWS writes one: 40 of base64's letters, digits, `/` and `+`,
#: with capitals, small letters and digits among them (a git SHA has no capitals), alone. It
#: has no prefix of its own, and is what the line beside AWS_ACCESS_KEY_ID in an env file holds.
_AWS_SECRET_KEY = re.compile(
    r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])"
    r"(?=[A-Za-z0-9/+]{0,39}[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
)
#: Settings that name a secret (a Secrets Manager path such as `prod/payments/BackendToken2`
#: may have that shape): not judged by it.
_NAMES_OF_SECRETS = frozenset({"backend_token_secret_id", "ingest_tokens_secret_id"})

#: Settings that hold a credential: typed SecretStr, never shown.
_SECRET_FIELDS = frozenset(
    name for name, info in Settings.model_fields.items() if "SecretStr" in str(info.annotation)
)


def _field_named(key: object) -> str | None:
    """The setting a key of Settings' input names: its field name or one of its variables."""
    if not isinstance(key, str):
        return None
    return _FIELDS_BY_KEY.get(key) or _FIELDS_BY_KEY.get(key.lower())


def _keys_of(name: str, alias: object) -> list[str]:
    choices = alias.choices if isinstance(alias, AliasChoices) else []
    return [name, *(str(choice) for choice in choices), *(str(c).lower() for c in choices)]


_FIELDS_BY_KEY = {
    key: name
    for name, info in Settings.model_fields.items()
    for key in _keys_of(name, info.validation_alias)
}


#: A portable environment variable's name (POSIX: letters, digits and _, not a digit first).
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def _looks_like_a_credential(name: str) -> bool:
    """Whether a value given as a variable's name is more likely a token: names are written
    in one case with few digits (BACKEND_TOKEN_V2), tokens mix cases and digits (ghp_Zq8R…)."""
    mixed_case = any(c.islower() for c in name) and any(c.isupper() for c in name)
    return mixed_case or sum(c.isdigit() for c in name) >= 6 or len(name) > 64


#: A host name as a listener takes one: dot-separated labels of letters, digits and -.
_HOST_NAME = re.compile(
    r"(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)


def _is_host(value: str) -> bool:
    """Whether `value` is an IPv4 or IPv6 address or a host name (no scheme, port or path)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        # Digits and dots alone are an attempt at an IPv4 address (999.1.1.1, 10.0.0), which
        # a resolver would otherwise be asked for as a name.
        numeric = value.replace(".", "").isdigit()
        return not numeric and _HOST_NAME.fullmatch(value) is not None
    return True


#: The placeholder the backend's update and resolve routes take: the ticket's reference.
_PLACEHOLDER = re.compile(r"\{([^{}/]*)\}")


def backend_route_problem(route: str, field: str | None) -> str | None:
    """Why `route` cannot be a backend route (a path on BACKEND_BASE_URL, `{ref}` where the
    ticket's reference goes), or None. The route is never repeated whole."""
    if "://" in route:
        return "must be a path on BACKEND_BASE_URL (/api/…), not a whole URL"
    if not _HEADER_SAFE.fullmatch(route):
        return "has whitespace, control or non-ASCII characters inside it"
    names = _PLACEHOLDER.findall(route)
    if field == "backend_service_route":
        if names or "{" in route:
            return "takes no placeholder: a ticket being created has no reference (no ticket yet)"
        return None
    unknown = [name for name in names if name != "ref"]
    if unknown:
        shown = unknown[0] if len(unknown[0]) <= 20 else f"({len(unknown[0])} characters)"
        return f"has {{{shown}}}: the only placeholder is {{ref}}, the ticket's reference; did you mean {{ref}}?"
    if route.count("{") != len(names) or route.count("}") != len(names):
        return "has a { or } that closes no placeholder: the only one is {ref}"
    return None


#: What TRIAGE_STORE_URL must be, said by every refusal of it.
_STORE_FORMS = "must be sqlite:///PATH or dynamodb://TABLE"


#: A web host as a link shows it: a DNS name or an IPv4 address, or an IPv6 one (in brackets
#: in the URL, without them here).
_WEB_HOST = re.compile(r"[A-Za-z0-9_.-]{1,253}|[0-9A-Fa-f:.]{2,45}")


def base_url_problem(value: str) -> str | None:
    """Why `value` is no base URL a route can be appended to (BACKEND_BASE_URL), or None: an
    http(s) URL with a host and no whitespace, with no query or fragment, which the route
    would land inside (`…/?code=KEY/api/service/tickets` is a POST to `/`, the key logged
    with every URL). The value is never repeated: a query may carry a key."""
    if not _HTTP_URL.fullmatch(value):
        return "must be an http:// or https:// URL with a host, without spaces"
    if "?" in value or "#" in value:
        part = "query (?…)" if "?" in value.split("#", 1)[0] else "fragment (#…)"
        return (
            f"must have no {part}: the routes are appended to it; a query the backend "
            "needs goes on BACKEND_SERVICE_ROUTE and the other routes"
        )
    return None


def web_origin_problem(value: str) -> str | None:
    """Why `value` is no origin GitHub's issues can be shown on (`scheme://host[:port]`, an
    optional `/`), or None. References are built on it as `…/owner/name/issues/12`, and a
    link people click carries no credentials. The value is never repeated."""
    parts = urlsplit(value) if _HTTP_URL.fullmatch(value) else None
    if parts is None or not _WEB_HOST.fullmatch(parts.hostname or ""):
        return "must be an http:// or https:// origin with a host"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user and password: people open these links"
    if parts.path not in ("", "/") or "?" in value or "#" in value:
        return "must be an origin only (scheme://host[:port]), with no path or query"
    try:
        port = parts.port
    except ValueError:
        port = 0
    return "has a port that is no number from 1 to 65535" if port == 0 else None


#: An ARN's service (`arn:PARTITION:SERVICE:…`).
_ARN_SERVICE = re.compile(r"arn:[^:]*:([^:]*):", re.IGNORECASE)
#: The services whose ARNs are pasted where a secret's id goes, by the name their console shows.
_OTHER_SECRET_STORES = {"ssm": "an SSM Parameter Store parameter", "kms": "a KMS key"}


#: A URL's scheme and its `://`, as a value pasted where a name goes starts.
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
#: The colons of a Secrets Manager secret's ARN (arn:PARTITION:secretsmanager:REGION:ACCOUNT:
#: secret:NAME); a secret's name has none, so more are ECS's :json-key:stage:version suffix.
_SECRET_ARN_COLONS = 6


def secret_id_problem(value: str) -> str | None:
    """Why `value` is no id Secrets Manager can read, or None: an ARN of another service (an
    SSM parameter, where many teams keep a token). Secrets Manager would answer "not found"
    for it at the first ticket, sending the operator to look for a secret, while the parameter
    they can see exists. So, too, a URL (`file:///run/secrets/…`) and ECS's reference to one
    key of a secret (its ARN with `:json-key::`). A name, or a Secrets Manager ARN in any
    partition, is taken."""
    wanted = (
        "give a Secrets Manager secret's name or ARN "
        "(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)"
    )
    scheme = _URL_SCHEME.match(value)
    if scheme is not None:
        # file:///run/secrets/x, secretsmanager://name, the console's https:// address: no
        # secret has such a name, and Secrets Manager would say so only at the first read.
        shown = scheme[1].lower() if _SCHEME.fullmatch(scheme[1]) else "a"
        return f"is a {shown}:// URL, but triage reads this from Secrets Manager: {wanted}"
    found = _ARN_SERVICE.match(value)
    if found is None:
        return None
    service = found[1].lower()
    if service == "secretsmanager":
        if value.count(":") > _SECRET_ARN_COLONS:
            return (
                "is an ARN followed by :json-key:version-stage:version-id, ECS's reference "
                "to a secret's key, which GetSecretValue does not read: give the secret's ARN "
                "alone (up to its name; triage reads the key it needs itself)"
            )
        return None
    named = _OTHER_SECRET_STORES.get(service, f"a resource of {service[:30]!r}")
    return f"is the ARN of {named}, but triage reads this from Secrets Manager: {wanted}"


#: The hosts of GitHub's web site, where people open issues; its API is elsewhere.
_GITHUB_WEB_HOSTS = ("github.com", "www.github.com")


def github_api_problem(value: str) -> str | None:
    """Why `value`, as GITHUB_API_URL, cannot be GitHub's API, or None: github.com itself (the
    address people open issues at, copied from the browser) answers the API's calls with web
    pages and 404s, and, taken for a proxy, only a remark about GITHUB_WEB_URL would follow.
    Other hosts are GitHub Enterprise Server's or a proxy's, checked by the GitHub sink."""
    host = urlsplit(value).hostname if _HTTP_URL.fullmatch(value) else None
    if host not in _GITHUB_WEB_HOSTS:
        return None
    return (
        "names github.com, GitHub's web site, not its API: set https://api.github.com (or "
        "leave it unset); a GitHub Enterprise Server's API is https://HOST/api/v3"
    )


def store_url(value: str) -> str:
    """`value` if it names a store triage has (its scheme written in lower case), else a
    ValueError saying why without repeating it. `sqlite://data/x.db` is refused: its `data`
    is a host, which SQLite has not, and the file would be /x.db."""
    scheme, colon, rest = value.partition(":")
    scheme = scheme.lower()
    if colon and scheme == "sqlite":
        if not rest.startswith("///"):
            raise ValueError(
                f"{_STORE_FORMS}: sqlite:// takes no host (a relative path is "
                "sqlite:///data/triage.db, an absolute one sqlite:////var/lib/triage.db)"
            )
        if not rest[3:]:
            raise ValueError(f"{_STORE_FORMS}: the path is empty")
        # `sqlite:///~/x.db` is ./~/x.db to SQLite: a directory named ~ where the daemon runs.
        shell_only = path_problem(rest[3:])
        if shell_only is not None:
            raise ValueError(f"{_STORE_FORMS}: its path {shell_only}")
        return f"sqlite:{rest}"
    if colon and scheme == "dynamodb":
        table = rest.removeprefix("//")
        table = table[:-1] if table.endswith("/") else table
        if not rest.startswith("//") or not _TABLE.fullmatch(table):
            raise ValueError(
                f"{_STORE_FORMS}: TABLE is a DynamoDB table name (A-Z a-z 0-9 _ . -), "
                "with nothing after it"
            )
        return f"dynamodb:{rest}"
    named = f" ({scheme}: is no store triage has)" if colon and _SCHEME.fullmatch(scheme) else ""
    raise ValueError(f"{_STORE_FORMS}{named}")


#: Shorter API tokens are refused: a guessable token is no authentication.
MIN_API_TOKEN_CHARS = 16


class _DocumentedNames(EnvSettingsSource):
    """The environment, without TRIAGE_<FIELD> for a setting whose variable is another name
    (ALERT_TRIAGE_QUEUE_URL, GITHUB_TOKEN …). pydantic-settings reads those too once a model
    may be built by field name (`populate_by_name`, for `Settings(queue_url=…)`): a variable no
    document names, which `config.unknown_variable` calls ignored, and which let a deployment's
    guard on credential names (Terraform's `extra_environment`) be walked around."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        fields = settings_cls.model_fields
        documented = {env_name(field).lower() for field in fields}
        shadows = {
            f"triage_{field}" for field, info in fields.items() if info.validation_alias is not None
        } - documented
        named = {k: v for k, v in self.env_vars.items() if k.lower() not in shadows}
        self.env_vars = _with_credential_files(named)


def credential_file_variables() -> frozenset[str]:
    """The `<VARIABLE>_FILE` names triage reads a credential's file from (`FILE_CREDENTIALS`;
    GITHUB_APP_PRIVATE_KEY_FILE is a setting of its own)."""
    return frozenset(f"{env_name(field)}_FILE" for field in FILE_CREDENTIALS)


def _with_credential_files(env_vars: Mapping[str, str | None]) -> dict[str, str | None]:
    """`env_vars` (names in lower case) with each credential given by `<VARIABLE>_FILE` read
    from its file into `<VARIABLE>`. Both set is refused: which one wins would be a guess."""
    values = dict(env_vars)
    for field in FILE_CREDENTIALS:
        name = env_name(field)
        path = as_written(values.get(f"{name}_FILE".lower()) or "")
        if not path:
            continue
        if as_written(values.get(name.lower()) or ""):
            raise ConfigError(
                f"{name} and {name}_FILE are both set: set one (the credential, or the file "
                "holding it)"
            )
        values[name.lower()] = read_credential_file(path, f"{name}_FILE")
    return values


def env_file_line(text: str, name: str) -> bool:
    """Whether `text` is the env file's line of the variable `name` (`NAME=value`, `export
    NAME=value`, in any case, spaces around `=`) rather than its value: what a secret's file
    holds when it was made by copying that line. Only the variable's own name counts, so a
    value holding `=` of its own (base64's padding, a URL's query) is the value."""
    line = re.compile(rf"\s*(?:export\s+)?{re.escape(name)}\s*=", re.IGNORECASE)
    return line.match(text) is not None


def read_credential_file(path: str, variable: str) -> str:
    """The credential in the file at `path`, which `variable` (`<NAME>_FILE`) names: a path a
    shell would expand, a file that cannot be read, or one holding the env file's line of
    NAME rather than its value (`env_file_line`) is one ConfigError line naming `variable`,
    never what the file holds."""
    problem = path_problem(path)
    if problem is not None:
        raise ConfigError(f"{variable}: {problem}")
    credential = config_files.read_secret(Path(path), variable)
    name = variable.removesuffix("_FILE")
    if env_file_line(credential, name):
        raise ConfigError(
            f"{variable} {path}: holds the env file's line ({name}=…), not the value alone: "
            "store the value alone in the file (the line's name and = would be sent as the "
            "credential); the value is not repeated"
        )
    return credential


def env_name(field: str) -> str:
    """The environment variable that sets `field` (the alias, else TRIAGE_<FIELD>)."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        assert isinstance(first, str)
        return first
    return f"TRIAGE_{field.upper()}"


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment; invalid values become one ConfigError line each."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = validation_message(error)
            if not error["loc"]:  # a rule across fields: its message names them
                problems.append(message)
                continue
            field = str(error["loc"][0])
            name = env_name(field) if field in Settings.model_fields else field
            problems.append(f"{name}{_read_from_file(field)}: {message}")
        raise ConfigError("; ".join([*problems, *_misspelt_beside_a_refusal()])) from None


def _read_from_file(field: str) -> str:
    """` (read from NAME_FILE)` when the credential `field` was read from its `_FILE`, else "":
    a refusal naming only NAME sends the operator after a variable they never set."""
    if field not in FILE_CREDENTIALS:
        return ""
    variable = f"{env_name(field)}_FILE"
    return f" (read from {variable})" if as_written(os.environ.get(variable, "")) else ""


#: How many times `load_settings_in_part` leaves refused settings out and builds again: a
#: default can meet a rule across settings a refused value hid.
_PART_TRIES = 4


def load_settings_in_part() -> tuple[Settings, dict[str, str]] | None:
    """The settings with every refused value left at its default, and the fields so left out
    (each with its variable's name), for `triage check`: it names the refusal, then checks
    all that reads none of them (the routes file, the credentials, the queue), rather than
    stopping at the settings. A rule across settings leaves out each one its message names.
    None when nothing can be built (a credential's file that cannot be read, a refusal that
    names no setting)."""
    left_out: dict[str, str] = {}
    for _ in range(_PART_TRIES):
        defaults = {
            f: Settings.model_fields[f].get_default(call_default_factory=True) for f in left_out
        }
        try:
            return Settings(**defaults), left_out
        except ConfigError:
            return None
        except ValidationError as exc:
            refused = _fields_refused(exc) - left_out.keys()
        if not refused:
            return None
        left_out |= {field: env_name(field) for field in refused}
    return None


def _fields_refused(exc: ValidationError) -> set[str]:
    """The settings each of `exc`'s errors refuses: its field, else (a rule across settings,
    a credential out of place) every setting whose variable its message names."""
    fields: set[str] = set()
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        if field in Settings.model_fields:
            fields.add(field)
            continue
        message = str(error["msg"])
        fields |= {f for f in Settings.model_fields if re.search(rf"\b{env_name(f)}\b", message)}
    return fields


def _misspelt_beside_a_refusal() -> list[str]:
    """`unknown_variables` of the environment, for the line that refuses a value: the settings
    cannot be built, so the warnings a command logs once they are never come, and a misspelt
    name (its default kept) is often why a value is refused. The token's variable and the
    routes file's webhook variables are read from the environment as the settings would."""
    default_key = str(Settings.model_fields["backend_token_env_key"].default)
    token_key = as_written(os.environ.get("BACKEND_TOKEN_ENV_KEY", ""))
    if not _VARIABLE.fullmatch(token_key):
        token_key = default_key
    routes = as_written(os.environ.get("TRIAGE_ROUTES_FILE", ""))
    usable = routes and path_problem(routes) is None
    read = route_variables.variables_in_file(Path(routes)) if usable else frozenset()
    return unknown_variables(os.environ, token_key, read)


#: pydantic's refusals of a value's type, said as what the setting takes.
_PLAIN = {
    "bool_parsing": "expected true or false (also 1/0, yes/no, on/off)",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
    "finite_number": "must be a finite number",
}


def validation_message(error: Any) -> str:
    """One of pydantic's errors (`ValidationError.errors()`) as triage says it: what the value
    must be, with the word a typo meant (never the value itself, which may be a secret)."""
    bound = _BOUNDS.get(error["type"])
    context = error.get("ctx") or {}
    if bound is not None and bound[1] in context:
        return f"{bound[0]} {context[bound[1]]}"
    unit = _duration_unit(error)
    if unit is not None:
        return unit
    message = _PLAIN.get(error["type"], str(error["msg"]).removeprefix("Value error, "))
    return f"{message}{_meant(error)}"


def _duration_unit(error: Any) -> str | None:
    """For a duration setting's value that is no number (`30s`, `15m`, written as people write
    them): the unit the setting takes, said with an example; else None."""
    if error["type"] not in ("float_parsing", "int_parsing", "int_from_float"):
        return None
    key = str(error["loc"][-1]) if error["loc"] else ""
    field = _field_named(key) or key  # a variable's name (SQS_WAIT_TIME) as its setting's
    typed = error.get("input")
    seconds = written_duration_s(typed) if isinstance(typed, str) else None
    written = typed.strip() if isinstance(typed, str) else ""
    if field in WHOLE_SECOND_FIELDS:
        if seconds is not None and seconds == int(seconds):
            return (
                "expected a whole number of seconds, without a unit: "
                f"{plain_number(seconds)} for {written}"
            )
        return "expected a whole number of seconds, without a unit (60 for 1 min)"
    if field.endswith("_s"):
        if seconds is not None:
            return f"expected a number of seconds, without a unit: {plain_number(seconds)} for {written}"
        return "expected a number of seconds, without a unit (300 for 5 min)"
    if field.endswith("_ms"):
        if seconds is not None:
            return (
                "expected a number of milliseconds, without a unit: "
                f"{plain_number(seconds * 1000)} for {written}"
            )
        return "expected a number of milliseconds, without a unit (5 for 5 ms)"
    return None


#: A duration as people write one: numbers each with its unit, largest first (`1h30m`, `500ms`,
#: `2.5s`), as Go, Prometheus and systemd write them.
_WRITTEN_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def plain_number(number: float) -> str:
    """`number` as a setting takes it: whole without a point, else to the millisecond."""
    if number == int(number):
        return str(int(number))
    return f"{number:.3f}".rstrip("0").rstrip(".")


def written_duration_s(typed: str) -> float | None:
    """The seconds a duration written with its units (`1h`, `1h30m`, `500ms`) stands for, so a
    refusal can say the number to write; None for anything else. Only such a value is ever
    said back: it is a duration, no secret."""
    text = typed.strip().lower()
    if len(text) > 20 or _WRITTEN_DURATION.fullmatch(text) is None:
        return None
    return sum(float(n) * _UNIT_S[unit] for n, unit in _DURATION_PART.findall(text))


#: pydantic's refusals of a number out of its range: the words, and the bound's key in `ctx`.
_BOUNDS = {
    "greater_than_equal": ("must be at least", "ge"),
    "greater_than": ("must be more than", "gt"),
    "less_than_equal": ("must be at most", "le"),
    "less_than": ("must be less than", "lt"),
}


def _meant(error: Any) -> str:
    """The word a value outside a setting's set of words was a typo of (pydantic's
    `literal_error` and `enum` say the words they expected, each quoted), else ""."""
    if error["type"] not in ("literal_error", "enum"):
        return ""
    expected = str(error.get("ctx", {}).get("expected", ""))
    return did_you_mean(error.get("input"), re.findall(r"'([^']*)'", expected))


#: The interval settings whose cost grows with how often they run: what each run does, and why
#: running it more than once a second gains nothing.
POLL_INTERVAL_FIELDS = {
    "metrics_interval_s": (
        "metrics are flushed",
        "CloudWatch keeps no metric finer than 1 s",
    ),
    "queue_depth_poll_s": (
        "the queue and its DLQ are asked for their depth",
        "SQS's counts are approximate and settle over about a minute",
    ),
}


#: How many `backend_timeout_s` one backend request may take: httpx2 times connecting,
#: sending and reading each on its own, so a backend that accepts slowly, reads slowly and
#: answers slowly is given the timeout three times over.
BACKEND_TIMEOUT_PHASES = 3


def backend_timeout_problem(settings: Settings) -> str | None:
    """Why TRIAGE_BACKEND_TIMEOUT_S cannot be had as set, naming both settings: one request
    may take `BACKEND_TIMEOUT_PHASES` times it, and when that reaches
    TRIAGE_MESSAGE_TIMEOUT_S the message's own time limit cuts a slow request off first (a
    `cancelled` call, the message retried whole) before the backend's timeout ever fails
    it. None when it fits. Warned about, not refused: it works, only worse than it reads
    (tests and small deployments shorten the message timeout)."""
    bound_s = BACKEND_TIMEOUT_PHASES * settings.backend_timeout_s
    if bound_s < settings.message_timeout_s:
        return None
    return (
        f"TRIAGE_BACKEND_TIMEOUT_S ({settings.backend_timeout_s:g}) lets one backend request "
        f"take {bound_s:g} s (connecting, sending and reading are each timed), which reaches "
        f"TRIAGE_MESSAGE_TIMEOUT_S ({settings.message_timeout_s:g}): the message's time limit "
        "cuts a slow request off before its own timeout does; keep TRIAGE_BACKEND_TIMEOUT_S "
        "under a third of TRIAGE_MESSAGE_TIMEOUT_S"
    )


def short_intervals(
    settings: Settings, fields: tuple[str, ...] = tuple(POLL_INTERVAL_FIELDS)
) -> list[str]:
    """One line per interval of `fields` in use and under MIN_USEFUL_INTERVAL_S, naming its
    variable and how often it runs. Such a value works (tests run sub-second ones), so it is
    warned about, not refused: it costs calls and gains nothing."""
    in_use = {
        "metrics_interval_s": settings.metrics != "off",
        "queue_depth_poll_s": settings.queue_depth_poll_s > 0,
    }
    lines = []
    for field in fields:
        value = float(getattr(settings, field))
        if in_use[field] and value < MIN_USEFUL_INTERVAL_S:
            what, why = POLL_INTERVAL_FIELDS[field]
            lines.append(
                f"{env_name(field)} is {value:g} s: {what} {1 / value:.3g} times a second, "
                f"though {why} (1 s or more is as useful)"
            )
    return lines


def credentials_beside_secrets(
    settings: Settings, environ: Mapping[str, str]
) -> list[tuple[str, str]]:
    """A credential set in the environment (or its `_FILE`) beside the Secrets Manager secret
    that is read instead, which it is ignored for: rotating it, or fixing it, changes nothing.
    Each as the check it belongs to (`token`, `ingest`) and one line naming both variables,
    never the value. Not refused: a deployment may set both on purpose while it moves to the
    secret."""
    pairs = (
        ("token", settings.backend_token_env_key, "backend_token_secret_id"),
        ("ingest", env_name("ingest_tokens"), "ingest_tokens_secret_id"),
    )
    found = []
    for check, variable, secret_field in pairs:
        secret_id = getattr(settings, secret_field)
        given = [v for v in (variable, f"{variable}_FILE") if as_written(environ.get(v, ""))]
        if secret_id and given:
            found.append(
                (
                    check,
                    f"{' and '.join(given)} set but ignored: {env_name(secret_field)} is set, "
                    f"and the secret it names is read instead; unset {given[0]}, or "
                    f"{env_name(secret_field)} to use it",
                )
            )
    return found


def model_left_unasked(settings: Settings) -> str | None:
    """Why the OpenAI settings given name a model that no ticket will be asked of, or None:
    OPENAI_BASE_URL or OPENAI_MODEL set while OPENAI_API_KEY and TRIAGE_LLM_PROVIDER are not,
    so the LLM is off and every ticket the deterministic one, said only by an info line. A
    local server that takes no key (Ollama, vLLM) is the likely case. Warned of by `triage run`
    (`config.model_unasked`), not by `Settings`, which the operator commands load too."""
    if settings.llm_provider is not None or settings._has_openai_key:
        return None
    fields = ("openai_base_url", "openai_model")
    given = [env_name(field) for field in fields if field in settings.model_fields_set]
    if not given:
        return None
    return (
        f"{' and '.join(given)} set without OPENAI_API_KEY, which the OpenAI provider needs "
        "to be used (any value for a server that takes none, such as Ollama's); set "
        "TRIAGE_LLM_PROVIDER=none to go without the model"
    )


#: OpenTelemetry's endpoint variables, in the order its exporter reads them: the traces one,
#: when set, is used instead of the general one.
OTEL_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def tracing_endpoint_problem(environ: Mapping[str, str]) -> str | None:
    """Why the OTLP endpoint the exporter would use is none (not an http(s) URL with a host),
    naming its variable and never its value, which may carry a user and password; None when
    it is one, or when none is set (tracing is off either way, without a word)."""
    for name in OTEL_ENDPOINT_VARIABLES:
        value = environ.get(name)
        if value:
            if _HTTP_URL.fullmatch(value):
                return None
            return f"{name} is not an http:// or https:// URL with a host: tracing is off"
    return None


#: Prefixes whose every variable is triage's own: TRIAGE_*, the original worker's SQS_*,
#: BACKEND_* and ALERT_TRIAGE_*, and GITHUB_APP_* (GitHub Actions sets none). OPENAI_*, the rest
#: of GITHUB_* and AWS_* are shared with SDKs and CI systems.
OWN_PREFIXES = ("TRIAGE_", "SQS_", "BACKEND_", "ALERT_TRIAGE_", "GITHUB_APP_")

#: Other programs' names for a setting, which people copy into triage's environment: each
#: is named with the variable triage reads instead.
OTHER_NAMES = {
    "OPENAI_API_BASE": "OPENAI_BASE_URL",  # LangChain's, and the OpenAI SDK's before 1.0
    "SLACK_WEBHOOK": "SLACK_WEBHOOK_URL",
    "GITHUB_APP_PRIVATE_KEY_PATH": "GITHUB_APP_PRIVATE_KEY_FILE",
    # Azure OpenAI's, as its docs and SDK name them: the deployment is OPENAI_BASE_URL's path.
    "AZURE_OPENAI_ENDPOINT": "OPENAI_BASE_URL",
    "AZURE_OPENAI_API_KEY": "OPENAI_API_KEY",
    "AZURE_OPENAI_DEPLOYMENT_NAME": "OPENAI_BASE_URL",
    "AZURE_OPENAI_DEPLOYMENT": "OPENAI_BASE_URL",
}

#: Variables with those prefixes read by other programs (the dev stack's LocalStack hook,
#: LocalStack itself, the test suite), not by the daemon: a shell that sets them is no typo.
OTHER_PROGRAMS_VARIABLES = frozenset(
    {
        "TRIAGE_TABLE_NAME",
        "TRIAGE_QUEUE_NAME",
        "TRIAGE_INIT_SERVICES",
        "TRIAGE_TF_PROVIDER_MIRROR",
        "TRIAGE_REQUIRE_PROGRAMS",
        "SQS_ENDPOINT_STRATEGY",
    }
)


def unknown_variables(
    environ: Mapping[str, str],
    token_variable: str = "BACKEND_TOKEN",
    read_elsewhere: Iterable[str] = (),
) -> list[str]:
    """One message per TRIAGE_*, SQS_*, BACKEND_*, ALERT_TRIAGE_* or GITHUB_APP_* variable that
    no setting reads, per other program's name of a setting (`OTHER_NAMES`), and per near miss
    of a setting under a prefix shared with other programs (`SHARED_PREFIXES`), naming the
    closest setting: a misspelt name would otherwise be ignored in silence and the default
    used instead. `token_variable` (BACKEND_TOKEN_ENV_KEY) holds the token, each credential's
    `<VARIABLE>_FILE` (`credential_file_variables`, and the token's) names its file, and
    `read_elsewhere` are read by name too (the routes file's webhook variables,
    `routes.variables_read`): no typos, and not ignored."""
    known = {env_name(field) for field in Settings.model_fields}
    elsewhere = {name.upper() for name in read_elsewhere}
    token = token_variable.upper()
    files = credential_file_variables() | {f"{token}_FILE"}
    expected = known | OTHER_PROGRAMS_VARIABLES | {token} | files | elsewhere
    messages = []
    for name in sorted(environ):
        upper = name.upper()
        if upper in expected:
            continue
        exported, spaced = _exported(upper), upper.strip()
        if exported in expected:
            messages.append(
                f"{name[:80]} is not a setting and is ignored: an env file's `export ` stayed "
                f"in the variable's name (ECS environment files keep it); write {exported}=… "
                "without it"
            )
            continue
        if spaced != upper and spaced in expected:
            messages.append(
                f"{name[:80]!r} is not a setting and is ignored: a space stayed around the "
                f"variable's name (an env file's `NAME = value`); write {spaced}=… without it"
            )
            continue
        unmarked = upper.lstrip(INVISIBLE_MARKS).strip()
        if unmarked != spaced and unmarked in expected:
            messages.append(
                f"{name[:80]!r} is not a setting and is ignored: its name starts with "
                f"U+{ord(upper[0]):04X}, a byte-order mark or an invisible space (an env file "
                f"saved with a BOM, as Notepad saves UTF-8); write {unmarked}=… without it "
                "(save the file as UTF-8 without a BOM)"
            )
            continue
        if upper.startswith(OWN_PREFIXES) or upper in OTHER_NAMES:
            close = [OTHER_NAMES[upper]] if upper in OTHER_NAMES else []
            close = close or difflib.get_close_matches(upper, sorted(known), n=1, cutoff=0.8)
        elif upper.startswith(SHARED_PREFIXES):
            close = _near_miss(upper, known)
            if not close:
                continue  # another program's variable
        else:
            continue
        hint = f"; did you mean {close[0]}?" if close else ""
        messages.append(f"{name[:80]} is not a setting and is ignored{hint}")
    return messages


#: Characters an editor or a paste puts, unseen, before a variable's name: the byte-order mark
#: (U+FEFF, which Notepad writes at the start of a UTF-8 file), zero-width spaces and joiners.
INVISIBLE_MARKS = "\ufeff\u200b\u200c\u200d\u2060"


def _exported(name: str) -> str | None:
    """The variable `name` (upper case) sets in a shell, when it is `export NAME` as an env file
    wrote it, else None."""
    word, _, rest = name.partition(" ")
    return rest.strip() if word == "EXPORT" and rest.strip() else None


#: Prefixes triage's settings share with SDKs, CI systems and other tools (OPENAI_API_KEY beside
#: OPENAI_ORG_ID, GITHUB_TOKEN beside GITHUB_SHA): only a near miss of a setting is named.
SHARED_PREFIXES = ("OPENAI_", "GITHUB_", "AWS_", "SLACK_")


def _near_miss(name: str, known: set[str]) -> list[str]:
    """The setting `name` is a typo of (one letter or an underscore off: OPENAI_APIKEY,
    AWS_REGON), else []. A setting's name with more after it (AWS_ENDPOINT_URL_S3, botocore's
    endpoint of one service; GITHUB_REPOSITORY_OWNER, GitHub Actions') is another's variable."""
    if any(name.startswith(f"{setting}_") for setting in known):
        return []
    return difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.9)
