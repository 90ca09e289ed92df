"""Running a decision from a view: one commit, the outcome told, then the next page."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from flask import flash
from flask import redirect
from flask.typing import ResponseReturnValue
from flask_babel import LazyString
from flask_wtf import FlaskForm
from wtforms import Field

from feedback.extensions import db
from feedback.services import DomainError
from feedback.web.forms import add_error
from feedback.web.forms import Label

T = TypeVar("T")

# What to say after a decision, or where to go: fixed, or worked out from
# what the service call returned.
Said = Label | Sequence[Label]
Telling = Said | Callable[[T], Said]
Going = str | Callable[[T], str]
Again = Callable[[], ResponseReturnValue]


@dataclass(frozen=True)
class Refused:
    """A decision that a rule of the domain refused; nothing of it was kept.

    ``field`` names the input the reason is about, if the rule said which.
    """

    reason: str
    field: str | None = None

    def beside(self, form: FlaskForm) -> str | None:
        """Show the reason beside its field if ``form`` has it; else return it.

        What is returned belongs above the form, in the error style: a rule
        that is about no single field (a state that changed, say).
        """
        if self.field is not None and self.field in form:
            add_error(form[self.field], self.reason)
            return None
        return self.reason


def attempt(action: Callable[[], T]) -> T | Refused:
    """Run a service call and commit once; if a rule refuses it, roll back and say why.

    :func:`decide` builds on this; a view whose success is a page rather
    than a redirect (the section's signed link, the citizen's tracking page)
    calls it directly.
    """
    try:
        result = action()
    except DomainError as exc:
        db.session.rollback()
        return Refused(str(exc), exc.field)
    db.session.commit()
    return result


def decide(
    action: Callable[[], T],
    done: Telling[T],
    to: Going[T],
    *,
    form: FlaskForm | None = None,
    invalid: Label | None = None,
    back: str | None = None,
    again: Again | None = None,
    error_on: Field | None = None,
) -> ResponseReturnValue:
    """Run a staff decision, commit it once, tell how it went and go on.

    With ``form``, ``action`` runs only if the form was posted and is valid.
    Once it is committed, ``done`` is flashed and the browser goes ``to``.

    If the form is not valid or a rule refuses, nothing is kept. Normally the
    reason (``invalid``, else the form's own errors, or the rule's message)
    is flashed and the browser goes ``back`` (by default ``to``, which must
    then be a fixed page). A view that shows the form again with what was
    typed passes ``again`` instead, which renders that page: the form carries
    its own errors, and a rule's message stands beside the field it names,
    else beside ``error_on`` (or is flashed without either).
    """
    not_done: Again
    if again is not None:
        not_done = again
    else:
        page = to if back is None else back
        if callable(page):
            raise TypeError("a decision that goes to a worked-out page needs back=")
        not_done = partial(redirect, page)
    if form is None or form.validate_on_submit():
        outcome = attempt(action)
        if not isinstance(outcome, Refused):
            _tell(done(outcome) if callable(done) else done)
            return redirect(to(outcome) if callable(to) else to)
        if again is None:
            _tell(outcome.reason, "error")
        else:
            left = outcome.reason if form is None else outcome.beside(form)
            if left is not None and error_on is not None:
                add_error(error_on, left)
            elif left is not None:
                _tell(left, "error")
    elif again is None:
        _tell(invalid if invalid is not None else form_errors(form), "error")
    return not_done()


def form_errors(form: FlaskForm) -> list[str]:
    """Return every validation error of a form, field by field."""
    return [str(error) for errors in form.errors.values() for error in errors]


def _tell(said: Said, category: str = "message") -> None:
    # A lazy string is iterable too, but it is one message, not one per character.
    for message in [said] if isinstance(said, str | LazyString) else said:
        flash(str(message), category)
