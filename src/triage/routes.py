"""Routing: which sinks a new incident's ticket goes to, and with which per-sink options.

Without a routes file every incident goes to `TRIAGE_SINKS`. With `TRIAGE_ROUTES_FILE`, the
first `[[route]]` whose `match` fits the incident decides; none fitting means `TRIAGE_SINKS`:

    [[route]]
    name = "payments"                        # shown in logs and errors
    sinks = ["backend", "github", "slack"]
    [route.match]                            # every key given must match; none given = any
    team = ["payments", "billing"]           # any of these (case-insensitive)
    source = ["cloudwatch", "grafana"]
    priority = ["critical", "high"]          # the ticket's priority (stated, else summarised)
    labels = { env = "prod", cluster = "*" } # every label equal ("*": present at all)
    [route.github]
    repository = "acme/payments"             # else GITHUB_REPOSITORY
    labels = ["payments"]
    assignees = ["alice"]
    [route.slack]
    webhook_url_env = "SLACK_PAYMENTS_WEBHOOK"   # the variable holding the URL (or webhook_url)

    [[route]]
    name = "disk"
    sinks = ["backend", "github"]
    escalate_after_s = 1800                  # still open after 30 min: escalate, once
    [route.match]
    category = ["disk-full"]                 # the known-error pattern the alert matches
    [route.escalate]
    slack_webhook_url_env = "SLACK_ONCALL_WEBHOOK"   # or slack_webhook_url
    github_assignees = ["oncall-lead"]       # added to the incident's issue …
    github_label = "escalated"               # … with this label and a comment

    [[route]]
    name = "log-searches"
    sinks = ["backend", "github"]
    resolve_after_s = 14400                  # no alert for 4 h: closed (sources that never resolve)
    [route.match]
    source = ["graylog", "splunk"]

    [[route]]
    name = "crash-loops"
    sinks = ["backend", "github"]
    group_by = ["alertname", "namespace"]    # alerts agreeing on these labels: one incident
    group_window_s = 30                      # its first ticket waits this long for members
    [route.match]
    source = ["alertmanager"]

A route is chosen once, when the incident opens; its updates, closes and reopens go to the sinks
that took the ticket. A grouping route (one with `group_by`) is chosen before the summary, so
its `priority` matches the alert's stated priority (else the one its severity gives), and a
route that matches on `category` (the known-error patterns of the deterministic summariser,
`TRIAGE_PATTERNS_FILE`) is never a grouping route. Its groups are keyed by its name, or by
`group_key` when given: a grouping route renamed with `group_key = "<its old name>"` keeps its
open groups and tickets. Any mistake in the file (unknown key, sink,
source, category or priority, options for a sink the route does not use, a route that an
earlier one leaves nothing to match, an empty matcher (`team = []` would match every alert) or
a blank one (`team = [""]`), a team or label value written as a pattern (`pay*`, `a|b`,
`^prod$`, `=~prod`: values are compared whole), a value listed twice, a webhook given both ways, a TOML syntax
error, bytes that are not UTF-8, a webhook variable that is unset or no variable's name) stops
`check` and startup with one line naming it in TOML's words, with the word a typo was of (`unknown key; did you mean 'team'?`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from triage import config_files
from triage.errors import ConfigError
from triage.models import Alert, Priority
from triage.normalize import (
    alertmanager,
    aws_shared,
    chatbot,
    checkers,
    cloudwatch,
    common,
    eventbridge,
    generic,
    grafana,
    monitors,
    raygun,
    sentry,
    sns,
    splunk,
    splunk_o11y,
    trackers,
    uptime,
    vendors,
)
from triage.route_variables import MAX_FILE_BYTES as MAX_FILE_BYTES
from triage.route_variables import read_routes_file
from triage.route_variables import variables_read as variables_read
from triage.settings import (
    KNOWN_SINKS,
    MAX_DURATION_S,
    Settings,
    as_written,
    authority_problem,
    did_you_mean,
    validation_message,
)
from triage.sinks.base import DEFAULT_TARGET, Target
from triage.view import RedactedAlert

#: inf and nan are no durations (an escalation after inf seconds overflows the sweep's clock).
#: Durations are strict (a TOML integer or float): a boolean would be 1 second, in silence.
_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

#: Every `source` an alert can have: a route matching another could never match.
KNOWN_SOURCES = (
    alertmanager.SOURCE,
    aws_shared.SOURCE,
    cloudwatch.SOURCE,
    eventbridge.SOURCE,
    generic.GENERIC,
    grafana.SOURCE,
    sentry.SOURCE,
    sns.SOURCE,
    generic.THRESHOLD,
    *vendors.SOURCES,
    *monitors.SOURCES,
    splunk.SOURCE,
    splunk_o11y.SOURCE,
    *trackers.SOURCES,
    *uptime.SOURCES,
    *checkers.SOURCES,
    raygun.SOURCE,
    chatbot.SOURCE,
)

#: Routes are tried in order for every new incident, and each is checked against every
#: earlier one at startup (can it ever match?): a thousand is more than any team writes.
MAX_ROUTES = 1000

#: Suffixes of formats people reach for instead (Alertmanager's routes are YAML).
_NOT_TOML = frozenset({".json", ".yaml", ".yml"})

#: A name shown in logs and errors, a label or a login: words, without control characters.
_Text = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
#: A GitHub label (GitHub takes at most 50 characters).
_Label = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=50, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
#: A GitHub login: letters, digits and single hyphens, at most 39 characters.
_LOGIN = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$"
_Login = Annotated[str, StringConstraints(pattern=_LOGIN)]
#: A Slack incoming webhook: https with a host.
_WEBHOOK = r"^https://[^/?#\s]+\S*$"
#: An escalation's Slack webhook: http(s) with a host.
_ANY_WEBHOOK = r"^https?://[^/?#\s]+\S*$"
#: "owner/name", as GITHUB_REPOSITORY.
_REPOSITORY = r"^[\w.-]+/[\w.-]+$"
#: The name of an environment variable (as BACKEND_TOKEN_ENV_KEY must be).
_VARIABLE = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
#: Each pattern above as an error says it (the regex itself tells an operator nothing).
_PATTERN_WORDS = {
    r"^[^\x00-\x1f\x7f]+$": "must be words without control characters",
    _LOGIN: "must be a GitHub login (letters, digits and single hyphens, at most 39)",
    _WEBHOOK: "must be an https:// URL",
    _ANY_WEBHOOK: "must be an http(s):// URL",
    _REPOSITORY: "must be owner/name",
    # Never the value: the webhook URL itself, a credential, is the likely slip here.
    _VARIABLE: "must be the name of the variable that holds the URL (letters, digits and _)",
}


def _collapsed(value: Any) -> Any:
    """A string with its whitespace collapsed as the normaliser collapses an alert's team and
    labels (so `" prod "` matches "prod"); anything else as it is, for pydantic to judge."""
    return " ".join(value.split()) if isinstance(value, str) else value


def _seen_once(values: Iterable[Any], same: Callable[[str], str] = str) -> None:
    """A ValueError naming the first value listed twice (as `same` compares them): a
    copy-paste slip that hides the value meant."""
    first: dict[str, str] = {}
    for value in values:
        key = same(str(value))
        if key in first:
            raise ValueError(f"lists {first[key][:_LABEL_CHARS]!r} twice")
        first[key] = str(value)


def _no_alert_has(value: str, limit: int) -> str | None:
    """Why no alert's team or label can equal `value` (sources remove control characters
    and cut longer values), else None."""
    if not value.isprintable():  # collapsed: its only whitespace is plain spaces
        return "must be words without control characters"
    if len(value) > limit:
        return f"must be at most {limit} characters (sources cut longer values)"
    return None


#: The leading operators of Alertmanager's and amtool's matchers (`=~`, `!=`, `!~`), and the
#: `~` some tools write for a regex: a route's value is no matcher.
_MATCHER_OPERATORS = ("=~", "!=", "!~", "~", "!")


def _written_as_a_pattern(value: str) -> str | None:
    """What makes `value` a glob, a regex or a matcher rather than a team's or label's value
    (a `*`, alternatives joined by `|`, a `^` or `$` anchor, a matcher's operator), else None.
    Such a value is compared whole, so a route naming it matches no alert, in silence."""
    if "*" in value:
        return 'a "*"'
    if "|" in value:
        return 'alternatives joined by "|"'
    if value.startswith("^") or value.endswith("$"):
        return 'a regex\'s "^" or "$"'
    operator = next((op for op in _MATCHER_OPERATORS if value.startswith(op)), None)
    if operator is not None:
        return f"a matcher's {operator!r}"
    return None


def _many(value: Any) -> bool:
    """Whether a label's value in a routes file was written as a list (a TOML array)."""
    return isinstance(value, list | tuple)


def _label_value(value: str) -> str:
    """A label matcher's value: "*" or one an alert's label can have. A `*` beside other
    text (`prod-*`, written as Alertmanager's and the shell's globs are) is refused: values
    are compared whole, so it would be a route that matches no alert, in silence."""
    if not value:
        raise ValueError(
            'an empty value matches no alert (alerts have no empty labels); "*" matches any value'
        )
    if "*" in value and value != "*":
        raise ValueError(
            f'{value[:_LABEL_CHARS]!r}: only "*" alone matches any value; a label value is '
            "compared whole, with no patterns (list the values in routes of their own, or "
            "match on another label)"
        )
    pattern = _written_as_a_pattern(value) if value != "*" else None
    if pattern is not None:
        raise ValueError(
            f"{value[:_LABEL_CHARS]!r} is written as a pattern ({pattern}), but a label value "
            "is compared whole, with no patterns (list the values in routes of their own, or "
            "match on another label)"
        )
    reason = _no_alert_has(value, common.LABEL_VALUE_MAX)
    if reason is not None:
        raise ValueError(reason)
    return value


_LabelValue = Annotated[str, BeforeValidator(_collapsed), AfterValidator(_label_value)]


class _Match(BaseModel):
    model_config = _STRICT

    team: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    priority: tuple[Priority, ...] = ()
    labels: dict[str, _LabelValue] = Field(default_factory=dict)
    category: tuple[str, ...] = ()

    @field_validator("team", "source", "priority", "category", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any, info: ValidationInfo) -> Any:
        """One word or an array of them, each trimmed and lowercased as alerts' are compared
        (P0..P3 read as priorities); an empty array matched every alert and a blank word
        (`team = [""]`) every alert without one, so both are refused."""
        words = [value] if isinstance(value, str) else value
        if not isinstance(words, list | tuple):
            return value  # no word nor array of them: pydantic refuses it in words
        if not words:
            raise ValueError(f"must not be empty (leave {info.field_name} out to match any alert)")
        words = [_collapsed(w).lower() if isinstance(w, str) else w for w in words]
        if "" in words:
            raise ValueError("must not hold a blank entry (it matches no alert)")
        if info.field_name == "priority":
            # P0..P3 as the sources state them; a word no source uses is left for the enum.
            words = [common.priority(w) or w if isinstance(w, str) else w for w in words]
        return words

    @field_validator("team", "source", "priority", "category")
    @classmethod
    def _each_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _seen_once(value)
        return value

    @field_validator("team")
    @classmethod
    def _a_team_an_alert_can_have(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        reason = next(
            (r for r in (_no_alert_has(t, common.LABEL_VALUE_MAX) for t in value) if r), None
        )
        if reason is not None:
            raise ValueError(reason)
        for team in value:
            pattern = _written_as_a_pattern(team)
            if pattern is not None:
                raise ValueError(
                    f"{team[:_LABEL_CHARS]!r} is written as a pattern ({pattern}), but a team "
                    'is compared whole, with no patterns: list each team (team = ["payments", '
                    '"billing"]), or leave team out to match any alert'
                )
        return value

    @field_validator("labels", mode="before")
    @classmethod
    def _label_names(cls, value: Any) -> Any:
        """Label names trimmed as alerts' are; an empty table matched every alert, and a name
        no alert's label can have matches none, so both are refused."""
        if not isinstance(value, dict):
            return value  # pydantic refuses it in words
        if not value:
            raise ValueError("must not be empty (leave labels out to match any alert)")
        names = [_collapsed(k) for k in value]
        if "" in names:
            raise ValueError("a blank label name matches no alert")
        reason = next(
            (r for r in (_no_alert_has(n, common.LABEL_KEY_MAX) for n in names) if r), None
        )
        if reason is not None:
            raise ValueError(f"a label name {reason}")
        _seen_once(names)
        listed = next((n for n, v in zip(names, value.values(), strict=True) if _many(v)), None)
        if listed is not None:
            # As `team` and `source` take lists, people write one here too; pydantic's
            # "expected a string" says nothing of what to write instead.
            raise ValueError(
                f'label {listed[:_LABEL_CHARS]!r} takes one value ("*": any value), not a '
                "list: match each value in routes of their own (or match on another label)"
            )
        return dict(zip(names, value.values(), strict=True))

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in value if s not in KNOWN_SOURCES]
        if unknown:
            meant = did_you_mean(unknown[0], KNOWN_SOURCES)
            known = meant or f"; known: {', '.join(sorted(KNOWN_SOURCES))}"
            raise ValueError(f"unknown source {unknown[0][:40]!r}{known}")
        return value


class _GitHub(BaseModel):
    model_config = _STRICT

    repository: str | None = Field(None, pattern=_REPOSITORY)
    labels: tuple[_Label, ...] = ()
    assignees: tuple[_Login, ...] = ()

    @field_validator("labels", "assignees")
    @classmethod
    def _each_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _seen_once(value, str.casefold)  # GitHub's labels and logins are the same in any case
        return value


def _readable_webhook(value: str | None) -> str | None:
    """A webhook URL whose host and port a client can read (`authority_problem`): one with a
    port that is no number, or an IPv6 address not closed, would fail every post."""
    problem = None if value is None else authority_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


class _Slack(BaseModel):
    model_config = _STRICT

    webhook_url: Annotated[str | None, AfterValidator(_readable_webhook)] = Field(
        None, pattern=_WEBHOOK
    )
    webhook_url_env: str | None = Field(None, pattern=_VARIABLE)

    @model_validator(mode="after")
    def _one_webhook(self) -> _Slack:
        if self.webhook_url and self.webhook_url_env:
            raise ValueError("give webhook_url or webhook_url_env, not both")
        return self


class _Escalate(BaseModel):
    model_config = _STRICT

    slack_webhook_url: Annotated[str | None, AfterValidator(_readable_webhook)] = Field(
        None, pattern=_ANY_WEBHOOK
    )
    slack_webhook_url_env: str | None = Field(None, pattern=_VARIABLE)
    github_assignees: tuple[_Login, ...] = ()
    github_label: _Label | None = None

    @field_validator("github_assignees")
    @classmethod
    def _each_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _seen_once(value, str.casefold)
        return value

    @model_validator(mode="after")
    def _one_webhook(self) -> _Escalate:
        if self.slack_webhook_url and self.slack_webhook_url_env:
            raise ValueError("give slack_webhook_url or slack_webhook_url_env, not both")
        return self


class _Route(BaseModel):
    model_config = _STRICT

    name: _Text
    sinks: tuple[str, ...] = Field(min_length=1)
    match: _Match = _Match()
    group_by: tuple[_Text, ...] = ()
    group_window_s: float = Field(0.0, ge=0, strict=True)
    group_key: _Text | None = None
    github: _GitHub = _GitHub()
    slack: _Slack = _Slack()
    escalate_after_s: float | None = Field(None, gt=0, le=MAX_DURATION_S, strict=True)
    escalate: _Escalate | None = None
    resolve_after_s: float | None = Field(None, gt=0, le=MAX_DURATION_S, strict=True)

    @model_validator(mode="after")
    def _options_of_its_sinks(self) -> _Route:
        """[route.github] or [route.slack] on a route without that sink would be ignored in
        silence: most likely the sink was left out of `sinks` by mistake."""
        for sink in ("github", "slack"):
            if sink in self.model_fields_set and sink not in self.sinks:
                raise ValueError(f"[route.{sink}] is given but {sink} is not in sinks")
        for grouping in ("group_window_s", "group_key"):
            if grouping in self.model_fields_set and not self.group_by:
                raise ValueError(f"{grouping} is given but the route has no group_by")
        return self

    @field_validator("sinks", mode="before")
    @classmethod
    def _a_list(cls, value: Any) -> Any:
        """`sinks = "backend,github"`, written as TRIAGE_SINKS is: refused showing the TOML
        list meant (pydantic says only "expected an array"). Only known sinks' names are
        shown back, never other text of the value."""
        if not isinstance(value, str):
            return value
        words = [w for w in re.split(r"[\s,;]+", value.lower()) if w]
        meant = words if words and all(w in KNOWN_SINKS for w in words) else ["backend"]
        shown = ", ".join(f'"{w}"' for w in dict.fromkeys(meant))
        raise ValueError(f"expected an array, not a string: sinks = [{shown}]")

    @field_validator("sinks")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in value if s not in KNOWN_SINKS]
        if unknown:
            meant = did_you_mean(unknown[0], KNOWN_SINKS)
            known = f"; known: {', '.join(KNOWN_SINKS)}"
            raise ValueError(f"unknown sink {unknown[0][:40]!r}{meant or known}")
        _seen_once(value)
        return value

    @field_validator("group_by")
    @classmethod
    def _label_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Label names an alert can have, each once; `group_by = []` groups nothing."""
        if not value:
            raise ValueError("must not be empty (leave group_by out for no grouping)")
        too_long = next((n for n in value if len(n) > common.LABEL_KEY_MAX), None)
        if too_long is not None:
            raise ValueError(
                f"must name labels of at most {common.LABEL_KEY_MAX} characters (sources cut "
                "longer names)"
            )
        _seen_once(value)
        return value


class _File(BaseModel):
    model_config = _STRICT

    route: tuple[_Route, ...] = Field((), max_length=MAX_ROUTES)


class Routable(Protocol):
    """What a rule reads of an alert: the alert itself, or its redacted view."""

    @property
    def source(self) -> str: ...
    @property
    def team(self) -> str | None: ...
    @property
    def labels(self) -> Mapping[str, str]: ...


@dataclass(frozen=True, slots=True)
class Escalation:
    """Who hears of an incident of the route still open after `escalate_after_s`."""

    #: A Slack incoming webhook (the escalation message), if any.
    slack_webhook_url: str | None = None
    #: Logins assigned to the incident's GitHub issue, and a label added to it.
    github_assignees: tuple[str, ...] = ()
    github_label: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """The decision for one incident: sinks in the order they run, and each one's target."""

    name: str
    sinks: tuple[str, ...]
    targets: Mapping[str, Target]
    #: Label names whose values make alerts of this route one incident (empty: no grouping).
    group_by: tuple[str, ...] = ()
    #: How long a group's first ticket waits for more members.
    group_window_s: float = 0.0
    #: The name its groups are keyed by and found again by (`grouping_name`), when not its own:
    #: a grouping route renamed keeps its open groups by keeping its old name here.
    group_key: str | None = None
    #: An incident still open this long after it opened (or reopened) is escalated, once.
    escalate_after_s: float | None = None
    escalation: Escalation | None = None
    #: An incident of this route with no alert for this long is closed by the sweep (for
    #: sources that never send a resolve); None: never.
    resolve_after_s: float | None = None

    def target(self, sink: str) -> Target:
        return self.targets.get(sink, DEFAULT_TARGET)

    @property
    def grouping_name(self) -> str:
        """What its groups are keyed by and stored under: `group_key`, else its name."""
        return self.group_key or self.name


