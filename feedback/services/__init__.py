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

from typing import TypeAlias

from flask_babel import lazy_gettext as _l
from flask_babel import LazyString

from feedback.labels import STATE_LABELS
from feedback.models import SubmissionState

Message: TypeAlias = str | LazyString


class DomainError(Exception):
    """A rule of the domain refused the change; the message is for people.

    The message is lazily translated, so it is worded in the reader's language
    when it is shown. ``field`` names the input it is about (``subject``,
    ``body``, ``attachments``, ``reason``…), so that a form can show it beside
    that field rather than above the page.
    """

    def __init__(self, message: Message, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def refused_move(current: SubmissionState, target: SubmissionState) -> LazyString:
    """Word a move the submission can no longer make, for whoever asked for it.

    The submission changed since their page was drawn (another tab, another
    person), so the words say where it stands now and to look again.
    """
    state = STATE_LABELS[current]
    match target:
        case SubmissionState.ROUTED:
            return _l(
                "此意见现在是“%(state)s”，不能再转办或受理。请刷新页面查看。",
                state=state,
            )
        case SubmissionState.REPLIED:
            return _l(
                "此意见现在是“%(state)s”，不能再答复。请刷新页面查看。", state=state
            )
        case SubmissionState.NOT_ACCEPTED:
            return _l(
                "此意见现在是“%(state)s”，不能再决定不予受理。请刷新页面查看。",
                state=state,
            )
        case SubmissionState.DUPLICATE:
            return _l(
                "此意见现在是“%(state)s”，不能再标为重复件。请刷新页面查看。",
                state=state,
            )
        case SubmissionState.SPAM:
            return _l(
                "此意见现在是“%(state)s”，不能再标为无效信息。请刷新页面查看。",
                state=state,
            )
    return _l("此操作已不适用于当前状态，请刷新页面。")


class InvalidTransition(DomainError):
    """The submission's state does not allow that move; the message says so plainly."""

    def __init__(self, current: SubmissionState, target: SubmissionState) -> None:
        super().__init__(refused_move(current, target))
        self.current = current
        self.target = target


class NotAllowed(DomainError):
    """The actor may not do that to this object."""
