"""Sending one message over SMTP, blocking (run it in a thread), step by step so that
every failure is known to have happened before the message left or not.

smtplib's `sendmail()` does everything in one call; here the steps are separate
because only one of them is ambiguous. A failure while connecting, in TLS, at login,
at MAIL FROM or at RCPT TO means the server has not taken the message: retrying is
safe. Once DATA has started, a lost connection or a timeout means nobody knows
whether the server accepted it. `on_data` is called just before DATA (the caller
records its intent there) and the result says which side of that line a failure was on.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from oxymus.connectors.mail.config import MailConfig


class SmtpFailed(Exception):
    """A step failed. `retry`: worth trying again later; `unknown`: the server may have the message."""

    def __init__(self, message: str, *, retry: bool, unknown: bool = False):
        super().__init__(message)
        self.retry = retry
        self.unknown = unknown


@dataclass(frozen=True)
class Sent:
    reply: str  # the server's answer to the end of DATA, e.g. "250 2.0.0 Ok: queued as 4Xy"
    refused: dict[str, str]  # recipients the server refused while taking the others


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(said.split())}"[:300]


def _timed_out(exc: BaseException) -> bool:
    # smtplib turns a socket timeout while reading a reply into SMTPServerDisconnected("... timed out").
    return isinstance(exc, (socket.timeout, TimeoutError)) or "timed out" in str(exc)


def deliver(config: MailConfig, password: str | None, sender: str, recipients: list[str], message: bytes,
            on_data: Callable[[], None]) -> Sent:
    server = config.server()
    host, port, timeout = config.smtp_host or "", config.port(), config.timeout
    try:
        if config.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
    except ssl.SSLError as exc:
        raise SmtpFailed(f"[mail] security = \"ssl\": TLS with {server} failed ({exc.reason or exc}); "
                         "check smtp_port (465 for ssl) and that the server speaks TLS from the start", retry=False) from None
    except (socket.timeout, TimeoutError):
        raise SmtpFailed(f"{server}: no answer within {timeout:g} s ([mail] timeout)", retry=True) from None
    except socket.gaierror as exc:
        raise SmtpFailed(f"[mail] smtp_host: cannot resolve {host!r} ({exc.strerror})", retry=True) from None
    except smtplib.SMTPServerDisconnected as exc:
        if _timed_out(exc):
            raise SmtpFailed(f"{server}: no answer within {timeout:g} s ([mail] timeout)", retry=True) from None
        raise SmtpFailed(f"{server} closed the connection before greeting ({exc})", retry=True) from None
    except smtplib.SMTPConnectError as exc:
        raise SmtpFailed(f"{server} refused the session: {_reply(exc.smtp_code, exc.smtp_error)}", retry=True) from None
    except OSError as exc:
        raise SmtpFailed(f"{server}: cannot connect ({exc.strerror or exc}); check [mail] smtp_host and smtp_port", retry=True) from None
    try:  # not `with smtp`: its QUIT on a broken session would hide the failure being reported
        try:
            smtp.ehlo()
            if config.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise SmtpFailed(f"{server} does not offer STARTTLS ([mail] security = \"starttls\"); "
                                     "use security = \"ssl\" with its TLS port, never plain text over the network", retry=False)
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if config.username:
                if password is None:
                    raise SmtpFailed(f"[mail] username {config.username!r} is set but there is no password", retry=False)
                try:
                    smtp.login(config.username, password)
                except smtplib.SMTPAuthenticationError as exc:
                    raise SmtpFailed(f"{server} refused the login of [mail] username {config.username!r}: "
                                     f"{_reply(exc.smtp_code, exc.smtp_error)}; check the password "
                                     f"({'what [mail] password_command prints' if config.password_command else 'oxymus secret set mail.smtp'})",
                                     retry=False) from None
                except smtplib.SMTPNotSupportedError:
                    raise SmtpFailed(f"{server} offers no login (AUTH) on this connection; unset [mail] username, "
                                     "or use security = \"starttls\" or \"ssl\"", retry=False) from None
            code, said = smtp.mail(sender)
            if code != 250:
                raise SmtpFailed(f"{server} refused the sender [mail] from {sender!r}: {_reply(code, said)}",
                                 retry=400 <= code < 500)
            refused: dict[str, str] = {}
            for rcpt in recipients:
                code, said = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    refused[rcpt] = _reply(code, said)
            if len(refused) == len(recipients):
                words = "; ".join(f"{r}: {why}" for r, why in refused.items())
                temporary = all(why.startswith("4") for why in refused.values())
                raise SmtpFailed(f"{server} refused every recipient (payload.to/cc): {words}", retry=temporary)
            if refused:
                words = "; ".join(f"{r}: {why}" for r, why in refused.items())
                # Sending to the others only would be a different message than the one approved.
                raise SmtpFailed(f"{server} refused some recipients (payload.to/cc), so nothing was sent: {words}",
                                 retry=all(why.startswith("4") for why in refused.values()))
        except SmtpFailed:
            raise
        except ssl.SSLError as exc:
            raise SmtpFailed(f"[mail] security = \"starttls\": TLS with {server} failed ({exc.reason or exc})", retry=False) from None
        except smtplib.SMTPResponseException as exc:
            raise SmtpFailed(f"{server}: {_reply(exc.smtp_code, exc.smtp_error)}", retry=400 <= exc.smtp_code < 500) from None
        except (socket.timeout, TimeoutError):
            raise SmtpFailed(f"{server}: no answer within {timeout:g} s ([mail] timeout), before the message was sent", retry=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            if _timed_out(exc):
                raise SmtpFailed(f"{server}: no answer within {timeout:g} s ([mail] timeout), before the message was sent",
                                 retry=True) from None
            raise SmtpFailed(f"{server}: the session failed before the message was sent ({exc})", retry=True) from None
        on_data()  # from here on a failure may leave the message with the server
        try:
            code, said = smtp.data(message)
        except smtplib.SMTPDataError as exc:
            # A clear refusal of DATA or of the message: the server does not have it.
            raise SmtpFailed(f"{server} refused the message: {_reply(exc.smtp_code, exc.smtp_error)}",
                             retry=400 <= exc.smtp_code < 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SmtpFailed(f"{server}: the connection failed while the message was being sent ({type(exc).__name__}: {exc})",
                             retry=False, unknown=True) from None
        if code != 250:
            # smtplib returns the answer to the message itself rather than raising: a clear refusal all the same.
            raise SmtpFailed(f"{server} refused the message: {_reply(code, said)}", retry=400 <= code < 500)
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass  # the message was accepted; how the session ends does not matter
        return Sent(reply=_reply(code, said), refused={})
    finally:
        smtp.close()