@dataclass(frozen=True, slots=True)
class _Rule:
    route: Route
    team: frozenset[str]
    source: frozenset[str]
    priority: frozenset[Priority]
    labels: Mapping[str, str]
    category: frozenset[str] = frozenset()

    def matches(
        self, alert: Routable, priority: Priority | None, categories: frozenset[str] | None = None
    ) -> bool:
        """True if the rule takes `alert`; `categories` None means they are not known yet (a
        grouping decision, before the summary), and a rule that needs them does not match."""
        if self.category and (categories is None or not self.category & categories):
            return False
        if self.team and (alert.team or "").lower() not in self.team:
            return False
        if self.source and alert.source.lower() not in self.source:
            return False
        if self.priority and priority not in self.priority:
            return False
        for key, want in self.labels.items():
            have = _label(alert, key)
            if have is None or (want != "*" and have != want):
                return False
        return True

    def covers(self, other: _Rule) -> bool:
        """True if every alert `other` matches, this rule matches too: placed before it, this
        rule leaves `other` nothing to match."""
        for mine, theirs in (
            (self.team, other.team),
            (self.source, other.source),
            (self.priority, other.priority),
            (self.category, other.category),
        ):
            if mine and not (theirs and theirs <= mine):
                return False
        return all(
            key in other.labels and want in ("*", other.labels[key])
            for key, want in self.labels.items()
        )


