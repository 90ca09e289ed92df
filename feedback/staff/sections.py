"""Admin pages of the routing table: sections, their mailboxes, domains and kinds."""

from __future__ import annotations

from flask import g
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from feedback.auth.decorators import role_required
from feedback.extensions import db
from feedback.labels import KIND_NAMES
from feedback.models import Role
from feedback.models import Section
from feedback.services import sections as routing
from feedback.staff import bp
from feedback.staff.forms import SectionForm
from feedback.web.actions import decide
from feedback.web.forms import labelled_choices


def _offering_kinds(form: SectionForm) -> SectionForm:
    form.kinds.choices = labelled_choices(KIND_NAMES, routing.ROUTABLE_KINDS)
    return form


def _page(
    refused: SectionForm | None = None, section: Section | None = None
) -> ResponseReturnValue:
    """Show every section's form as saved, except a refused one, shown as typed."""
    items = list(db.session.scalars(db.select(Section).order_by(Section.name)))
    forms = {s.id: _offering_kinds(SectionForm.as_saved(s)) for s in items}
    new_form = _offering_kinds(SectionForm.as_saved(None))
    if refused is not None:
        if section is None:
            new_form = refused
        else:
            forms[section.id] = refused
    html = render_template(
        "staff/sections.html", sections=items, forms=forms, new_form=new_form
    )
    return html if refused is None else (html, 400)


@bp.get("/sections")
@role_required(Role.ADMIN)
def sections() -> ResponseReturnValue:
    """Show the routing table with a form per section and one for a new section."""
    return _page()


def _save(section: Section | None) -> ResponseReturnValue:
    form = _offering_kinds(SectionForm.for_section(section))
    return decide(
        lambda: routing.save_section(
            db.session,
            section,
            name=form.name.data,
            email=form.email.data,
            reply_domains=form.reply_domains.data or "",
            kinds=form.kinds.data or [],
            active=form.active.data,
            actor=g.user,
        ),
        lambda saved: _("已保存%(name)s。", name=saved.name),
        url_for("staff.sections"),
        form=form,
        again=lambda: _page(form, section),
        error_on=form.name,
    )


@bp.post("/sections")
@role_required(Role.ADMIN)
def create_section() -> ResponseReturnValue:
    """Add a section to the routing table."""
    return _save(None)


@bp.post("/sections/<int:section_id>")
@role_required(Role.ADMIN)
def update_section(section_id: int) -> ResponseReturnValue:
    """Change a section's mailbox, domains, kinds or whether it takes submissions."""
    return _save(db.get_or_404(Section, section_id))
