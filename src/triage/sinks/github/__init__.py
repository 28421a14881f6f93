"""The GitHub issues sink. The file names are the map:

- `sink`: the effects (open, update, close, reopen) and the issue's later life;
- `access`: whether our credentials reach a repository, and what a refusal means;
- `lookup`: finding triage's own issues and comments by their hidden markers;
- `digest`: the issue-creation budgets, and the storm digest beyond them;
- `refs`: what an incident's reference names (`IssueRef`);
- `refusals`: locks and archives GitHub refused lately, not asked again for a while;
- `text`: what is written, made inert;
- `api`: calls, errors and rate limits; `auth`: a token or a GitHub App.
"""

from triage.sinks.github.refs import IssueRef
from triage.sinks.github.sink import GitHubSink

__all__ = ["GitHubSink", "IssueRef"]