def _label(alert: Routable, name: str) -> str | None:
    """The value of `alert`'s label `name` a rule compares: an alert's whole, past the
    64-label cap too (`Alert.label`); a redacted view's as it shows it."""
    if isinstance(alert, Alert):
        return alert.label(name)
    return alert.labels.get(name)


#: The known-error categories an alert's redacted view matches.
Categorise = Callable[[RedactedAlert], frozenset[str]]


class Router:
    def __init__(
        self,
        default: Route,
        rules: tuple[_Rule, ...] = (),
        categorise: Categorise | None = None,
    ) -> None:
        self.default = default
        self.rules = rules
        self._categorise = categorise

    def route(
        self, alert: Routable, priority: Priority, view: RedactedAlert | None = None
    ) -> Route:
        """The first route that takes `alert`; `view` (its redacted view) is what the
        known-error categories are found in, when a rule asks for one (without it, such a
        rule does not match)."""
        categories: frozenset[str] | None = None
        for rule in self.rules:
            if rule.category and categories is None and view is not None:
                categories = self.categories(view)
            if rule.matches(alert, priority, categories):
                return rule.route
        return self.default

    def categories(self, view: RedactedAlert) -> frozenset[str]:
        """The known-error categories (`patterns.toml`) `view` matches."""
        return self._categorise(view) if self._categorise is not None else frozenset()

    def grouping(
        self,
        alert: Alert,
        priority: Priority | None,
        view: Callable[[], RedactedAlert] | None = None,
    ) -> Route | None:
        """The route that groups `alert`, when the first route it matches has `group_by`.
        A known-error route (`category`, never a grouping one) before it takes the alert when
        the alert's redacted `view` (made only when such a route's other matchers hold) shows
        one of its categories, as `route` reads them once the ticket is written: the alert is
        then that route's incident, not a member of a later route's group. Without `view`,
        such routes are passed over (nothing to read the categories from)."""
        categories: frozenset[str] | None = None
        for rule in self.rules:
            if rule.category and categories is None and view is not None:
                if not rule.matches(alert, priority, rule.category):
                    continue  # its other matchers fail: no need to redact the alert
                categories = self.categories(view())
            if rule.matches(alert, priority, categories):
                return rule.route if rule.route.group_by else None
        return None

    def named(self, name: str) -> Route:
        """The route a group names (kept in the store): the grouping route keyed by `name`
        (its `group_key`, else its name), else the route called `name`, else the default."""
        routes = [r.route for r in self.rules]
        keyed = (r for r in routes if r.group_by and r.grouping_name == name)
        return next(keyed, next((r for r in routes if r.name == name), self.default))

    def recorded(self, name: str | None) -> Route | None:
        """The route called `name`, the one a single incident's ticket took (kept with it:
        `Routing.route`), the default by its own name too; None when no route is called that
        now (renamed or removed since) or none was kept (a record from before it was), so the
        caller routes as it did without it. An effect carried out without its alert reads its
        route here: the incident keeps 64 labels, cut and redacted, which may match another."""
        if name is None:
            return None
        route = next((r.route for r in self.rules if r.route.name == name), None)
        if route is None and name == self.default.name:
            return self.default
        return route

    def before_summary(self, alert: Alert) -> str | None:
        """The name of the route `alert` takes whatever its summary says, chosen from the whole
        alert (its team, source and every label, whole) when its incident is decided and kept
        with it (`Incident.route`) until its ticket's route replaces it: an open carried out
        without the alert (a silence's held open, the sweep's redo of one whose summary never
        came) then goes where the alert would have (`recorded`). None when the summary still
        decides: the first route the alert may match asks for a priority the alert does not
        state (the summary's is the ticket's) or for a known-error category (read from the
        summary's view). The default's name when no route can match. Only a route's name is
        kept, no alert text."""
        stated = alert.priority
        for rule in self.rules:
            # Met by some summary: a priority it asks for, a category it names.
            some_priority = stated if stated is not None else next(iter(rule.priority), None)
            if rule.matches(alert, some_priority, rule.category):
                summary_decides = bool(rule.category) or (stated is None and bool(rule.priority))
                return None if summary_decides else rule.route.name
        return self.default.name

    @property
    def sink_names(self) -> tuple[str, ...]:
        """Every sink any route can use, in run order: the ones the daemon must build."""
        used = set(self.default.sinks)
        for rule in self.rules:
            used.update(rule.route.sinks)
        return tuple(s for s in KNOWN_SINKS if s in used)

    @property
    def github_without_repository(self) -> Route | None:
        """The first route (the default, TRIAGE_SINKS's, first) that sends to GitHub without
        naming its repository, so that its issues need GITHUB_REPOSITORY; None if none does."""
        routes = [self.default, *(rule.route for rule in self.rules)]
        return next(
            (r for r in routes if "github" in r.sinks and not r.target("github").repository),
            None,
        )

    @property
    def slack_needs_default(self) -> bool:
        """True if some incident may go to Slack without a route's own webhook, so
        SLACK_WEBHOOK_URL must be set."""
        if "slack" in self.default.sinks:
            return True
        return any(
            "slack" in rule.route.sinks and not rule.route.target("slack").webhook_url
            for rule in self.rules
        )


