"""Forms and fields the blueprints share: text fields, prefixed forms, the author, a reply, filters."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import date
from typing import Any
from typing import cast
from typing import ClassVar
from typing import overload
from typing import Self
from typing import TypeAlias
from typing import TypeVar

from flask import current_app
from flask import g
from flask_babel import lazy_gettext as _l
from flask_babel import LazyString
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import EmailField
from wtforms import Field
from wtforms import HiddenField
from wtforms import IntegerField
from wtforms import MonthField
from wtforms import PasswordField
from wtforms import SearchField

# SelectChoice is new in WTForms 3.3, which types-WTForms (3.2) does not know
# yet; the blueprints import it from here, so the gap is bridged once.
from wtforms import SelectChoice as SelectChoice  # type: ignore[attr-defined]
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import ValidationError
from wtforms.validators import DataRequired
from wtforms.validators import Email
from wtforms.validators import Length
from wtforms.validators import Optional

from feedback.i18n import content_lang
from feedback.i18n import script
from feedback.labels import STATUS_KIND_LABELS
from feedback.models import Reply
from feedback.models import Section
from feedback.services import stats
from feedback.services import submissions
from feedback.validators import ascii_number
from feedback.validators import chosen_id
from feedback.validators import PlainText
from feedback.validators import PlausibleDate
from feedback.validators import SingleLine

Label: TypeAlias = str | LazyString
Member = TypeVar("Member", bound=enum.StrEnum)
EMAIL_MAX = 254


class FilledText(StringField):
    """Text a form requires: once the form has validated, ``data`` is a string."""

    data: str


class FilledTextArea(TextAreaField):
    """Lines of text a form requires: once validated, ``data`` is a string."""

    data: str


class FilledEmail(EmailField):
    """An e-mail address a form requires: once validated, ``data`` is a string."""

    data: str


class FilledPassword(PasswordField):
    """A password a form requires: once validated, ``data`` is a string."""

    data: str


class DayField(DateField):
    """A day (``YYYY-MM-DD``) between 1900 and 2100: others are refused with a message."""

    data: date | None

    def __init__(
        self,
        label: Label | None = None,
        validators: list[Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(label, [*(validators or []), PlausibleDate()], **options)


class FilledDate(DayField):
    """A day a form requires: once validated, ``data`` is a date."""

    data: date


class FilledInteger(IntegerField):
    """A number a form requires: once validated, ``data`` is an int."""

    data: int


def _text_validators(
    required: Label | None,
    max: int | None,
    too_long: Label | None,
    *,
    one_line: bool,
) -> list[Any]:
    validators: list[Any] = [
        PlainText(),
        DataRequired(required) if required is not None else Optional(),
    ]
    if one_line:
        validators.insert(1, SingleLine())
    if max is not None:
        validators.append(Length(max=max, message=too_long))
    return validators


@overload
def text_field(
    label: Label | None = None,
    *,
    required: Label,
    max: int | None = None,
    too_long: Label | None = None,
    **options: Any,
) -> FilledText: ...
@overload
def text_field(
    label: Label | None = None,
    *,
    required: None = None,
    max: int | None = None,
    too_long: Label | None = None,
    **options: Any,
) -> StringField: ...
def text_field(
    label: Label | None = None,
    *,
    required: Label | None = None,
    max: int | None = None,
    too_long: Label | None = None,
    **options: Any,
) -> StringField:
    """Return a field for one line of text people type: no control characters
    and no line break, at most ``max`` characters, and either optional or
    ``required`` (the message shown when it is left empty)."""
    kind = FilledText if required is not None else StringField
    validators = _text_validators(required, max, too_long, one_line=True)
    return kind(label, validators, **options)


@overload
def text_area(
    label: Label | None = None,
    *,
    required: Label,
    max: int | None = None,
    too_long: Label | None = None,
    **options: Any,
) -> FilledTextArea: ...
@overload
def text_area(
    label: Label | None = None,
    *,
    required: None = None,
    max: int | None = None,
    too_long: Label | None = None,
    **options: Any,
) -> TextAreaField: ...
def text_area(
    label: Label | None = None,
    *,
    required: Label | None = None,
    max: int | None = None,
    too_long: Label | None = None,
    **options: Any,
) -> TextAreaField:
    """Return a :func:`text_field` of several lines."""
    kind = FilledTextArea if required is not None else TextAreaField
    validators = _text_validators(required, max, too_long, one_line=False)
    return kind(label, validators, **options)


@overload
def email_field(
    label: Label | None = None,
    *,
    invalid: Label,
    required: Label,
    plain_text: bool = True,
    **options: Any,
) -> FilledEmail: ...
@overload
def email_field(
    label: Label | None = None,
    *,
    invalid: Label,
    required: None = None,
    plain_text: bool = True,
    **options: Any,
) -> EmailField: ...
def email_field(
    label: Label | None = None,
    *,
    invalid: Label,
    required: Label | None = None,
    plain_text: bool = True,
    **options: Any,
) -> EmailField:
    """Return an e-mail address field, optional or ``required``; ``invalid``
    is shown for an address that is not one.

    The back office's address fields never had the control-character check
    (``plain_text=False``): Email() refuses those characters with its own message.
    """
    validators: list[Any] = [PlainText()] if plain_text else []
    validators += [
        DataRequired(required) if required is not None else Optional(),
        Email(invalid),
        Length(max=EMAIL_MAX),
    ]
    kind = FilledEmail if required is not None else EmailField
    return kind(label, validators, **options)


def content_choice(
    value: str, text: str, *, optgroup: str | None = None
) -> SelectChoice:
    """Return a choice shown by official content (a title, a section's name):
    converted to the reader's script and marked Chinese, even in English."""
    return SelectChoice(
        value, script(text), render_kw={"lang": content_lang()}, optgroup=optgroup
    )


def labelled_choices(
    labels: Mapping[Member, Label], members: Iterable[Member]
) -> list[SelectChoice]:
    """Return a select field's choices: each member's value, shown by its label."""
    return [SelectChoice(member.value, str(labels[member])) for member in members]


def add_error(field: Field, message: Label) -> None:
    """Add a message to a validated field's errors, where the page shows it."""
    field.errors = [*field.errors, message]


def _kept(text: str | None) -> str | None:
    return (text or "").strip() or None


class AuthorForm(FlaskForm):
    """A form that says who wrote a submission: ``author_name``, ``phone`` and ``email``."""

    phone: StringField
    email: StringField

    @property
    def author_name(self) -> str | None:
        """Return the name as typed in a ``name`` field; a form that asks for
        the name otherwise (Open311's given and family names) says how to read it."""
        return self.name.data

    def author(self) -> submissions.Author:
        """Return the author as typed, trimmed; what was left empty is None."""
        return submissions.Author(
            name=_kept(self.author_name),
            phone=_kept(self.phone.data),
            email=_kept(self.email.data),
        )


class PrefixedForm(FlaskForm):
    """A form that shares its page with others, its fields named ``PREFIX-…``.

    Each form says its prefix once, in its class (``PREFIX = "note"``); the
    page that shows it and the view it is posted to both build it from
    there, so the field names they use always agree.
    """

    PREFIX: ClassVar[str] = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.PREFIX)
        super().__init__(*args, **kwargs)

    @classmethod
    def of(cls, number: int, **data: Any) -> Self:
        """Build the form of one of several rows of a page (a reply, a section)."""
        return cls(prefix=f"{cls.PREFIX}{number}", **data)


