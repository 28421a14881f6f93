"""Credentials for the GitHub sink: a fixed token, or a GitHub App's installation tokens.

A GitHub App authenticates in two steps. It signs a short JWT with its private key (RS256; `iat`
60 s in the past against clock drift, `exp` under GitHub's 10-minute cap, `iss` the app id) and
trades it at `POST /app/installations/{id}/access_tokens` for an installation token that lasts
an hour. The HTTP exchange belongs to the sink (one place maps GitHub's answers to errors); this
module signs, remembers the token until `REFRESH_MARGIN_S` before its `expires_at`, and forgets
it when GitHub refuses it (a 401), so the next call mints a new one. Its times are GitHub's
(`clock.py`): a JWT refused because this host's clock is off is signed again by the time the
refusal's Date says (`GitHubApi.call`).

Our own identity, needed to tell our closes from a person's, is `GET /user`'s login for a
token, and `<slug>[bot]` for an App (`GET /app`, authenticated with the JWT).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from triage.errors import ConfigError
from triage.redact import hold
from triage.settings import Settings

#: An installation token is renewed this long before GitHub says it expires, so a call never
#: starts with a token that dies on the way.
REFRESH_MARGIN_S = 300.0

#: An installation token's lifetime, as GitHub documents it; and the least time one is reused
#: whatever its expires_at says.
TOKEN_LIFETIME_S = 3600.0
MIN_TOKEN_REUSE_S = 60.0

#: The JWT's lifetime: GitHub refuses more than 10 minutes; `iat` is back-dated by 60 s.
JWT_BACKDATE_S = 60
JWT_LIFETIME_S = 540


@dataclass(frozen=True, slots=True)
class AppCredentials:
    app_id: str
    private_key: str
    installation_id: int


def app_credentials(settings: Settings) -> AppCredentials | None:
    """The App settings, or None when no App is configured; ConfigError names what is missing
    or unreadable when only part of it is."""
    key_text = settings.github_app_private_key
    key_file = settings.github_app_private_key_file
    if not (settings.github_app_id or key_text or key_file or settings.github_app_installation_id):
        return None
    missing = [
        name
        for name, present in (
            ("GITHUB_APP_ID", settings.github_app_id),
            ("GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE", key_text or key_file),
            ("GITHUB_APP_INSTALLATION_ID", settings.github_app_installation_id),
        )
        if not present
    ]
    if missing:
        raise ConfigError(f"incomplete GitHub App settings, missing: {', '.join(missing)}")
    assert settings.github_app_id and settings.github_app_installation_id  # narrowed above
    if key_text is not None:
        pem = key_text.get_secret_value()
    else:
        assert key_file is not None
        try:
            pem = key_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"GITHUB_APP_PRIVATE_KEY_FILE cannot be read: {exc}") from None
        except UnicodeDecodeError:  # a DER key, or not a key: its bytes are never shown
            raise ConfigError("GITHUB_APP_PRIVATE_KEY_FILE is not a PEM text file") from None
    # An env var often carries the PEM on one line with literal "\n" sequences.
    if "\n" not in pem.strip() and "\\n" in pem:
        pem = pem.replace("\\n", "\n")
    if "PRIVATE KEY" not in pem:
        raise ConfigError("the GitHub App private key is not a PEM private key")
    return AppCredentials(settings.github_app_id, pem, settings.github_app_installation_id)


def usable_in_header(token: str) -> bool:
    """Whether `token` can follow `Bearer ` in an Authorization header as it is: printable
    ASCII, no whitespace."""
    return token.isascii() and token.isprintable() and not any(c.isspace() for c in token)


class InstallationToken:
    """Signs the App's JWT and caches its installation token; one per sink. `wall_clock` is
    GitHub's time as the sink knows it (`clock.GitHubClock.now`): the JWT's window and the
    token's `expires_at` are GitHub's, so a host whose clock is off still signs JWTs GitHub
    takes and keeps a token for its life."""

    def __init__(
        self,
        credentials: AppCredentials,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self._clock = clock
        self._wall_clock = wall_clock
        self._token: str | None = None
        self._renew_at = 0.0  # on `clock`, which never jumps

    @property
    def exchange_path(self) -> str:
        return f"/app/installations/{self.credentials.installation_id}/access_tokens"

    def app_jwt(self) -> str:
        """A fresh RS256 JWT for the /app endpoints."""
        # Here, not at the top: PyJWT loads `cryptography`, ~0.15 s of CPU that a daemon with a
        # plain token (or no GitHub sink) would pay at every start.
        import jwt

        now = int(self._wall_clock())
        claims = {
            "iat": now - JWT_BACKDATE_S,
            "exp": now + JWT_LIFETIME_S,
            "iss": self.credentials.app_id,
        }
        try:
            return jwt.encode(claims, self.credentials.private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            # The key parsed as PEM text at startup but is not a usable RSA key.
            raise ConfigError(f"the GitHub App private key cannot sign: {exc}") from None

    def cached(self) -> str | None:
        """The installation token if it is still comfortably valid."""
        if self._token is not None and self._clock() < self._renew_at:
            return self._token
        return None

    def remember(self, answer: Any) -> str:
        """Keep the token from an exchange answer `{"token", "expires_at"}`; ValueError if the
        answer has no token."""
        token = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise ValueError("the access_tokens answer has no token")
        if not usable_in_header(token):
            # A line break would inject a header; non-ASCII or a space cannot be a bearer
            # token. Not quoted: whatever it is, it was meant to be a credential.
            raise ValueError("the access_tokens answer's token cannot go in a header")
        lifetime_s = TOKEN_LIFETIME_S  # if expires_at is missing or no date
        expires_at = answer.get("expires_at")
        if isinstance(expires_at, str):
            try:
                when = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
                lifetime_s = when.timestamp() - self._wall_clock()
            except ValueError:
                pass
        self._token = token
        hold(token)  # every redactor in the process hides it from now on
        # Wall-clock expiry turned into a deadline on the monotonic clock, within bounds: an
        # expiry already past (our clock or GitHub's far off) would mint a token per call, one
        # centuries away would keep it for ever (a 401 still renews it early).
        renew_in_s = min(lifetime_s, TOKEN_LIFETIME_S) - REFRESH_MARGIN_S
        self._renew_at = self._clock() + max(renew_in_s, MIN_TOKEN_REUSE_S)
        return token

    def invalidate(self, token: str) -> None:
        """Forget `token` (GitHub refused it); a newer token, if any, is kept."""
        if self._token == token:
            self._token = None
