"""Less CPU per request for an in-process moto server (the suite's, and the deploy harness's).

Every request to moto's server paid for two things no test reads: moto listed its own package
directory (`os.listdir` and an `isdir` per service, ~0.6 ms) to see whether the Host header
names a service, and werkzeug logged an access line at INFO, which pytest's capture handlers
formatted and kept. Together ~1 ms of the ~2.5 ms moto spends on a SendMessage, in a suite
that makes tens of thousands of requests on two cores. What moto answers is unchanged.
"""

from __future__ import annotations

import functools
import logging
from typing import Any
from urllib.parse import urlsplit

import aioboto3


def lighter_moto_requests() -> None:
    """List moto's service modules once, and log only werkzeug's warnings and errors.
    Idempotent; call it before the server answers its first request."""
    from moto import backends

    if not getattr(backends, "_triage_listed_once", False):
        # The package directory does not change while the process runs.
        names = frozenset(backends.list_of_moto_modules())
        backends.list_of_moto_modules = lambda: names
        backends._triage_listed_once = True  # type: ignore[attr-defined]
    # An explicit level: werkzeug sets INFO on its first line only when none is set.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


@functools.cache
def aws_session() -> aioboto3.Session:
    """One aioboto3 session for the test process. Each new session loads and parses botocore's
    service models again (~50-100 ms a client on this machine), which a fixture making a client
    per test paid every test; clients made from one session share the parsed models."""
    return aioboto3.Session(region_name="us-east-1")


def plain_loopback(endpoint_url: str) -> bool:
    """Whether `endpoint_url` is plain HTTP on 127.0.0.1: no TLS, so nothing to verify."""
    parts = urlsplit(endpoint_url)
    return parts.scheme == "http" and parts.hostname == "127.0.0.1"


def loopback_aws_client(service: str, endpoint_url: str, **options: Any) -> Any:
    """An aioboto3 client of `service` (an async context manager) on the process's one session.
    On a plain-HTTP 127.0.0.1 endpoint (moto's server, a fault proxy) `verify=False` checks
    nothing less, and spares the client loading the CA bundle into an SSL context it never
    uses (16-40 ms of CPU a client); any other endpoint keeps botocore's verification."""
    if plain_loopback(endpoint_url):
        options.setdefault("verify", False)
    return aws_session().client(service, endpoint_url=endpoint_url, **options)