class ReplyForm(PrefixedForm):
    """A section's answer; it stays a draft until the lead approves it.

    ``revises`` holds the id of the waiting draft the page showed: the text
    then replaces that draft instead of being a second one.
    """

    body = text_area(_l("答复内容"), max=20000, required=_l("请填写答复内容。"))
    revises = HiddenField()

    @classmethod
    def from_template(cls, choice: str | None, waiting: Reply | None = None) -> Self:
        """Build the form starting from the reply template chosen with ``?template=N``.

        While a draft ``waiting`` for the lead, the form edits that draft,
        starting from its text.
        """
        if waiting is not None:
            return cls.editing(waiting)
        chosen = current_app.config["REPLY_TEMPLATES"]
        number = ascii_number(choice, most=len(chosen) - 1)
        return cls(body=None if number is None else chosen[number].text)

    @classmethod
    def editing(cls, draft: Reply, *, fresh: bool = False) -> Self:
        """Build the form that edits ``draft``, starting from its text.

        ``fresh`` leaves out what was posted: the form after a saved answer.
        """
        posted: dict[str, Any] = {"formdata": None} if fresh else {}
        return cls(body=draft.body, revises=str(draft.id), **posted)

    @property
    def revised_id(self) -> int | None:
        """Return the id of the draft this text replaces, None for a new answer."""
        return ascii_number(self.revises.data)

    def revising(self, waiting: Reply | None) -> None:
        """Make a refused form edit the draft now ``waiting``, keeping its text."""
        self.revises.data = "" if waiting is None else str(waiting.id)


