"""Round 9 leaks (helper 398): credentials that still left `Redactor().text` as real alerts carry
them, one class per section, each with the ordinary neighbours that must stay as they are."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

PASSWORD = "Zq8vTn3Rk7Wp2Ys"
P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- a command that prints a secret, run through sudo, a container or ssh ----------------------


@pytest.mark.parametrize(
    "command",
    [
        "sudo cat /var/lib/jenkins/secrets/initialAdminPassword",
        "sudo -u postgres cat /etc/app/db_password",
        "docker exec jenkins cat /var/jenkins_home/secrets/initialAdminPassword",
        "docker exec -it -u root app printenv DB_PASSWORD",
        "podman exec app cat /run/secrets/db_password",
        "kubectl exec -it api-7d9 -n prod -- printenv DB_PASSWORD",
        "kubectl exec deploy/api -c app -- cat /var/run/secrets/app/api_token",
        "sudo printenv DB_PASSWORD",
        "sudo vault kv get -field=password secret/db",
        "sudo -E terraform output -raw db_password",
        "ssh bastion cat /etc/app/db_password",
        "ssh -i ~/.ssh/ops -p 2222 ops@db1 sudo cat /etc/app/db_password",
        "sudo docker exec app printenv DB_PASSWORD",
    ],
)
def test_a_secret_printed_through_a_runner_is_blanked(command: str) -> None:
    """A command that prints a secret after a prompt prints it as well under sudo, docker or
    kubectl exec, or ssh: the output line after it is blanked."""
    assert _text(f"$ {command}\n{PASSWORD}\n$ ls") == f"$ {command}\n{P}\n$ ls"


@pytest.mark.parametrize(
    "text",
    [
        # A file or variable not named like a secret prints nothing secret.
        "$ sudo cat /etc/hostname\nweb01",
        "$ docker exec app printenv HOSTNAME\napp-7d9f",
        "$ kubectl exec -it api -- cat /etc/os-release\nNAME=Debian",
        # Without a prompt `cat f` is a script's line, and the next line is not its output.
        "sudo cat /etc/app/db_password\nrestarting orders-api",
        # A runner's name in prose is not a runner.
        "$ echo ran sudo cat /etc/app/db_password\nrestarting orders-api",
    ],
)
def test_a_runner_of_an_ordinary_command_keeps_its_output(text: str) -> None:
    """What a runner runs prints a secret only when the command would without it."""
    assert _text(text) == text


# --- Twilio: an account's or an API key's secret right after its sid --------------------------

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
KEY_SID = "SK0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
KEY_SECRET = "Zq8vTn3Rk7Wp2YsAq9bLm4Xc8Dr2Fh6J"
T = "[REDACTED:twilio-key]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{ACCOUNT_SID}:{AUTH_TOKEN}", f"{ACCOUNT_SID}:{T}"),
        (
            f'client = Client("{ACCOUNT_SID}", "{AUTH_TOKEN}")',
            f'client = Client("{ACCOUNT_SID}", "{T}")',
        ),
        (
            f"twilio.rest.Client('{ACCOUNT_SID}', '{AUTH_TOKEN}')",
            f"twilio.rest.Client('{ACCOUNT_SID}', '{T}')",
        ),
        (f"new Twilio('{ACCOUNT_SID}','{AUTH_TOKEN}');", f"new Twilio('{ACCOUNT_SID}','{T}');"),
        (f'{{"sid": "{ACCOUNT_SID}", "token": "x"}} {ACCOUNT_SID}, {AUTH_TOKEN}', None),
        (f"{KEY_SID}:{KEY_SECRET}", f"[REDACTED:token]:{T}"),
        (f'Client("{KEY_SID}", "{KEY_SECRET}", "{ACCOUNT_SID}")', None),
    ],
    ids=["sid-colon", "python-client", "python-module", "node-client", "list", "key", "key-call"],
)
def test_a_twilio_secret_after_its_sid_is_blanked(text: str, expected: str | None) -> None:
    """Twilio's credential is a pair, the sid (public) then the auth token or API key secret:
    the secret beside the sid is blanked whatever names it."""
    shown = _text(text)
    assert AUTH_TOKEN not in shown
    assert KEY_SECRET not in shown
    assert ACCOUNT_SID in shown or ACCOUNT_SID not in text
    if expected is not None:
        assert shown == expected


@pytest.mark.parametrize(
    "text",
    [
        f"TWILIO_ACCOUNT_SID={ACCOUNT_SID}",
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM{AUTH_TOKEN}.json",
        f"{ACCOUNT_SID}, MG{AUTH_TOKEN}",
        f"{ACCOUNT_SID}: message {AUTH_TOKEN[:8]} queued",
    ],
)
def test_twilio_sids_and_ids_stay(text: str) -> None:
    """A sid, a resource path and another resource's sid after an account's are public."""
    assert _text(text) == text
