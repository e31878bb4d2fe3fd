"""Why a request about actions cannot be done as asked: the desk's domain errors.

The desk raises these; the RPC layer (`daemon/rpc.py`) answers every one of them as
`INVALID_INPUT` with the message unchanged. Callers inside the daemon (agents, flows,
notification buttons) catch `ActionError` and read `.message`.
"""

from __future__ import annotations


class ActionError(Exception):
    """A request about actions refused with a reason the person can act on."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def prefixed(self, prefix: str) -> "ActionError":
        """The same kind of error with `prefix` before its message (a flow names its step)."""
        return type(self)(prefix + self.message)


class ActionNotFound(ActionError):
    """No action, or more than one, matches the id the person gave."""


class UnknownKind(ActionError):
    """No connector offers an action of this kind."""


class InvalidProposal(ActionError):
    """A payload that does not fit its kind, or that the connector refuses."""


class CannotDecide(ActionError):
    """A decision (approve, deny, snooze, undo) the action's state does not allow."""