def require_slack_webhook(router: Router, settings: Settings) -> None:
    """Raise ConfigError naming what sends to Slack without a webhook when SLACK_WEBHOOK_URL
    is unset: TRIAGE_SINKS (the route of alerts no route matches) or the first route sending
    to slack without its own `webhook_url`. A team that never listed slack in TRIAGE_SINKS
    cannot place "required for the slack sink" otherwise."""
    default = settings.slack_webhook_url
    if default is not None and default.get_secret_value().strip():
        return
    if "slack" in router.default.sinks:
        where = "TRIAGE_SINKS sends alerts no route matches to slack"
    else:
        without = next(
            (
                rule.route
                for rule in router.rules
                if "slack" in rule.route.sinks and not rule.route.target("slack").webhook_url
            ),
            None,
        )
        if without is None:
            return
        where = f"route {without.name!r} sends to slack without [route.slack] webhook_url"
    raise ConfigError(
        f"SLACK_WEBHOOK_URL is not set, and {where}: set SLACK_WEBHOOK_URL, or a webhook_url "
        "(or webhook_url_env) on every route that sends to slack"
    )


def require_github_credentials(router: Router, settings: Settings) -> None:
    """Raise ConfigError naming what sends to GitHub (TRIAGE_SINKS, or the first route sending
    there) when neither GITHUB_TOKEN nor any GITHUB_APP_* setting is given: a team that never
    listed github in TRIAGE_SINKS cannot place "the github sink needs a token" otherwise. An
    App given in part is the GitHub sink's to name (what is missing of it). Called where the
    GitHub sink is built, before `require_github_repository`."""
    app = (
        settings.github_app_id,
        settings.github_app_private_key,
        settings.github_app_private_key_file,
        settings.github_app_installation_id,
    )
    if settings.github_token is not None or any(part is not None for part in app):
        return
    if "github" in router.default.sinks:
        where = "TRIAGE_SINKS sends alerts no route matches to github"
    else:
        sending = next((r.route for r in router.rules if "github" in r.route.sinks), None)
        if sending is None:
            return
        where = f"route {sending.name!r} sends to github"
    raise ConfigError(
        f"GITHUB_TOKEN is not set, nor a GitHub App, and {where}: set GITHUB_TOKEN, or "
        "GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_FILE) and "
        "GITHUB_APP_INSTALLATION_ID"
    )


