"""Published status words and the kind each counts as: pure, shared by models and parser."""

from __future__ import annotations

import enum


class StatusKind(enum.StrEnum):
    """What a published status word means, for counting and colour."""

    DONE = "done"
    ONGOING = "ongoing"
    LONG_TERM = "long_term"
    NOT_DONE = "not_done"


# Status words met in real notices and the kind each one counts as.
STATUS_WORDS: dict[str, StatusKind] = {
    "已完成": StatusKind.DONE,
    "已完成整改": StatusKind.DONE,
    "完成整改": StatusKind.DONE,
    "立行立改": StatusKind.DONE,
    "已整改": StatusKind.DONE,
    "已整改完成": StatusKind.DONE,
    "整改完成": StatusKind.DONE,
    "基本完成": StatusKind.ONGOING,
    "正在整改": StatusKind.ONGOING,
    "整改中": StatusKind.ONGOING,
    "持续推进": StatusKind.ONGOING,
    "持续整改": StatusKind.ONGOING,
    "正在推进": StatusKind.ONGOING,
    "推进中": StatusKind.ONGOING,
    "长期坚持": StatusKind.LONG_TERM,
    "需长期坚持": StatusKind.LONG_TERM,
    "未完成": StatusKind.NOT_DONE,
    "未整改": StatusKind.NOT_DONE,
}


def status_kind(word: str | None) -> StatusKind | None:
    """Return the kind of a published status word, or None if it is unknown."""
    if word is None:
        return None
    return STATUS_WORDS.get(word.strip())
