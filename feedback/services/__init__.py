"""Domain operations: each takes the session first, flushes, and never commits."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the change; the message is for people."""


class InvalidTransition(DomainError):
    """The submission's state does not allow that move."""

    def __init__(self, current: object, target: object) -> None:
        super().__init__(f"cannot move from {current} to {target}")
        self.current = current
        self.target = target


class NotAllowed(DomainError):
    """The actor may not do that to this object."""
