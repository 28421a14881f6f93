"""The URLs the backend sink sends as links: an alert's runbook and links go out only as the URL
each opens (`display.link_url`: trimmed, no user info, host as DNS spells it), and the sink's
memory of URLs it has judged (alerts name the same few runbooks and dashboards) answers as
judging them afresh would, past its bound too."""

from __future__ import annotations

import pytest

from triage.display import link_url
from triage.sinks import backend

URLS = [
    "https://runbooks.example.com/backups",
    "  https://grafana.example.com/d/db?var-host=web-1  ",
    "http://10.0.0.7:3000/d/x",
    "http://[::1]:8080/",
    "https://bücher.example/kapitel",
    "https://ex%61mple.com/",
    "https://exa%20mple.com/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://files.example.com/x",
    "https://",
    "not a url",
    "",
    "   ",
    "https://example.com/\ud800",
]


def _fresh(url: str) -> str | None:
    return link_url(url)


@pytest.mark.parametrize("url", URLS)
def test_a_link_judged_again_gets_the_first_verdict(url: str) -> None:
    """The first and the remembered answer for each URL are what judging it afresh says."""
    assert backend._http_link(url) == _fresh(url)
    assert backend._http_link(url) == _fresh(url)


def test_links_past_the_memory_s_bound_are_still_judged_right() -> None:
    """More distinct URLs than the sink keeps: every answer, old or new, is still right, and
    the memory never holds more than its bound."""
    many = [f"https://host-{i}.example.com/runbook" for i in range(backend._LINKS_KEPT + 50)]
    many += [f"javascript:alert({i})" for i in range(60)]
    for url in many + many[:10] + URLS:
        assert backend._http_link(url) == _fresh(url)
        assert len(backend._LINKS) <= backend._LINKS_KEPT
    assert backend._http_link(None) is None


def test_a_url_longer_than_a_link_is_judged_but_not_kept() -> None:
    """A URL of tens of kilobytes (hostile text) is judged as any other, and the memory does
    not keep it: 1,024 of them would hold tens of megabytes."""
    long = "https://example.com/" + "a" * 50_000
    assert backend._http_link(long) == long
    assert long not in backend._LINKS
