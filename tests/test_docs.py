"""The README tells the truth about configuration and the quick start."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path

import pytest
from pydantic import SecretStr

from triage.settings import Settings, credential_file_variables, env_name

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    """Each environment variable Settings reads appears in the README's configuration table."""
    missing = [env_name(f) for f in Settings.model_fields if f"`{env_name(f)}`" not in README]
    assert missing == []


def test_quick_start_has_the_two_commands_ci_runs() -> None:
    """The quick start's test command is the one .ci/run executes."""
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 dev.py demo" in README
    assert "python3 dev.py test" in README
    assert "python3 dev.py test" in ci


def test_env_example_lists_every_setting() -> None:
    """.env.example names every environment variable Settings reads, so `cp .env.example .env`
    shows the whole configuration."""
    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text(encoding="utf-8")
    names = {
        line.split("=", 1)[0]
        for line in example.splitlines()
        if "=" in line and not line.startswith("#")
    }
    missing = [env_name(f) for f in Settings.model_fields if env_name(f) not in names]
    assert missing == []


# --- the configuration table -----------------------------------------------------------------

#: Defaults the table states in words, each with the environment it describes (None: unset)
#: and what Settings then holds.
DERIVED_DEFAULTS: dict[str, tuple[dict[str, str | None], Callable[[Settings], bool]]] = {
    "AWS_REGION": (
        {"AWS_REGION": None, "AWS_DEFAULT_REGION": "eu-west-3"},
        lambda s: s.aws_region == "eu-west-3",
    ),
    "TRIAGE_LLM_PROVIDER": ({"OPENAI_API_KEY": "sk-test"}, lambda s: s.llm == "openai"),
    "TRIAGE_FLAP_QUIET_S": ({}, lambda s: s.flap_quiet_s is None),
    "TRIAGE_PATTERNS_FILE": ({}, lambda s: s.patterns_file is None),
}


def configuration_table() -> dict[str, str]:
    """The README's configuration table: variable → its default cell."""
    start = README.index("| variable | default | meaning |")
    rows = README[start : README.index("\n\n", start)].splitlines()[2:]
    table = {}
    for row in rows:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        name = re.fullmatch(r"`([A-Z][A-Z0-9_]*)`", cells[0])
        assert name is not None, row
        table[name.group(1)] = cells[1]
    return table


def code_default(field: str) -> object:
    """What Settings holds for `field` when its variable is unset, as the table writes it."""
    value = Settings.model_fields[field].get_default(call_default_factory=True)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, tuple):
        value = ",".join(value)
    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value


def test_the_configuration_table_names_exactly_the_settings() -> None:
    """Every row of the README's configuration table is a variable Settings reads, and every
    variable Settings reads has a row."""
    documented = set(configuration_table())
    read = {env_name(f) for f in Settings.model_fields}
    assert (sorted(documented - read), sorted(read - documented)) == ([], [])


def test_every_default_in_the_configuration_table_is_the_code_default() -> None:
    """A literal default in the table (`20`, `json`, `http://localhost:4000`) is what Settings
    holds when the variable is unset; `—` means unset (None)."""
    table = configuration_table()
    wrong = []
    for field in Settings.model_fields:
        name = env_name(field)
        cell = table[name]
        if name in DERIVED_DEFAULTS:
            continue
        literal = re.fullmatch(r"`([^`]*)`", cell)
        expected: object = literal.group(1) if literal else None
        if not literal:
            assert cell.startswith("—"), f"{name}: {cell!r} is neither a value nor —"
        if str(code_default(field)) != str(expected) and code_default(field) != expected:
            wrong.append((name, cell, code_default(field)))
    assert wrong == []


@pytest.mark.parametrize("name", sorted(DERIVED_DEFAULTS))
def test_defaults_the_table_states_in_words_hold(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table's worded defaults (`AWS_DEFAULT_REGION`, else `us-east-1`; `openai` with
    `OPENAI_API_KEY`; the reopen window; the bundled patterns) are what Settings does."""
    assert not configuration_table()[name].startswith("—")
    environment, holds = DERIVED_DEFAULTS[name]
    for key, value in environment.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    assert holds(Settings())


# --- the commands table ----------------------------------------------------------------------

#: Sample values for the placeholders the README's command lines use.
PLACEHOLDERS = {
    "N": "3",
    "T": "payments",
    "FINGERPRINT": "0f71bd4e951738198a3c904c0023a01d",
    "TEXT": "why",
    "NAME": "alice",
    "ID": "ec582d388484",
    "K=V": "team=payments",
    "FILE…": "alert.json",
    "FILE": "-",
}


def readme_command_lines() -> list[str]:
    """Every `triage …` command the README's Commands table and operator's console show."""
    start = README.index("| command | what it does |")
    table = README[start : README.index("\n\n", start)].splitlines()[2:]
    commands = [c for row in table for c in re.findall(r"`(triage [^`]*)`", row.split(" | ", 1)[0])]
    console = README[README.index("```console\n$ triage") :].split("\n```", 1)[0]
    commands += [line[2:] for line in console.splitlines() if line.startswith("$ triage")]
    return commands


def argv_of(command: str) -> list[str]:
    """The argv of a README command line: optional parts taken, the first of alternatives
    (`open\\|closed\\|all`), placeholders given sample values, repeats (`[--match …]`) dropped."""
    command = re.sub(r"\[--\w+ …\]", "", command)
    command = re.sub(r"\\\|[^\s\]]+", "", command)
    command = re.sub(r"\[([^\]]*)\]", r"\1", command)
    return [PLACEHOLDERS.get(word, word) for word in shlex.split(command.removeprefix("triage "))]


@pytest.mark.parametrize("command", readme_command_lines())
def test_every_command_the_readme_shows_parses(command: str) -> None:
    """Each command line of the README's Commands table and operator's console, with its
    options, is accepted by the real argument parser."""
    from triage.cli import _parser

    if command.endswith("--version"):
        with pytest.raises(SystemExit) as exited:
            _parser().parse_args(argv_of(command))
        assert exited.value.code == 0
    else:
        _parser().parse_args(argv_of(command))


def test_the_readme_shows_every_command() -> None:
    """Every subcommand of the parser has a row in the README's Commands table."""
    from triage.cli import _parser

    (sub,) = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    shown = {argv_of(c)[0] for c in readme_command_lines() if not c.endswith("--version")}
    assert sorted(set(sub.choices) - shown) == []


