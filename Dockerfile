# syntax=docker/dockerfile:1
# triage: alert-triage daemon. Build: docker build -t triage .
# One image, two processes: `docker run IMAGE` runs the daemon (`triage run`), `docker run IMAGE
# ingest` the webhook gateway (`triage ingest`, port 8081). Both serve /healthz on 8080.
# Stage 1 builds a virtualenv from the lock file; stage 2 copies only that venv into a slim
# image with a non-root user, so no compiler, uv or tests reach production.

# The base image is pinned by digest (the multi-arch index of python:3.11-slim), so every
# rebuild gets the same Python and Debian layers. 3.11 is the Python CI tests (.ci/run's python3,
# pyproject's requires-python; tests/test_container_files.py checks they agree). To bump it:
#   docker buildx imagetools inspect python:3.11-slim    # the "Digest:" line of the index
# put that digest in both FROM lines (keep the tag for readers), rebuild, run the test suite.
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7 AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /src
# Dependencies first (cached while only our code changes), then the project itself; with the
# otel extra, so setting OTEL_EXPORTER_OTLP_ENDPOINT is all traces need.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra otel --no-install-project
COPY src ./src
RUN uv sync --frozen --no-dev --extra otel --no-editable

FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    TRIAGE_STORE_URL=sqlite:////var/lib/triage/triage.db
RUN groupadd --system --gid 10001 triage \
    && useradd --system --uid 10001 --gid triage --home-dir /var/lib/triage --create-home triage
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /var/lib/triage
# The ECS task definitions mount a task volume at /tmp, the one writable path of their read-only
# root filesystem. Fargate makes such a bind mount root-owned, mode 0755 (not writable by user
# 10001), unless the image declares the path a VOLUME: then it copies the image's /tmp (1777).
# (`docker run` without --rm leaves the anonymous volume behind; `docker volume prune` frees it.)
VOLUME ["/tmp"]
# 8080: /healthz, /readyz, /metrics (either process); 8081: the gateway's webhooks.
EXPOSE 8080 8081
# `triage health` probes /healthz on TRIAGE_HTTP_PORT, which both processes serve; ECS and
# compose read this check.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["python", "-m", "triage", "health"]
# Exec form: python is PID 1's child under ECS initProcessEnabled and gets SIGTERM directly.
ENTRYPOINT ["python", "-m", "triage"]
# The default command; `ingest` (or any other triage command) replaces it.
CMD ["run"]
