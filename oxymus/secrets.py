"""Secrets live only in the OS keyring (service "oxymus"), never in config, database or logs."""

from __future__ import annotations

SERVICE = "oxymus"


class SecretStoreUnavailable(Exception):
    """No usable keyring backend; the message says what to do."""


def _keyring():
    import keyring
    import keyring.errors

    return keyring, keyring.errors


def _unavailable(exc: Exception) -> SecretStoreUnavailable:
    return SecretStoreUnavailable(
        "no OS keyring is available to hold secrets "
        f"({type(exc).__name__}); install and unlock one (GNOME Keyring / KWallet on Linux, "
        "the Keychain on macOS), or for GitHub set GITHUB_TOKEN"
    )


def get(name: str) -> str | None:
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
