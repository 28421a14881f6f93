"""Round 10 (helper 405): secrets that still leaked through the redactor as real alerts carry
them (curl's `--oauth2-bearer`, Perforce's `p4 -P`, Debian's `wpa-psk`), each with the
neighbours that must stay as they are."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

PASSWORD = "Xk9vQ2mZp7Lw4Rt"
#: A bearer token shorter than the 16 characters the `Bearer` rule asks for.
SHORT_TOKEN = "Xk9vQ2mZp7Lw"
P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


@pytest.mark.parametrize(
    "text",
    [
        f"curl --oauth2-bearer {SHORT_TOKEN} https://api.example.com",
        f"curl --oauth2-bearer={SHORT_TOKEN} https://api.example.com",
        f"curl -s --oauth2-bearer '{SHORT_TOKEN}' https://api.example.com",
        f"curl --OAUTH2-BEARER {SHORT_TOKEN} https://api.example.com",
    ],
)
def test_curl_oauth2_bearer_token_is_redacted(text: str) -> None:
    """curl's `--oauth2-bearer X` sends X as the bearer token: it goes, however short."""
    out = _text(text)
    assert SHORT_TOKEN not in out
    assert "--oauth2-bearer" in out.lower()


@pytest.mark.parametrize(
    "text",
    [
        "curl --oauth2-bearer $TOKEN https://api.example.com",
        "use the --oauth2-bearer option to send a token",
    ],
)
def test_curl_oauth2_bearer_placeholder_and_prose_stay(text: str) -> None:
    """A variable after `--oauth2-bearer`, or prose about the option, stays as written."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"p4 -P {PASSWORD} sync //depot/...", f"p4 -P {P} sync //depot/..."),
        (
            f"p4 -p perforce:1666 -u builder -P {PASSWORD} changes -m1",
            f"p4 -p perforce:1666 -u builder -P {P} changes -m1",
        ),
    ],
)
def test_perforce_password_option_is_redacted(text: str, expected: str) -> None:
    """Perforce's global `p4 -P X` is the user's password (or ticket): it goes."""
    assert _text(text) == expected


def test_perforce_port_option_stays() -> None:
    """`p4 -p host:1666` is the server's address, not a password: it stays."""
    text = "p4 -p perforce.example.com:1666 -u builder info"
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"    wpa-psk {PASSWORD}", f"    wpa-psk {P}"),
        (
            f'iface wlan0 inet dhcp\n    wpa-psk "{PASSWORD}"\n',
            f'iface wlan0 inet dhcp\n    wpa-psk "{P}"\n',
        ),
        (f"WPA-PSK {PASSWORD}", f"WPA-PSK {P}"),
    ],
)
def test_debian_interfaces_wpa_psk_is_redacted(text: str, expected: str) -> None:
    """/etc/network/interfaces' `wpa-psk X` is the Wi-Fi passphrase (or its 64-hex key): it goes."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "key_mgmt=WPA-PSK",
        "    wpa-key-mgmt WPA-PSK",
        "the wpa-psk line is missing from the interfaces file",
    ],
)
def test_wpa_psk_as_a_mode_or_prose_stays(text: str) -> None:
    """WPA-PSK named as a key management mode, or the option talked about, stays as written."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"couchbase-cli bucket-list -c cb1:8091 -u Administrator -p {PASSWORD}",
            f"couchbase-cli bucket-list -c cb1:8091 -u Administrator -p {P}",
        ),
        (f"cbq -e http://cb1:8091 -u app -p {PASSWORD}", f"cbq -e http://cb1:8091 -u app -p {P}"),
        (
            f"vmrun -T ws -gu admin -gp {PASSWORD} runProgramInGuest vm.vmx /bin/ls",
            f"vmrun -T ws -gu admin -gp {P} runProgramInGuest vm.vmx /bin/ls",
        ),
        (
            f"sendemail -s smtp.example.com:587 -xu relay -xp {PASSWORD} -m done",
            f"sendemail -s smtp.example.com:587 -xu relay -xp {P} -m done",
        ),
        (
            f"gobuster dir -u https://app.example.com -U admin -P {PASSWORD} -w words.txt",
            f"gobuster dir -u https://app.example.com -U admin -P {P} -w words.txt",
        ),
    ],
)
def test_more_commands_password_options_are_redacted(text: str, expected: str) -> None:
    """Couchbase's couchbase-cli and cbq `-p`, vmrun's guest `-gp`, sendEmail's SMTP `-xp` and
    gobuster's basic-auth `-P` each take a password in clear: it goes."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "couchbase-cli server-list -c cb1:8091 -u Administrator",
        "vmrun -T ws start vm.vmx nogui",
        "gobuster dir -u https://app.example.com -w words.txt -t 50",
    ],
)
def test_those_commands_without_a_password_stay(text: str) -> None:
    """The same commands with no password option stay as written."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"remotepass = {PASSWORD}", f"remotepass = {P}"),
        (f"[Repository Remote]\nremoteuser = ops\nremotepass = {PASSWORD}\n", None),
        (f"remotepass: {PASSWORD}", f"remotepass: {P}"),
    ],
)
def test_offlineimap_remotepass_is_redacted(text: str, expected: str | None) -> None:
    """OfflineIMAP's `remotepass = X` is the IMAP account's password in clear: it goes."""
    out = _text(text)
    assert PASSWORD not in out
    if expected is not None:
        assert out == expected


@pytest.mark.parametrize(
    "text",
    ["remotepassfile = ~/.offlineimappass", "remoteuser = ops", "remotehost = imap.example.com"],
)
def test_offlineimap_neighbours_stay(text: str) -> None:
    """OfflineIMAP's password file's path, user and host stay as written."""
    assert _text(text) == text
