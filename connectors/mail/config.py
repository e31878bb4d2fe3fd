"""The `[mail]` config section: the Maildir Oxymus reads and the SMTP server it sends through."""

from __future__ import annotations

import ipaddress
from email.headerregistry import Address
from email.errors import HeaderParseError
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from oxymus.sources.secrets import SecretSpec

Security = Literal["starttls", "ssl", "none"]
KEYRING_NAME = "mail.smtp"  # `oxymus secret set mail.smtp`; the keyring service is "oxymus" as for every secret


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only: a plain-text SMTP session never leaves it."""
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class MailConfig(BaseModel):
    """`[mail]`: a Maildir to read (read-only) and an SMTP server for `email.send`."""

    # `from` is a Python keyword: the field is `sender`, written `from` in config.toml.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    maildir: str | None = Field(default=None, description="a Maildir folder (with cur/, new/, tmp/) Oxymus reads and never changes",
                                examples=["~/Mail/INBOX"])
    smtp_host: str | None = Field(default=None, min_length=1, max_length=253, description="the SMTP server email.send uses",
                                  examples=["smtp.fastmail.com"])
    smtp_port: int | None = Field(default=None, ge=1, le=65535,
                                  description="default: 587 for starttls, 465 for ssl, 25 for none", examples=[587])
    security: Security = Field(default="starttls", description="starttls, ssl (TLS from the first byte), or none (loopback hosts only)")
    username: str | None = Field(default=None, min_length=1, description="SMTP login; unset: send without logging in",
                                 examples=["ana@example.org"])
    sender: str | None = Field(default=None, alias="from", description="the From address, optionally with a name",
                                  examples=["Ana Ruiz <ana@example.org>"])
    password_command: str | None = Field(
        default=None, examples=["pass show mail/smtp"],
        description=f"a command printing the SMTP password on its first line, run without a shell; unset: the keyring entry `{KEYRING_NAME}`",
    )
    timeout: float = Field(default=30, gt=0, le=300, description="seconds the SMTP server may take to answer one step")

    @field_validator("sender")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            from email.headerregistry import HeaderRegistry

            parsed = HeaderRegistry()("from", value)
            [address] = parsed.addresses
            Address(display_name=address.display_name, addr_spec=address.addr_spec)
        except (HeaderParseError, ValueError, IndexError) as exc:
            raise ValueError(f"not one email address: {value!r} ({exc or 'no address'})") from None
        if "@" not in address.addr_spec or not address.domain:
            raise ValueError(f"not one email address: {value!r}")
        return value

    @field_validator("security")
    @classmethod
    def _loopback_only_plain(cls, value: Security, info: ValidationInfo) -> Security:
        host = info.data.get("smtp_host")
        if value == "none" and host is not None and not is_loopback(host):
            raise ValueError(f"\"none\" sends the password and mail in clear text, so it is only allowed for "
                             f"loopback hosts (localhost, 127.0.0.1, ::1), not smtp_host {host!r}: use \"starttls\" or \"ssl\"")
        return value

    def port(self) -> int:
        return self.smtp_port or {"starttls": 587, "ssl": 465, "none": 25}[self.security]

    def server(self) -> str:
        """How messages name the server: `smtp.example.org:587`."""
        return f"{self.smtp_host}:{self.port()}"

    def secret_spec(self) -> SecretSpec:
        return SecretSpec(KEYRING_NAME, command=self.password_command, command_key="[mail] password_command")