def subparser(argv: list[str]) -> argparse.ArgumentParser:
    """The parser of the deepest command that `argv`'s leading words name."""
    from triage.cli import _parser

    parser = _parser()
    for word in argv:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or word not in subs[0].choices:
            break
        parser = subs[0].choices[word]
    return parser


def test_every_option_a_commands_row_mentions_is_the_commands() -> None:
    """An option the Commands table names in a row's text (`--drain`, `--dlq-url`, `--ready`)
    is an option of that row's command."""
    start = README.index("| command | what it does |")
    rows = README[start : README.index("\n\n", start)].splitlines()[2:]
    missing = []
    for row in rows:
        first, text = row.split(" | ", 1)
        options: set[str] = set()
        for command in re.findall(r"`(triage [^`]*)`", first):
            options |= set(subparser(argv_of(command))._option_string_actions)
        missing += [o for o in re.findall(r"(--[a-z][a-z-]*)", text) if o not in options]
    assert missing == []


# --- the stand-ins the README tells a reader to run ------------------------------------------


def readme_module_commands() -> list[str]:
    """Each `python -m MODULE …` stand-in the README shows (not `python -m triage …`)."""
    found = re.findall(r"`python -m ([\w.]+(?: [^`]*)?)`", README)
    return sorted({c for c in found if c.split()[0] != "triage"})


@pytest.mark.parametrize("command", readme_module_commands())
def test_every_stand_in_the_readme_runs_quietly_with_its_options(command: str) -> None:
    """`python -m MODULE --help` of each stand-in the README shows exits 0 with nothing on
    stderr (no runpy warning that the module was imported twice), and lists every option
    the README's line gives it."""
    module, *options = command.split()
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=ROOT / "tests",
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert [o for o in options if o.startswith("--") and o not in result.stdout] == []


def test_every_triage_variable_the_readmes_name_is_a_setting() -> None:
    """A `TRIAGE_*` variable named anywhere in README.md or deploy/README.md (prose included,
    not only the table) is one Settings reads, so no text sends a reader to a stale name."""
    deploy = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\bTRIAGE_[A-Z0-9_]*[A-Z0-9]\b", README + deploy))
    read = {env_name(f) for f in Settings.model_fields} | credential_file_variables()
    assert sorted(named - read - NOT_SETTINGS) == []


#: `TRIAGE_*` names the READMEs use that are not the daemon's: the script example's own
#: variable for its token, the deploy tests' Terraform provider mirror, and the misspelt name
#: the configuration's example of a refusal shows.
NOT_SETTINGS = {"TRIAGE_GENERIC_TOKEN", "TRIAGE_TF_PROVIDER_MIRROR", "TRIAGE_CONCURENCY"}


#: The settings .env.example gives the compose stack's own values instead of the defaults.
COMPOSE_VALUES = {
    "ALERT_TRIAGE_QUEUE_URL",
    "AWS_ENDPOINT_URL",
    "BACKEND_BASE_URL",
    "BACKEND_TOKEN_SECRET_ID",
    "TRIAGE_BACKEND_UPDATE_ROUTE",
    "TRIAGE_BACKEND_RESOLVE_ROUTE",
    "TRIAGE_STORE_URL",
    "TRIAGE_HTTP_HOST",
    "TRIAGE_INGEST_TOKENS",
}


def test_env_example_holds_the_defaults_but_the_compose_stacks_own_values() -> None:
    """Every value .env.example sets is the setting's default (empty: unset), except the few
    the compose stack needs, so a reader copying it learns the real defaults."""
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    values = dict(
        line.split("=", 1) for line in example.splitlines() if "=" in line and line[0] != "#"
    )
    differ = []
    for field in Settings.model_fields:
        name, default = env_name(field), code_default(field)
        if str("" if default is None else default) != values[name]:
            differ.append(name)
    assert sorted(differ) == sorted(COMPOSE_VALUES)
