"""Domain operations: each takes the session first, flushes, and never commits.

The view or command that calls them commits once, so that a change, its audit
row and its mail land together or not at all. Where a mailbox or a mail
server is talked to one message at a time, the commit still belongs to the
command: ``mail_fetch.fetch`` yields each message's outcome and marks it seen
only after its command has committed it; ``backups.restore_files`` likewise
yields after each batch of files, and its command commits there. The one
exception is ``outbox.deliver_pending``, which commits each lease and each
delivery, since a message that went out must be recorded before the next is
sent.
"""

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
