"""One TLS client context for the whole process.

Every HTTP client (the sinks', the model's, each AWS client's connector) would otherwise build
its own context and load the CA bundle again: 30-45 ms of CPU each, several times at start-up.
A context is safe to share between connections and clients.
"""

from __future__ import annotations

import functools
import os
import ssl

import httpx2


def client_context(cafile: str | None = None) -> ssl.SSLContext:
    """The process's verifying client context: httpx2's default (SSL_CERT_FILE, SSL_CERT_DIR,
    else the system's CA bundle), or one for the bundle `cafile` names (botocore's
    AWS_CA_BUNDLE / REQUESTS_CA_BUNDLE). Each is built, and its bundle loaded, once."""
    if cafile is not None and cafile == os.environ.get("SSL_CERT_FILE"):
        cafile = None  # the same bundle httpx2's default loads: one context for both
    return _context(cafile)


@functools.cache
def _context(cafile: str | None) -> ssl.SSLContext:
    if cafile is None:
        return httpx2.create_ssl_context()
    return ssl.create_default_context(cafile=cafile)
