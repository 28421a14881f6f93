"""The status page's sessions: the signed cookie value a login sets, and which sessions a
logout ended, as every replica reads it from the store.

A session cookie's value is `<issued>.<id>.<signature>`: when it was issued (epoch seconds), a
random id, and an HMAC of both keyed with the API token, so that nobody without the token can
make or change one, and rotating the token ends every session. The id is what a logout ends:
`POST /logout` writes one record per ended session into the store (keyed by a hash of the id,
expiring `ENDED_KEPT_S` after the session would have), and every replica refuses a session
whose record it reads. A copy of the cookie (a stolen one, a shared machine's) stops working with the logout.

Each replica remembers for `RECHECK_S` that a session had not ended, so reloads and API calls
cost the store one read per session per `RECHECK_S`, and a logout on another replica is
honoured here within that time (on the replica that took the logout, at once). An ended
session is remembered until it would have expired. When the store cannot say whether a
session ended, the session reads on (`EndedSessions.ended`, logged once per outage): it can
only read, and an operator must not lose the page during the outage it is needed for.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog

from triage.errors import TriageError
from triage.incidents import Store
from triage.logs import start_background

log = structlog.get_logger(__name__)

#: How long a session reads: a shift, and a night's incident.
SESSION_S = 12 * 3600
#: How far a session's issue time may be ahead of this replica's clock: another replica's
#: clock that reads a little ahead issued it, and the browser's next request came here.
CLOCK_SKEW_S = 300
#: How long an ended session's record outlives the session, so that a replica whose clock
#: reads behind the store's still finds it while that replica would take the session.
ENDED_KEPT_S = 3600
#: How long a replica trusts an answer that a session had not ended: the longest a logout on
#: another replica takes to be honoured here.
RECHECK_S = 2.0
#: Sessions each replica remembers (as not ended, and as ended): a page's operators, many times.
KEPT = 1024

#: Why a session cookie was refused, most telling first: the word that `HttpRefused{reason}`
#: counts and the page's log line names.
LOGGED_OUT = "session_logged_out"
EXPIRED = "session_expired"
#: Signed with another key: the token was rotated, or someone made the value up.
INVALID = "session_invalid"
#: Not a session value of this release (an older release's, or one cut or edited).
GARBLED = "session_garbled"
_TELLING = (LOGGED_OUT, EXPIRED, INVALID, GARBLED)

V = TypeVar("V")

_VALUE = re.compile(r"([0-9]{1,12})\.([0-9a-f]{32})\.([0-9a-f]{64})")


@dataclass(frozen=True, slots=True)
class Session:
    """One login's session: when it was issued (epoch seconds, the issuing replica's clock)
    and its random id."""

    issued_s: int
    id: str

    @property
    def key(self) -> str:
        """What the store keeps of an ended session: a hash of its id, never the cookie."""
        return hashlib.blake2b(self.id.encode(), digest_size=16).hexdigest()

    @property
    def tag(self) -> str:
        """A short name for logs, the same at its login, logout and refusal lines."""
        return self.key[:8]

    @property
    def expires_s(self) -> int:
        return self.issued_s + SESSION_S


def most_telling(reasons: list[str]) -> str | None:
    """Of the reasons the cookies sent were refused for, the one to tell the operator."""
    return min(reasons, key=_TELLING.index) if reasons else None


class SessionSigner:
    """Makes session cookie values and reads them back (signature and age; not whether a
    logout ended them: `EndedSessions`)."""

    def __init__(self, key: bytes, wall_clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._clock = wall_clock

    def issue(self) -> tuple[str, Session]:
        """A new session, and the cookie value that carries it."""
        session = Session(int(self._clock()), secrets.token_hex(16))
        value = f"{session.issued_s}.{session.id}.{self._sign(session)}"
        return value, session

    def read(self, value: str) -> Session | str:
        """The session `value` carries, or why it is refused (`GARBLED`, `INVALID`,
        `EXPIRED`). Compared in constant time."""
        found = _VALUE.fullmatch(value)
        if found is None:
            return GARBLED
        session = Session(int(found.group(1)), found.group(2))
        if not hmac.compare_digest(found.group(3).encode(), self._sign(session).encode()):
            return INVALID
        age_s = self._clock() - session.issued_s
        if not -CLOCK_SKEW_S <= age_s <= SESSION_S:
            return EXPIRED
        return session

    def _sign(self, session: Session) -> str:
        message = f"session:{session.issued_s}:{session.id}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


class EndedSessions:
    """Which sessions a logout ended, read from the store every replica shares, with a short
    bounded memory of the answers (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float] = time.monotonic,
        recheck_s: float = RECHECK_S,
    ) -> None:
        self._store = store
        self._clock = clock
        self.recheck_s = recheck_s
        #: Session key → when (this clock) the store last said it had not ended.
        self._live: dict[str, float] = {}
        #: Session key → when the session expires (epoch seconds): ended sessions never revive.
        self._ended: dict[str, int] = {}
        #: One store read per session at a time: concurrent requests share it.
        self._reading: dict[str, asyncio.Future[bool]] = {}
        #: Whether the last read failed, so that an outage is one warning and one recovery.
        self._failing = False

    async def ended(self, session: Session) -> bool:
        """Whether a logout ended `session`. When the store cannot tell, False: the session
        reads on (fail-open), with one `status_page.session_unchecked` warning per outage."""
        key = session.key
        if key in self._ended:
            return True
        checked = self._live.get(key)
        if checked is not None and self._clock() - checked < self.recheck_s:
            return False
        reading = self._reading.get(key)
        if reading is None:
            reading = start_background(self._read(session), name="status-page-session-read")
            self._reading[key] = reading
            reading.add_done_callback(lambda _: self._reading.pop(key, None))
        # Shielded: a request that goes away does not cancel the read the others wait for.
        return await asyncio.shield(reading)

    async def end(self, session: Session) -> bool:
        """End `session` for every replica: True when this call ended it, False when a logout
        had ended it already. Raises the store's TriageError when it cannot be recorded."""
        ended_now = await self._store.end_session(session.key, session.expires_s + ENDED_KEPT_S)
        self._remember_ended(session)
        return ended_now

    async def _read(self, session: Session) -> bool:
        try:
            ended = await self._store.session_ended(session.key)
        except TriageError as exc:
            if not self._failing:
                log.warning("status_page.session_unchecked", reason=exc.reason, error=str(exc))
            self._failing = True
            ended = False  # fail-open: see the module docstring
        else:
            if self._failing:
                log.info("status_page.session_checked_again")
            self._failing = False
        if ended:
            self._remember_ended(session)
        else:
            _keep(self._live, session.key, self._clock())
        return ended

    def _remember_ended(self, session: Session) -> None:
        self._live.pop(session.key, None)
        now_s = time.time()
        if len(self._ended) >= KEPT:
            # Those past their expiry first; the store still knows any dropped here.
            for key in [k for k, expires in self._ended.items() if expires < now_s]:
                del self._ended[key]
        _keep(self._ended, session.key, session.expires_s)


def _keep(kept: dict[str, V], key: str, value: V) -> None:
    """`kept[key] = value` as the newest entry, the oldest dropped past KEPT."""
    kept.pop(key, None)
    while len(kept) >= KEPT:
        del kept[next(iter(kept))]
    kept[key] = value
