"""Admin page of the holiday table that working-day deadlines skip."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import extract
from sqlalchemy import select

from feedback.auth.decorators import role_required
from feedback.db import utcnow
from feedback.extensions import db
from feedback.models import Holiday
from feedback.models import Role
from feedback.services import deadlines
from feedback.services import holiday_calendars
from feedback.staff import bp
from feedback.staff.forms import CalendarFileForm
from feedback.staff.forms import HolidayForm
from feedback.staff.forms import RemoveHolidayForm
from feedback.validators import ascii_number
from feedback.validators import LATEST_YEAR
from feedback.web.actions import decide

MAX_ICS_BYTES = 1024 * 1024


def _year() -> int:
    year = ascii_number(request.args.get("year"), most=LATEST_YEAR)
    if year is not None and year >= 2000:
        return year
    return deadlines.local_date(utcnow(), current_app.config["TIME_ZONE"]).year


def _page(
    form: HolidayForm, file_form: CalendarFileForm, code: int = 200
) -> ResponseReturnValue:
    year = _year()
    days = db.session.scalars(
        select(Holiday)
        .where(extract("year", Holiday.day) == year)
        .order_by(Holiday.day)
    ).all()
    page = render_template(
        "staff/holidays.html",
        year=year,
        days=days,
        form=form,
        file_form=file_form,
        remove_form=RemoveHolidayForm(),
    )
    return page, code


@bp.get("/holidays")
@role_required(Role.ADMIN)
def holidays() -> ResponseReturnValue:
    """List a year's days off and make-up days, with forms to change them."""
    return _page(HolidayForm(), CalendarFileForm())


@bp.post("/holidays")
@role_required(Role.ADMIN)
def save_holiday() -> ResponseReturnValue:
    """Add or change one day of the table."""
    form = HolidayForm()
    if not form.validate_on_submit():
        return _page(form, CalendarFileForm(), 400)
    day = form.day.data
    item = deadlines.HolidayEntry(day, form.name.data, form.is_workday.data)
    return decide(
        lambda: deadlines.save_holidays(db.session, [item], actor=g.user),
        _("已保存%(day)s。", day=day.isoformat()),
        url_for("staff.holidays", year=day.year),
    )


@bp.post("/holidays/import")
@role_required(Role.ADMIN)
def import_holidays() -> ResponseReturnValue:
    """Add the days of an uploaded .ics calendar."""
    form = CalendarFileForm()
    if not form.validate_on_submit():
        return _page(HolidayForm(), form, 400)
    data = form.calendar.data.read(MAX_ICS_BYTES + 1)
    try:
        days = holiday_calendars.read_ics(
            data.decode("utf-8", errors="replace"),
            tz_name=current_app.config["TIME_ZONE"],
            today=deadlines.today(),
        )
    except holiday_calendars.CalendarError:
        days = []  # the same message as for a calendar without a single day
    if len(data) > MAX_ICS_BYTES or not days:
        form.calendar.errors = [_("没有读到节假日：请上传不超过1MB的.ics日历文件。")]
        return _page(HolidayForm(), form, 400)
    source = form.calendar.data.filename or ""
    return decide(
        lambda: deadlines.save_holidays(db.session, days, actor=g.user, source=source),
        _("已导入%(n)s天。", n=len(days)),
        url_for("staff.holidays", year=days[0].day.year),
    )


@bp.post("/holidays/<day>/remove")
@role_required(Role.ADMIN)
def remove_holiday(day: str) -> ResponseReturnValue:
    """Take a day out of the table: it is an ordinary day again."""
    try:
        chosen = date.fromisoformat(day)
    except ValueError:
        flash(_("没有这一天。"), "error")
        return redirect(url_for("staff.holidays"))
    return decide(
        lambda: deadlines.remove_holiday(db.session, chosen, actor=g.user),
        _("已删除%(day)s。", day=chosen.isoformat()),
        url_for("staff.holidays", year=chosen.year),
        form=RemoveHolidayForm(),
    )