def require_github_repository(router: Router, settings: Settings) -> None:
    """Raise ConfigError when some incident may go to GitHub with no repository to open its
    issue in: GITHUB_REPOSITORY unset, and TRIAGE_SINKS (the route of alerts no route matches)
    or a route sends to GitHub without its own `repository`. The GitHub sink would otherwise
    refuse every such issue at run time, and each of their alerts would go to the DLQ. Called
    where the GitHub sink is built, as Slack's default webhook is required there."""
    if settings.github_repository:
        return
    without = router.github_without_repository
    if without is None:
        return
    where = (
        "TRIAGE_SINKS sends alerts no route matches to github"
        if without is router.default
        else f"route {without.name!r} sends to github without [route.github] repository"
    )
    raise ConfigError(
        f"GITHUB_REPOSITORY is not set, and {where}: GitHub would refuse every such issue; "
        "set GITHUB_REPOSITORY, or a repository on every route that sends to github"
    )


def load_router(settings: Settings) -> Router:
    """The router the settings describe; raises ConfigError with one line for any mistake."""
    # GITHUB_REPOSITORY is named in the routes' targets, so an effect's kept body says which
    # repository its first attempt went to (`Sent.to`), and a redo by a replica whose
    # GITHUB_REPOSITORY changed since goes there too.
    github_default = settings.github_repository
    sinks = _ordered(settings.sinks)
    default = Route("default", sinks, _default_targets(sinks, github_default))
    if settings.routes_file is None:
        return Router(default)
    path = settings.routes_file
    hint = " (routes files are TOML)" if path.suffix.lower() in _NOT_TOML else ""
    data = config_files.parse_toml(_read(path), f"TRIAGE_ROUTES_FILE {path}", hint)
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"TRIAGE_ROUTES_FILE {path}: {_first_error(exc, data)}") from None
    rules = tuple(_rule(route, path, github_default) for route in parsed.route)
    lease_s = settings.effect_lease_s
    for rule in rules:
        if rule.route.group_window_s * 2 > lease_s:
            raise ConfigError(
                f"TRIAGE_ROUTES_FILE {path}: route {rule.route.name!r}: group_window_s "
                f"({rule.route.group_window_s:g}) must be at most half of TRIAGE_EFFECT_LEASE_S "
                f"({lease_s:g}), so a gathering group is never taken for an abandoned one"
            )
    names = [r.route.name for r in rules]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ConfigError(f"TRIAGE_ROUTES_FILE {path}: route name {duplicate!r} is used twice")
    _check_default_name(rules, default.name, path)
    _check_group_keys(rules, path)
    _check_reachable(rules, path)
    categorise = _categoriser(settings, rules, path) if any(r.category for r in rules) else None
    return Router(default, rules, categorise)


