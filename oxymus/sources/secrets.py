"""Where secrets come from: the environment, a `password_command`, or the OS keyring.

Nothing here stores a secret anywhere but the keyring (service "oxymus"): never in
config, the database or logs. Lookups try, in order (as `gh` does for its token):

1. environment variables the secret names (GitHub: GH_TOKEN, GITHUB_TOKEN);
2. the source's `password_command` (the khal/vdirsyncer convention, e.g.
   `pass show calendar`): run without a shell, first line of its output;
3. the keyring entry.

A missing keyring is therefore an error only when nothing else gives the secret:
a server or container sets the variable or a command and never needs one.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass

SERVICE = "oxymus"
COMMAND_TIMEOUT = 20.0  # seconds; a command waiting on a pinentry should not hang a poll forever


class SecretStoreUnavailable(Exception):
    """No usable keyring backend; the message says what to do, `kind` names keyring's error."""

    def __init__(self, message: str, kind: str = "NoKeyringError"):
        super().__init__(message)
        self.kind = kind


class SecretCommandFailed(Exception):
    """A `password_command` failed; the message names the config key and why."""


@dataclass(frozen=True)
class SecretSpec:
    """Where one secret may come from, in the order tried.

    `name` is the keyring entry; `command_key` names where `command` is configured
    (e.g. "[[calendar.caldav]] work: password_command") so errors can point at it.
    """

    name: str
    env: tuple[str, ...] = ()
    command: str | None = None
    command_key: str = "password_command"

    def ways(self, keyring: bool = True) -> str:
        """How the person can give it, for messages: "set GITHUB_TOKEN, set [github] password_command or run ..."."""
        ways = [f"set {' or '.join(self.env)}"] if self.env else []
        if self.command is None:
            ways.append(f"set {self.command_key}")
        if keyring:
            ways.append(f"run `oxymus secret set {self.name}`")
        return ", ".join(ways[:-1]) + (" or " if len(ways) > 1 else "") + ways[-1]


def _keyring():
    import keyring
    import keyring.errors

    return keyring, keyring.errors


def _unavailable(exc: Exception) -> SecretStoreUnavailable:
    return SecretStoreUnavailable(
        "no OS keyring is available to hold secrets "
        f"({type(exc).__name__}); install and unlock one (GNOME Keyring / KWallet on Linux, "
        "the Keychain on macOS), or give the secret without one: GITHUB_TOKEN for GitHub, or "
        "`password_command` (e.g. \"pass show calendar\") in the source's config section",
        type(exc).__name__,
    )


def get(name: str) -> str | None:
    """The keyring entry `name`, or None; SecretStoreUnavailable when there is no keyring."""
    keyring, errors = _keyring()
    try:
        return keyring.get_password(SERVICE, name)
    except errors.KeyringError as exc:
        raise _unavailable(exc) from None


def set(name: str, value: str) -> None:  # noqa: A001 - mirrors keyring's verb
    keyring, errors = _keyring()
    try:
        keyring.set_password(SERVICE, name, value)
    except errors.KeyringError as exc:
        raise _unavailable(exc) from None


def delete(name: str) -> bool:
    keyring, errors = _keyring()
    try:
        keyring.delete_password(SERVICE, name)
        return True
    except errors.PasswordDeleteError:
        return False
    except errors.KeyringError as exc:
        raise _unavailable(exc) from None


def from_env(names: tuple[str, ...], environ: dict[str, str] | None = None) -> str | None:
    """The first non-blank variable of `names`, stripped."""
    environ = os.environ if environ is None else environ
    for name in names:
        value = (environ.get(name) or "").strip()
        if value:
            return value
    return None


def run_command(command: str, key: str, timeout: float = COMMAND_TIMEOUT) -> str:
    """The first line of what `command` prints, run without a shell.

    Failures raise SecretCommandFailed naming `key` (the config key holding the
    command). Neither the output nor anything derived from it is ever put in a
    message: only the exit status and the command's own stderr.
    """
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise SecretCommandFailed(f"{key}: cannot split {command!r} into words: {exc}") from None
    if not argv:
        raise SecretCommandFailed(f"{key}: is empty")
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False,
        )
    except FileNotFoundError:
        raise SecretCommandFailed(f"{key}: {argv[0]!r} not found (the command runs without a shell)") from None
    except PermissionError:
        raise SecretCommandFailed(f"{key}: {argv[0]!r} is not executable") from None
    except subprocess.TimeoutExpired:
        raise SecretCommandFailed(f"{key}: `{command}` gave no answer within {timeout:g} s") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f": {said[-1][:300]}" if said else ""
        raise SecretCommandFailed(f"{key}: `{command}` failed (exit {done.returncode}){detail}")
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    first = lines[0] if lines else ""  # spaces may belong to the password: only the line end goes
    if not first.strip():
        raise SecretCommandFailed(f"{key}: `{command}` printed nothing on its first line")
    return first
