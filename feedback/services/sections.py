"""The routing table: sections, their mailbox, reply domains and the kinds they take."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy import select

from feedback.db import DbSession
from feedback.models import AuditAction
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import SubmissionKind
from feedback.services import audit
from feedback.services import DomainError
from feedback.services import notifications

DOMAIN = re.compile(
    r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
# A misconduct report is never mapped to a section: it stays with the lead.
ROUTABLE_KINDS = tuple(k for k in SubmissionKind if k is not SubmissionKind.MISCONDUCT)


class SectionError(DomainError):
    """A section's settings break a rule."""


def save_section(
    session: DbSession,
    section: Section | None,
    *,
    name: str,
    email: str,
    reply_domains: str,
    kinds: list[str],
    active: bool,
    actor: StaffUser,
) -> Section:
    """Create or change a section; its e-mail's domain always counts as a reply domain.

    A changed mailbox is told to the old and the new address and to the
    leads: a section's mail must not be diverted unnoticed.
    """
    name = name.strip()
    duplicate = session.scalar(
        select(Section.id).where(func.lower(Section.name) == name.lower()).limit(1)
    )
    if duplicate is not None and (section is None or duplicate != section.id):
        raise SectionError(_l("已有名为“%(name)s”的股室。", name=name), field="name")
    domains = [d.lower().lstrip("@") for d in reply_domains.replace(",", " ").split()]
    wrong = [d for d in domains if not DOMAIN.fullmatch(d)]
    if wrong:
        raise SectionError(
            _l("这些不是邮箱域名：%(domains)s", domains=", ".join(wrong)),
            field="reply_domains",
        )
    allowed = {k.value for k in ROUTABLE_KINDS}
    if any(kind not in allowed for kind in kinds):
        raise SectionError(_l("举报不转给股室办理。"), field="kinds")
    old_email = section.email if section is not None else None
    if section is None:
        section = Section(name=name, email=email.strip())
        session.add(section)
    section.name = name
    section.email = email.strip()
    section.reply_domains = " ".join(dict.fromkeys(domains))
    section.kinds = " ".join(k for k in allowed if k in kinds)
    section.active = active
    session.flush()
    audit.record(
        session,
        AuditAction.SECTION_SAVED,
        section,
        actor=actor,
        reason=f"{section.email}; domains: {section.reply_domains}; kinds: {section.kinds}",
    )
    if old_email is not None and old_email.lower() != section.email.lower():
        notifications.section_address_changed(session, section, old_email, actor=actor)
    return section
