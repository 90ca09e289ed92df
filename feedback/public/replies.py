"""The public list of replies and its Atom feed, filtered by section, problem, kind and month."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _

from feedback import i18n
from feedback.db import utcnow
from feedback.extensions import db
from feedback.labels import KIND_NAMES
from feedback.models import SubmissionKind
from feedback.page_cache import cached_page
from feedback.public import bp
from feedback.public.board import FEED_LOCALE
from feedback.public.forms import ReplyFilterForm
from feedback.services import board
from feedback.services import board_versions
from feedback.services import public_replies
from feedback.services import queues
from feedback.validators import chosen_id
from feedback.web.forms import content_choice
from feedback.web.forms import labelled_choices
from feedback.web.forms import SelectChoice


def _filter_form() -> ReplyFilterForm:
    form = ReplyFilterForm(request.args)
    form.section.choices = [SelectChoice("", _("全部单位"))] + [
        content_choice(str(s.id), s.name) for s in public_replies.sections(db.session)
    ]
    rounds = board.rounds(db.session)
    form.problem.choices = [SelectChoice("", _("全部问题"))] + [
        content_choice(
            str(p.id),
            f"{p.code} {p.title}",
            # Codes such as 3.3 repeat from round to round.
            optgroup=i18n.script(r.name) if len(rounds) > 1 else None,
        )
        for r in rounds
        for a in r.aspects
        for p in a.problems
    ]
    form.kind.choices = [SelectChoice("", _("全部类型"))] + labelled_choices(
        KIND_NAMES, public_replies.PUBLIC_KINDS
    )
    return form.read()


def _filters(form: ReplyFilterForm) -> public_replies.Filters:
    kind = form.understood(form.kind)
    first_day = form.first_day
    after, before = (
        public_replies.month_span(first_day, current_app.config["TIME_ZONE"])
        if first_day
        else (None, None)
    )
    return public_replies.Filters(
        section_id=chosen_id(form.section),
        problem_id=chosen_id(form.problem),
        kind=SubmissionKind(kind) if kind else None,
        published_after=after,
        published_before=before,
    )


def _chosen_args(form: ReplyFilterForm) -> dict[str, str]:
    """Return the filters that were understood, to carry into links."""
    chosen = {}
    for f in form:
        value = f.data.strftime("%Y-%m") if isinstance(f.data, date) else f.data
        if isinstance(value, str) and value.strip() and not f.errors:
            chosen[f.name] = value.strip()
    return chosen


@bp.get("/replies")
@cached_page(board_versions.BOARD, board_versions.REPLIES)
def replies() -> ResponseReturnValue:
    """List the replies the lead published, newest first, filtered as asked."""
    form = _filter_form()
    filters = _filters(form)
    cursor = request.args.get("after")
    after = queues.parse_after(cursor)
    current = public_replies.page(db.session, filters, after=after)
    args = _chosen_args(form)
    return render_template(
        "public/replies.html",
        form=form,
        page=current,
        questions=public_replies.questions(db.session, current.items),
        args=args,
        count=public_replies.count(db.session, filters) if args else None,
        cap=queues.COUNT_CAP,
        bad_cursor=bool(cursor) and after is None,
        paged=after is not None,
    )


@bp.get("/replies/feed.atom")
def replies_feed() -> ResponseReturnValue:
    """Publish the newest published replies as an Atom feed, filtered as the list is."""
    form = _filter_form()
    if form.errors:
        problems = [
            f"{form[name].label.text}：{error}"
            for name, errors in form.errors.items()
            for error in errors
        ]
        text = _("订阅地址中的筛选条件有误：") + " ".join(problems)
        return text, 400, {"Content-Type": "text/plain; charset=utf-8"}
    entries = public_replies.page(
        db.session, _filters(form), size=board.FEED_SIZE
    ).items
    with force_locale(FEED_LOCALE):  # a feed is one document for every reader
        xml = render_template(
            "public/replies.atom.xml",
            entries=entries,
            questions=public_replies.questions(db.session, entries),
            args=_chosen_args(form),
            generated=utcnow(),
        )
    return xml, 200, {"Content-Type": "application/atom+xml; charset=utf-8"}
