"""Reading published rectification notices: pure functions, no Flask and no database."""

from feedback.notices.normalise import display_width
from feedback.notices.normalise import Document
from feedback.notices.normalise import UnreadableNotice
from feedback.notices.parse import Check
from feedback.notices.parse import Contacts
from feedback.notices.parse import Declared
from feedback.notices.parse import parse
from feedback.notices.parse import parse_bytes
from feedback.notices.parse import parse_text
from feedback.notices.parse import ParsedAspect
from feedback.notices.parse import ParsedNotice
from feedback.notices.parse import ParsedProblem
from feedback.notices.parse import RoundFacts

__all__ = [
    "Check",
    "Contacts",
    "Declared",
    "Document",
    "ParsedAspect",
    "ParsedNotice",
    "ParsedProblem",
    "RoundFacts",
    "UnreadableNotice",
    "display_width",
    "parse",
    "parse_bytes",
    "parse_text",
]
