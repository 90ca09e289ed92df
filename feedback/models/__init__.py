"""Every table and enum, re-exported so callers import from one place."""

from feedback.models.api_keys import ApiKey
from feedback.models.audit import AuditAction
from feedback.models.audit import Event
from feedback.models.board import Aspect
from feedback.models.board import BoardVersion
from feedback.models.board import Inspection
from feedback.models.board import NoticeImport
from feedback.models.board import Problem
from feedback.models.board import ProgressUpdate
from feedback.models.board import status_kind
from feedback.models.board import STATUS_WORDS
from feedback.models.board import StatusChange
from feedback.models.board import StatusKind
from feedback.models.calendar import AlertKind
from feedback.models.calendar import DeadlineAlert
from feedback.models.calendar import Holiday
from feedback.models.outbox import FailureKind
from feedback.models.outbox import HoldReason
from feedback.models.outbox import InboundMessage
from feedback.models.outbox import InboundState
from feedback.models.outbox import Notification
from feedback.models.outbox import OutboxMessage
from feedback.models.outbox import OutboxState
from feedback.models.sections import Reply
from feedback.models.sections import ReplyChannel
from feedback.models.sections import ReplyState
from feedback.models.sections import RetireCause
from feedback.models.sections import Section
from feedback.models.staff import Role
from feedback.models.staff import StaffUser
from feedback.models.submissions import Attachment
from feedback.models.submissions import AttachmentChunk
from feedback.models.submissions import Channel
from feedback.models.submissions import InfoRequest
from feedback.models.submissions import Language
from feedback.models.submissions import Note
from feedback.models.submissions import Rating
from feedback.models.submissions import Storage
from feedback.models.submissions import Submission
from feedback.models.submissions import SubmissionKind
from feedback.models.submissions import SubmissionState

__all__ = [
    "STATUS_WORDS",
    "AlertKind",
    "ApiKey",
    "Aspect",
    "BoardVersion",
    "Attachment",
    "AttachmentChunk",
    "AuditAction",
    "Channel",
    "DeadlineAlert",
    "Event",
    "Holiday",
    "HoldReason",
    "InboundMessage",
    "InboundState",
    "Inspection",
    "NoticeImport",
    "InfoRequest",
    "Language",
    "Note",
    "Notification",
    "Rating",
    "OutboxMessage",
    "OutboxState",
    "FailureKind",
    "Problem",
    "ProgressUpdate",
    "Reply",
    "ReplyChannel",
    "ReplyState",
    "RetireCause",
    "Role",
    "Section",
    "StaffUser",
    "StatusChange",
    "StatusKind",
    "Submission",
    "SubmissionKind",
    "Storage",
    "SubmissionState",
    "status_kind",
]
