"""`triage ingest`: the authenticated webhook gateway in front of the alerts queue.

Grafana, Alertmanager, Sentry and scripts POST to `/v1/alerts/{source}`, and Prometheus and
vmalert to Alertmanager's own `/api/v2/alerts` (the alertmanager source); each request is
authenticated per source (`auth.py`), its head and body read within bounds (`shape.py`,
`reader.py`), read by the daemon's own normaliser (`validate.py`) and queued as sent (decoded
when it came compressed or in another charset), coalesced with its neighbours into
SendMessageBatch calls (`outbox.py`); the answer (`answers.py`) is 202 only once SQS holds the
body (`gateway.py`, which lists a request's steps in order). What aiohttp would do on its own
is done the gateway's way (`server.py`: another path, `Expect: 100-continue`, each connection):
how many connections stay open and which goes for a new one (`connections.py`), how a
connection's bytes become requests (`framing.py`), what an unparsable request is answered and
logged as (`bad_http.py`), and what is logged and counted of a request its sender went away
from (`aborts.py`). `service.py` runs it as a process. It does nothing else: the
daemon stays the only place where alerts become tickets.
"""

from triage.ingest.service import IngestService, run_gateway

__all__ = ["IngestService", "run_gateway"]