def no_routes_problem(settings: Settings, router: Router) -> str | None:
    """What is wrong with a routes file that holds no `[[route]]` (only comments, a template
    with every route commented out, `route = []`), else None. It is taken as no routes file
    (every incident to TRIAGE_SINKS), as a team writing "no routes yet" means; yet a file set
    and routing nothing is as often a config map's routes left out, so start-up and `triage
    check` say so (a file of whitespace alone is refused: `config_files.read_text`)."""
    if settings.routes_file is None or router.rules:
        return None
    return (
        f"TRIAGE_ROUTES_FILE {settings.routes_file} holds no [[route]]: every incident goes to "
        f"TRIAGE_SINKS ({', '.join(router.default.sinks)}); add a [[route]], or unset "
        "TRIAGE_ROUTES_FILE to go without one"
    )


def _check_default_name(rules: tuple[_Rule, ...], default: str, path: Path) -> None:
    """The route of TRIAGE_SINKS is kept with its incidents under `default`'s name, and
    `Router.recorded` finds a file's route by that name first: a route so named (in any case,
    to read apart in logs) would take the later effects of every incident no route matched.
    A last route matching every alert is the exception: it leaves that route no incident (the
    catch-all written `name = "default"`, as people do)."""
    catch_all = bool(rules) and _matches_any(rules[-1])
    for rule in rules[:-1] if catch_all else rules:
        if rule.route.name.casefold() == default.casefold():
            raise ConfigError(
                f"TRIAGE_ROUTES_FILE {path}: route name {rule.route.name!r} is the name of the "
                "route of TRIAGE_SINKS (alerts no route matches): give the route another "
                "name (only a last route that matches every alert may be called so)"
            )


