"""The GitHub issues sink: `sink` (the effects), `api` (calls, errors, rate limits), `auth`
(a token or a GitHub App), `text` (what is written, made inert)."""

from triage.sinks.github.sink import GitHubSink, IssueRef

__all__ = ["GitHubSink", "IssueRef"]
