"""The status page's Log out button in a real headless browser (Debian's chromium): the
browser's own logout (with the headers a browser sends, which the page's guard against other
sites reads) ends the session on the server, so a copy of its cookie stops reading."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from browser import Browser, chromium_or_skip
from test_operator_api import TOKEN, serving
from test_store import LEASE, POLICY
from triage.incidents.sqlite import SQLiteStore
from triage.ops.api import SESSION_COOKIE


async def test_the_log_out_button_ends_the_session_for_a_copy_of_its_cookie(
    tmp_path: Path,
) -> None:
    """Chromium logs in through the form and clicks Log out: it lands on the login form, and
    the session cookie it held, copied before the click, gets the login form saying the
    session was logged out."""
    executable = chromium_or_skip()
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=1))
    await store.open()
    try:
        async with serving(store) as client:
            port = client.base_url.port
            assert port is not None
            copied, after = await asyncio.to_thread(_log_in_and_out, executable, tmp_path, port)
            page = await client.get("/", headers={"Cookie": f"{SESSION_COOKIE}={copied}"})
    finally:
        await store.aclose()
    assert "API token" in after
    assert "type=password" in page.text and "This session was logged out" in page.text


def _log_in_and_out(executable: str, tmp_path: Path, port: int) -> tuple[str, str]:
    """Log in through the form, copy the session cookie, click Log out: the copy, and the
    text of the page the browser lands on."""
    browser = Browser(executable, tmp_path / "profile")
    try:
        browser.call("Page.navigate", {"url": f"http://127.0.0.1:{port}/"}, page=True)
        browser.wait_for("document.querySelector('input[name=token]') !== null", "the login form")
        browser.navigate_by(
            f"document.querySelector('input[name=token]').value = {TOKEN!r};"
            "document.querySelector('form').submit(); true"
        )
        browser.wait_for("document.querySelector('form.out') !== null", "the Log out button")
        cookies = browser.call("Network.getCookies", page=True)["cookies"]
        [copied] = [c["value"] for c in cookies if c["name"] == SESSION_COOKIE]
        browser.navigate_by("document.querySelector('form.out input[type=submit]').click(); true")
        browser.wait_for(
            "document.querySelector('input[name=token]') !== null", "the login form again"
        )
        after = browser.evaluate("document.body.innerText")
    finally:
        browser.close()
    return str(copied), str(after)