def _matches_any(rule: _Rule) -> bool:
    """Whether `rule` has no matcher: it takes every alert."""
    return not (rule.team or rule.source or rule.priority or rule.labels or rule.category)


def _check_group_keys(rules: tuple[_Rule, ...], path: Path) -> None:
    """Two grouping routes keyed alike would share groups, and a group's effects would find
    only the first of them: refused, naming the key (a route's name, or its `group_key`)."""
    keys = [r.route.grouping_name for r in rules if r.route.group_by]
    shared = next((k for k in keys if keys.count(k) > 1), None)
    if shared is not None:
        raise ConfigError(
            f"TRIAGE_ROUTES_FILE {path}: group key {shared!r} is used twice (a grouping "
            "route's group_key, else its name)"
        )


def _read(path: Path) -> str:
    """The file's text; one ConfigError line for a file that cannot be a routes file."""
    return read_routes_file(path)


def _check_reachable(rules: tuple[_Rule, ...], path: Path) -> None:
    """A route that an earlier one covers can never match: say so, rather than route its
    alerts elsewhere in silence (a catch-all placed first, a copy-pasted condition)."""
    for i, later in enumerate(rules):
        for earlier in rules[:i]:
            if earlier.covers(later):
                raise ConfigError(
                    f"TRIAGE_ROUTES_FILE {path}: route {later.route.name!r} can never match: "
                    f"route {earlier.route.name!r} before it takes every alert it would"
                )


def _categoriser(settings: Settings, rules: tuple[_Rule, ...], path: Path) -> Categorise:
    """The deterministic summariser's pattern matcher: the categories it would name. A rule
    naming a category no pattern has could never match, so it is a ConfigError."""
    from triage.summarise.deterministic import DeterministicSummariser, load_patterns

    patterns = load_patterns(settings.patterns_file)
    known = {p.category.lower() for p in patterns}  # a route's words are lower-cased
    for rule in rules:
        unknown = sorted(rule.category - known)
        if unknown:
            raise ConfigError(
                f"TRIAGE_ROUTES_FILE {path}: route {rule.route.name!r}: unknown category "
                f"{unknown[0][:40]!r}{_categories_meant(unknown[0], known)}"
            )
    summariser = DeterministicSummariser(patterns)

    def categorise(view: RedactedAlert) -> frozenset[str]:
        return frozenset(p.category.lower() for p in summariser.match(view))

    return categorise


def _categories_meant(given: str, known: set[str]) -> str:
    """The category `given` was a typo of, else a few that TRIAGE_PATTERNS_FILE names."""
    meant = did_you_mean(given, known)
    if meant:
        return meant
    return f" (TRIAGE_PATTERNS_FILE names {len(known)}, e.g. {', '.join(sorted(known)[:5])})"


def _default_targets(sinks: tuple[str, ...], github_default: str | None) -> dict[str, Target]:
    """TRIAGE_SINKS's route's targets: GitHub's is GITHUB_REPOSITORY, when set."""
    if "github" in sinks and github_default:
        return {"github": Target(repository=github_default)}
    return {}


def _rule(route: _Route, path: Path, github_default: str | None = None) -> _Rule:
    """The rule of `route`; a route sending to GitHub without a `repository` of its own has
    `github_default` (GITHUB_REPOSITORY) as its target's."""
    targets: dict[str, Target] = {}
    if "github" in route.sinks:
        targets["github"] = Target(
            repository=route.github.repository or github_default,
            labels=route.github.labels,
            assignees=route.github.assignees,
        )
    if "slack" in route.sinks:
        webhook = route.slack.webhook_url
        if route.slack.webhook_url_env:
            where = f"TRIAGE_ROUTES_FILE {path}: route {route.name!r}"
            webhook = _webhook_from(route.slack.webhook_url_env, where)
        targets["slack"] = Target(webhook_url=webhook)
    return _Rule(
        route=Route(
            route.name,
            _ordered(route.sinks),
            targets,
            group_by=route.group_by,
            group_window_s=route.group_window_s,
            group_key=route.group_key,
            escalate_after_s=route.escalate_after_s,
            escalation=_escalation(route, path),
            resolve_after_s=route.resolve_after_s,
        ),
        team=frozenset(route.match.team),
        source=frozenset(route.match.source),
        priority=frozenset(route.match.priority),
        labels=dict(route.match.labels),
        category=frozenset(route.match.category),
    )


