"""Reading published rectification notices: pure functions, no Flask and no database."""

from feedback.notices.normalise import display_width
from feedback.notices.normalise import Document
from feedback.notices.normalise import UnreadableNotice
from feedback.notices.parse import parse
from feedback.notices.parse import parse_bytes
from feedback.notices.parse import parse_text
from feedback.notices.results import Check
from feedback.notices.results import Contacts
from feedback.notices.results import Declared
from feedback.notices.results import ParsedAspect
from feedback.notices.results import ParsedNotice
from feedback.notices.results import ParsedProblem
from feedback.notices.results import RoundFacts

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
