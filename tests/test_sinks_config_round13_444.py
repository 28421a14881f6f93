"""Ticket-backend sink and configuration mistakes found in round 13 (helper 444): each is
refused at start-up with one line naming the setting and what is wrong (never the secret it
may hold), or handled as the service meant its answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.errors import ConfigError
from triage.routes import load_router, require_github_repository
from triage.secrets import BackendToken
from triage.settings import Settings, load_settings
from triage.sinks.backend import BackendSink

#: A function key as Azure Functions and some gateways take it, in the query: a credential.
FUNCTION_KEY = "s3cr3tFunctionKeyValue"


# --- BACKEND_BASE_URL that no route can be appended to --------------------------------------


@pytest.mark.parametrize(
    ("base_url", "said"),
    [
        (f"https://tickets.example/?code={FUNCTION_KEY}", "query"),
        (f"https://tickets.example/api?code={FUNCTION_KEY}", "query"),
        (f"https://tickets.example/#{FUNCTION_KEY}", "fragment"),
        ("https://tickets example", "http:// or https:// URL"),
        ("https://tickets.example/my tickets", "http:// or https:// URL"),
    ],
)
def test_a_base_url_no_route_can_follow_is_refused_when_the_sink_is_built(
    monkeypatch: pytest.MonkeyPatch, base_url: str, said: str
) -> None:
    """BACKEND_BASE_URL with a query or fragment had the route appended inside it (every
    ticket POSTed to `/?code=…/api/service/tickets`, the key logged with the URL), and one
    with a space made every call a network error forever; both are refused at start-up,
    naming the setting and never the query's value."""
    monkeypatch.setenv("BACKEND_TOKEN", "token-for-the-test-0123456789")
    settings = Settings(backend_base_url=base_url)
    with pytest.raises(ConfigError) as caught:
        BackendSink(settings, BackendToken(settings))
    message = str(caught.value)
    assert message.startswith("BACKEND_BASE_URL"), message
    assert said in message, message
    assert FUNCTION_KEY not in message, message


@pytest.mark.parametrize(
    "base_url",
    ["https://tickets.example", "https://tickets.example/prefix/", "http://[::1]:4000"],
)
def test_base_urls_with_a_path_prefix_or_ipv6_literal_stay_accepted(
    monkeypatch: pytest.MonkeyPatch, base_url: str
) -> None:
    """A base URL with a path the routes follow, or an IPv6 literal, is still taken."""
    monkeypatch.setenv("BACKEND_TOKEN", "token-for-the-test-0123456789")
    settings = Settings(backend_base_url=base_url)
    BackendSink(settings, BackendToken(settings))


# --- GitHub as a sink with no repository to open issues in ----------------------------------


def _routes_file(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Write `text` as the routes file TRIAGE_ROUTES_FILE names."""
    path = tmp_path / "routes.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(path))


def test_github_in_triage_sinks_without_github_repository_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """TRIAGE_SINKS=github without GITHUB_REPOSITORY started, then refused every issue at
    run time ("no GitHub repository") and dead-lettered every alert; refused at start-up,
    naming both settings."""
    monkeypatch.setenv("TRIAGE_SINKS", "backend,github")
    settings = load_settings()
    with pytest.raises(ConfigError) as caught:
        require_github_repository(load_router(settings), settings)
    message = str(caught.value)
    assert message.startswith("GITHUB_REPOSITORY"), message
    assert "TRIAGE_SINKS" in message, message


def test_a_route_to_github_without_a_repository_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A route sending to GitHub without `[route.github] repository`, and no GITHUB_REPOSITORY
    to fall back on, is refused at start-up naming the route, not found per alert."""
    _routes_file(
        tmp_path,
        '[[route]]\nname = "web"\nsinks = ["github"]\n[route.github]\nrepository = "acme/web"\n'
        '[route.match]\nteam = "web"\n'
        '[[route]]\nname = "data"\nsinks = ["backend", "github"]\n[route.match]\nteam = "data"\n',
        monkeypatch,
    )
    settings = load_settings()
    with pytest.raises(ConfigError) as caught:
        require_github_repository(load_router(settings), settings)
    message = str(caught.value)
    assert message.startswith("GITHUB_REPOSITORY"), message
    assert "route 'data'" in message and "repository" in message, message


def test_github_routes_that_each_name_a_repository_need_no_github_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Routes that all name their repository, with TRIAGE_SINKS not sending to GitHub, need no
    GITHUB_REPOSITORY; and with it set, any route may leave its repository out."""
    _routes_file(
        tmp_path,
        '[[route]]\nname = "web"\nsinks = ["github"]\n[route.github]\nrepository = "acme/web"\n'
        '[route.match]\nteam = "web"\n',
        monkeypatch,
    )
    settings = load_settings()
    require_github_repository(load_router(settings), settings)
    monkeypatch.setenv("TRIAGE_SINKS", "github")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/ops")
    settings = load_settings()
    require_github_repository(load_router(settings), settings)