def _escalation(route: _Route, path: Path) -> Escalation | None:
    where = f"TRIAGE_ROUTES_FILE {path}: route {route.name!r}"
    if route.group_by and route.match.category:
        raise ConfigError(f"{where}: a grouping route cannot match on category")
    given = route.escalate
    if route.escalate_after_s is None:
        if given is not None:
            raise ConfigError(f"{where}: [route.escalate] needs escalate_after_s")
        return None
    if given is None:
        raise ConfigError(f"{where}: escalate_after_s needs a [route.escalate] target")
    webhook = given.slack_webhook_url
    if given.slack_webhook_url_env:
        webhook = _webhook_from(given.slack_webhook_url_env, where)
    wants_github = bool(given.github_assignees or given.github_label)
    if wants_github and "github" not in route.sinks:
        raise ConfigError(f"{where}: escalating on GitHub needs the github sink in sinks")
    if webhook is None and not wants_github:
        raise ConfigError(
            f"{where}: [route.escalate] names no target (slack_webhook_url, github_assignees, "
            "github_label)"
        )
    return Escalation(webhook, given.github_assignees, given.github_label)


def _webhook_from(variable: str, where: str) -> str:
    """The webhook URL the environment variable `variable` holds, read as SLACK_WEBHOOK_URL is
    (`as_written`: an env file keeps the quotes a shell drops). Unset, or no http(s) URL, is a
    ConfigError now: every post would otherwise be refused and its alert dead-lettered. The
    value is a credential: the message names the variable only."""
    webhook = as_written(os.environ.get(variable, ""))
    if not webhook:
        raise ConfigError(f"{where}: {variable} is not set")
    if not re.fullmatch(r"https?://[^/?#\s]+\S*", webhook, re.IGNORECASE):
        raise ConfigError(f"{where}: {variable} is not an http(s) URL")
    problem = authority_problem(webhook)
    if problem is not None:
        raise ConfigError(f"{where}: {variable} {problem}")
    return webhook


def _ordered(sinks: tuple[str, ...]) -> tuple[str, ...]:
    """Sinks in run order (backend, github, slack), each once."""
    return tuple(s for s in KNOWN_SINKS if s in sinks)


def _first_error(exc: ValidationError, data: Any) -> str:
    """Pydantic's first error as one line in triage's words, naming the route by its name
    when it has one. A misspelt key comes first: the "Field required" it also causes for the
    key it was meant to be says less."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    where = list(error["loc"])
    if len(where) >= 2 and where[0] == "route" and isinstance(where[1], int):
        where = [_route_label(data, where[1]), *where[2:]]
    path = ".".join(str(part) for part in where)
    return f"{path}: {_error_words(error)}"


def _route_label(data: Any, index: int) -> str:
    """`route 'name'`, else `route #n` for the route at `index` of the file's data."""
    routes = data.get("route") if isinstance(data, dict) else None
    name = None
    if isinstance(routes, list) and index < len(routes) and isinstance(routes[index], dict):
        name = routes[index].get("name")
    if not isinstance(name, str) or not name:
        return f"route #{index + 1}"  # a name of another type is refused; this only labels it
    if len(name) > _LABEL_CHARS:
        name = f"{name[:_LABEL_CHARS]}…"  # a name too long is refused; this only labels it
    return f"route {name!r}"


#: The model each table of the file is validated by, by the key it is written under.
_TABLES: dict[str, type[BaseModel]] = {
    "route": _Route,
    "match": _Match,
    "github": _GitHub,
    "slack": _Slack,
    "escalate": _Escalate,
}


#: How much of a route's name labels an error about it.
_LABEL_CHARS = 40

#: pydantic's words for a value of the wrong shape, in TOML's (array, table, string).
_TOML_WORDS = {
    "missing": "required",
    "tuple_type": "expected an array",
    "list_type": "expected an array",
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "string_type": "expected a string",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
}
#: pydantic's refusals of a value that is no number at all.
_NOT_A_NUMBER = frozenset({"float_parsing", "float_type"})
#: pydantic's words for a value too long: ours, and the bound's key in `ctx`.
_TOO_LONG = {
    "string_too_long": "must be at most {} characters",
    "too_long": "must have at most {} entries",
}


def _error_words(error: Any) -> str:
    """What one pydantic error means in the routes file: an unknown key with the one it was a
    typo of, a pattern by what it wants, else as the settings say it."""
    if error["type"] == "extra_forbidden":
        *parents, key = error["loc"]
        table = next((p for p in reversed(parents) if isinstance(p, str)), None)
        fields = _TABLES.get(table or "", _File).model_fields
        meant = did_you_mean(key, fields)
        return f"unknown key{meant or '; known: ' + ', '.join(fields)}"
    if error["type"] in _NOT_A_NUMBER and str(error["loc"][-1]).endswith("_s"):
        # Durations are seconds, as in the settings: "4h" is the likely slip.
        return "expected a number of seconds (14400 for 4 h)"
    if error["type"] in _TOML_WORDS:
        return _TOML_WORDS[error["type"]]
    limit = (error.get("ctx") or {}).get("max_length")
    if error["type"] in _TOO_LONG and limit is not None:
        return _TOO_LONG[error["type"]].format(limit)
    if error["type"] == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern")
        if pattern in _PATTERN_WORDS:
            return _PATTERN_WORDS[pattern]
    return validation_message(error)
