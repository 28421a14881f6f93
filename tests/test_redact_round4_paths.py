"""A key's file path is no secret (round 4): a key option's path (`--private-key
/etc/ssl/key.pem`), a key's name over a path (`ssh_private_key: ~/.ssh/id_ed25519`), the file
`docker secret create` reads (`./secret.txt`). A key given in place of the path, and the value
right after a password option, still go.
"""

from __future__ import annotations

import pytest

from triage.redact import Redactor


@pytest.mark.parametrize(
    "text",
    [
        "docker secret create db_pw ./secret.txt",
        "docker secret create --label env=prod db_pw ./secret.txt",
        "podman secret create db_pw ../keys/db.txt",
        "ansible-playbook --private-key /etc/ssl/key.pem site.yml",
        "ansible-playbook --private-key=/etc/ssl/key.pem site.yml",
        "ansible-playbook --private-key ~/.ssh/id_rsa site.yml",
        'ansible-playbook --private-key "C:\\Users\\bob\\.ssh\\id_rsa" site.yml',
        "deploy --signing-key ./keys/release.asc --push",
        "deploy --ssh_private_key ~/.ssh/id_ed25519 --push",
        "ssh -i ~/.ssh/id_rsa deploy@host",
        "curl --key-file=/etc/ssl/key.pem https://x",
        "ssh_private_key: ~/.ssh/id_ed25519",
        "private_key = /etc/ssl/private/key.pem",
        '{"tls_private_key": "/etc/ssl/private/key.pem"}',
        "signing_key: ./keys/release.asc",
        "kubectl create secret generic db --from-file=password=./pw.txt",
        "kubectl create secret generic db --from-file=api_token=/run/keys/token.txt",
    ],
)
def test_a_key_file_path_stays(text: str) -> None:
    """A path under a key's option or name, or a secret's file, is left as it is."""
    assert Redactor().text(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("deploy --private-key Zq7xK9pL2vWx8mN3bV5c --push", "Zq7xK9pL2vWx8mN3bV5c"),
        ("deploy --private-key /Zq7xK9pL2vWx8mN3/bV5c --push", "Zq7xK9pL2vWx8mN3"),
        ("deploy --private-key 0x4c0883a69102937d6231471b5dbb6204fe5129617082792a", "4c0883a691"),
        ("private_key: /Zq7xK9pL2vWx8mN3bV5c+", "Zq7xK9pL2vWx8mN3bV5c"),
        ("mysql --password /etc/ssl/key.pem", "/etc/ssl/key.pem"),
        ("mysql --password=./hunter2", "hunter2"),
        ("the password is ./Zq7x-K9pL", "Zq7x-K9pL"),
        ("kubectl create secret generic db --from-literal=password=./hunter2", "hunter2"),
        ("kubectl create secret generic db --from-file=password=./Zq7xK9pL2vWx", "Zq7xK9pL2vWx"),
    ],
)
def test_a_key_or_a_password_that_is_not_a_path_goes(text: str, secret: str) -> None:
    """A key in place of the path (random parts, hex), and a password option's value even
    when shaped like a path, still go."""
    assert secret not in Redactor().text(text)


@pytest.mark.parametrize(
    "text",
    [
        "the winrs -password: option is unsafe",
        "never pass winrs -password: on the command line",
        "winrs -r:host -u:admin -password: was rejected",
        "the winrs -password option is unsafe",
        "call Connect-Db -Password only from a vault",
        "net use /password: is required here",
    ],
)
def test_prose_after_a_password_option_stays(text: str) -> None:
    """A word of prose after `-password:`, `-Password` or `/password:`: the option is talked
    about, not given, and every word stays."""
    assert Redactor().text(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("winrs -r:host -u:admin -password:Hunter2x ipconfig", "Hunter2x"),
        ("winrs -r:host -u:admin -password: Hunter2x ipconfig", "Hunter2x"),
        ("Connect-Db -Password Hunter2x", "Hunter2x"),
        ("net use /password: Hunter2x", "Hunter2x"),
    ],
)
def test_the_value_after_a_password_option_still_goes(text: str, secret: str) -> None:
    """The value right after a password option, glued or after a space, is a secret."""
    assert secret not in Redactor().text(text)