class FilterForm(FlaskForm):
    """Filters read from the query string, forgivingly: the one way every list reads them.

    :meth:`read` validates; a field that fails keeps its errors, which the
    page names (``_macros/forms.html``: ``ignored_filters``), and
    :meth:`understood` then counts it as unset. A bad filter is reported and
    ignored, never a 500. A FlaskForm without CSRF (a filter changes nothing),
    so that WTForms' own messages come in the reader's language.
    """

    class Meta:
        csrf = False

    def read(self) -> Self:
        """Validate the filters; those that fail are kept for the page and ignored.

        The page is still shown, the rest of the filters applied, but its
        status says the request was not taken as sent (400: see
        ``feedback.errors``).
        """
        if not self.validate():
            g.filters_ignored = True
        return self

    def understood(self, field: Field) -> Any:
        """Return what ``field`` holds, or None if it was left empty or failed."""
        data = None if field.errors else field.data
        if isinstance(data, str):
            data = data.strip()
        return None if data in ("", []) else data


def search_field(label: Label) -> SearchField:
    """Return a filter's search box: one line of at most 100 characters, no
    control characters, checked before it is looked up."""
    return SearchField(label, validators=[Optional(), PlainText(), Length(max=100)])


class BoardFilterForm(FilterForm):
    """Filters and search on a round's board, read from the query string."""

    q = search_field(_l("搜索问题"))
    kind = SelectField(_l("整改状态"), validators=[Optional()])
    section = SelectField(_l("责任股室"), validators=[Optional()])

    def offer(self, sections: Iterable[Section]) -> None:
        """Fill the status and section choices, names in the reader's script."""
        self.kind.choices = [SelectChoice("", _l("全部状态"))] + [
            SelectChoice(kind.value, label)
            for kind, label in STATUS_KIND_LABELS.items()
        ]
        self.section.choices = [SelectChoice("", _l("全部股室"))] + [
            content_choice(str(s.id), s.name) for s in sections
        ]


# How people type a month: 2025-8, 2025/08, 2025.8, 2025年8月, in full-width too.
_MONTH_AS_TYPED = re.compile(
    r"\s*((?:19|20)\d\d)\s*[-/.年]\s*(0?[1-9]|1[0-2])\s*月?\s*"
)


class TypedMonthField(MonthField):
    """A month (``YYYY-MM``) that also takes it as people type it."""

    def __init__(
        self,
        label: Label | None = None,
        validators: list[Any] | None = None,
        *,
        invalid_value_message: Label | None = None,
        **options: Any,
    ) -> None:
        # WTForms 3.3 takes invalid_value_message; types-WTForms (3.2) lacks it.
        super().__init__(  # type: ignore[call-arg]
            label,
            [*(validators or []), PlausibleDate()],
            invalid_value_message=invalid_value_message,
            **options,
        )

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            typed = unicodedata.normalize("NFKC", str(valuelist[0]))
            found = _MONTH_AS_TYPED.fullmatch(typed)
            if found:
                valuelist = [f"{found.group(1)}-{int(found.group(2)):02d}"]
        super().process_formdata(valuelist)


class StatisticsFilterForm(FilterForm):
    """The period and round of a statistics page, read from the query string."""

    first = TypedMonthField(
        _l("从（月份）"),
        validators=[Optional()],
        invalid_value_message=_l("请按“2025-03”的格式填写月份。"),
    )
    last = TypedMonthField(
        _l("到（月份）"),
        validators=[Optional()],
        invalid_value_message=_l("请按“2025-03”的格式填写月份。"),
    )
    round = SelectField(_l("巡察轮次"), validators=[Optional()], validate_choice=False)

    def validate_round(self, field: SelectField) -> None:
        # WTForms 3.3 keeps SelectChoice objects; types-WTForms (3.2) says tuples.
        offered = cast(list[SelectChoice], field.choices)
        if field.data and field.data not in {c.value for c in offered}:
            raise ValidationError(_l("没有这个巡察轮次。"))

    def validate_last(self, field: MonthField) -> None:
        if self.first.data is None or field.data is None:
            return
        first, last = stats.Month.of(self.first.data), stats.Month.of(field.data)
        if last < first:
            raise ValidationError(_l("结束月份不能早于开始月份。"))
        if len(stats.months_between(first, last)) > stats.MAX_PERIOD_MONTHS:
            raise ValidationError(
                _l("统计期间最长%(n)s个月。", n=stats.MAX_PERIOD_MONTHS)
            )

    def filters(self) -> stats.Filters:
        """Return what was validly chosen; a field with an error counts as unset."""
        period_ok = not (self.first.errors or self.last.errors)
        return stats.Filters(
            first=stats.Month.of(self.first.data)
            if period_ok and self.first.data
            else None,
            last=stats.Month.of(self.last.data)
            if period_ok and self.last.data
            else None,
            round_id=chosen_id(self.round),
        )
