"""The shared corpora through every field: never a 500, kept exactly, never runnable.

Every line of both corpora goes, in process, through the real form classes and
services, is read back exactly from the database, and is rendered by the real
views, page and mail templates. Pages are rendered in batches: each line is
stored once, in every field of one submission, and read back as its subject
from the lead's queue, fifty to a page; then texts made of many lines
(joined by line breaks, as a long letter would be) go, as a submission and as
a section's reply, through every page and mail that shows them. A sample goes
through the test client here, over real HTTP in test_intake_http and through
Chromium in test_browser_bad_input.
"""

from __future__ import annotations

import html as html_module
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask import session as flask_session
from helpers import corpus
from helpers import open_reply_link
from helpers import read_receipt
from helpers import runnable_markup
from helpers import staff_user
from helpers import submit
from helpers import TEST_DATABASE_URL
from markupsafe import escape
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from feedback.extensions import db
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.public.forms import IDENTITY_REAL_NAME
from feedback.public.forms import SubmitForm
from feedback.services import replies
from feedback.services import submissions
from feedback.services import triage
from feedback.signing import reply_token
from feedback.text import linkify
from feedback.web.forms import ReplyForm

EMAIL = "citizen@example.com"
BODY_LIMIT = 5000  # SubmitForm.body's Length(max=…)
# The XSS corpus is split so that parallel workers share it.
XSS_PARTS = 8


def pages_sample(items: list, size: int) -> list:
    """All of ``items`` on SQLite; ``size`` of them in the PostgreSQL pass.

    That pass stores every line again, which is its business, but renders
    pages, which no database changes, only for a sample.
    """
    if not TEST_DATABASE_URL or len(items) <= size:
        return items
    return random.Random(size).sample(items, size)


def xss_part(part: int) -> list[str]:
    """Return one of XSS_PARTS slices of the XSS corpus.

    The PostgreSQL pass stores a sample of 500; the SQLite pass takes all.
    """
    payloads = corpus("xss-payloads.txt")
    if TEST_DATABASE_URL:
        payloads = random.Random(11).sample(payloads, 500)
    return payloads[part::XSS_PARTS]


# ---- in process: forms, services, views --------------------------------------


def citizen_data(**fields: str) -> dict[str, str]:
    """What a browser posts for the public submission form, with ``fields``."""
    return {
        "kind": "opinion",
        "subject": "标题",
        "body": "内容",
        "identity": "anonymous",
        **fields,
    }


def citizen_form(**fields: str) -> SubmitForm:
    """The public submission form, filled in as a browser would post it."""
    form = SubmitForm(formdata=MultiDict(citizen_data(**fields)))
    form.problem_id.choices = [SelectChoice("", "")]
    return form


def every_citizen_field_data(text: str) -> dict[str, str]:
    """``text`` in every field of a real-name submission, each cut to its limit."""
    return {
        "kind": "opinion",
        "subject": text[:100],
        "body": text,
        "identity": IDENTITY_REAL_NAME,
        "name": text[:100],
        "phone": text[:40],
        "email": EMAIL,
    }


def every_citizen_field(text: str) -> SubmitForm:
    return citizen_form(**every_citizen_field_data(text))


def hand_in(form: SubmitForm) -> submissions.Receipt:
    """Store a valid form through the intake service, as the submit view does."""
    return submissions.submit(
        db.session,
        kind=SubmissionKind(form.kind.data),
        subject=form.subject.data,
        body=form.body.data,
        author=form.author(),
        publish_consent=form.publish_consent.data,
    )


def assert_refused_with_a_message(form: SubmitForm | ReplyForm, text: str) -> None:
    """The form says why, in words, beside at least one field."""
    messages = [str(m) for errors in form.errors.values() for m in errors]
    assert messages, repr(text)
    assert all(m.strip() for m in messages), repr(text)


def page(
    app: Flask,
    path: str,
    data: dict[str, str] | None = None,
    as_user: tuple[int, int] | None = None,
) -> tuple[int, str]:
    """Run the view behind ``path`` in process: hooks, view, template, handlers.

    ``data`` makes it a POST; ``as_user`` is an account's (id, session version).
    A section's reply link is opened first, and its page shown with the cookie.
    """
    method = "GET" if data is None else "POST"
    headers = {}
    if path.startswith("/section/reply/"):
        path, headers["Cookie"] = open_reply_link(app, path)
    with app.test_request_context(path, method=method, data=data, headers=headers):
        if as_user is not None:
            flask_session["user_id"], flask_session["v"] = as_user
        response = app.full_dispatch_request()
        return response.status_code, response.get_data(as_text=True)


def assert_refused_on_the_page(
    app: Flask, path: str, data: dict[str, str], text: str
) -> None:
    """The view behind ``path`` refuses ``data`` with 400, says why, runs nothing."""
    status, html = page(app, path, data)
    assert status == 400, repr(text)
    assert 'class="error' in html, repr(text)
    assert runnable_markup(html) == [], repr(text)


class _TextOf(HTMLParser):
    """Collects the text of every element with a given class, as a browser shows it."""

    VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "wbr"})

    def __init__(self, css_class: str) -> None:
        super().__init__(convert_charrefs=True)
        self.css_class = css_class
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif self.css_class in (dict(attrs).get("class") or "").split():
            self.depth = 1
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.texts[-1] += data


def texts_of(html: str, css_class: str) -> list[str]:
    """Return the text shown in each element of ``css_class``."""
    parser = _TextOf(css_class)
    parser.feed(html)
    return parser.texts


def assert_shown_as_written(shown: list[str], text: str) -> None:
    """A page shows ``text`` in one place, as written, line by line."""
    assert len(shown) == 1, repr(text)
    shown_lines, lines = shown[0].split("\n"), text.split("\n")
    assert len(shown_lines) == len(lines), repr(text)
    for seen, line in zip(shown_lines, lines, strict=True):
        assert seen == line, repr(line)


def letters(lines: list[str], limit: int) -> Iterator[str]:
    """Join ``lines`` with line breaks into texts of at most ``limit`` characters."""
    current: list[str] = []
    for line in lines:
        if current and len("\n".join([*current, line])) > limit:
            yield "\n".join(current)
            current = []
        current.append(line)
    if current:
        yield "\n".join(current)


@dataclass
class Office:
    """The demo's 办公室, its clerk and the lead, as the views need them.

    Accounts are (id, session version), what a signed-in session holds.
    """

    section_id: int
    lead: tuple[int, int]
    clerk: tuple[int, int]


def office(app: Flask) -> Office:
    with app.app_context():
        section = db.session.scalar(select(Section).where(Section.name == "办公室"))
        lead = staff_user(Role.LEAD)
        clerk = staff_user(Role.SECTION, "办公室")
        return Office(
            section.id,
            (lead.id, lead.session_version),
            (clerk.id, clerk.session_version),
        )


def routed_to(desk: Office) -> tuple[Submission, Section]:
    """Hand in a plain submission and route it to the office (in an app context)."""
    submission = submit(db.session).submission
    section = db.session.get(Section, desk.section_id)
    triage.route(db.session, submission, section, actor=None)
    return submission, section


# ---- what every line must survive ----------------------------------------------


def store_in_every_citizen_field(
    app: Flask, lines: list[str]
) -> dict[int, tuple[str, str]]:
    """Send each line through every field; return {submission id: (line, code)}.

    A refusal names its reason on the form and on the page, which shows back
    what was typed; what is kept is stored exactly, and the receipt mail
    (rendered when it is queued) repeats none of it.
    """
    # Every receipt rendered, not suppressed for going to the one address.
    app.config["RECEIPT_RATE_LIMIT"] = "100000/hour"
    kept: dict[int, str] = {}
    codes: dict[int, str] = {}
    refused: list[str] = []
    with app.test_request_context():
        for text in lines:
            form = every_citizen_field(text)
            if form.validate():
                receipt = hand_in(form)
                kept[receipt.submission.id] = text
                codes[receipt.submission.id] = receipt.access_code
            else:
                assert_refused_with_a_message(form, text)
                refused.append(text)
        db.session.commit()
        rows = db.session.scalars(select(Submission).where(Submission.id.in_(kept)))
        for row in rows:
            text = kept[row.id]
            assert (row.subject, row.body, row.author_name, row.author_phone) == (
                text[:100],
                text,
                text[:100].strip(),
                text[:40].strip() or None,
            ), repr(text)
        mails = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.submission_id.in_(kept))
        )
        mailed = set()
        for mail in mails:
            text = kept[mail.submission_id]
            assert runnable_markup(mail.body_html) == [], repr(text)
            assert mail.state is not OutboxState.SUPPRESSED
            if len(text.strip()) >= 12:  # shorter ones may be words of the mail
                assert str(escape(text[:100])) not in mail.body_html, repr(text)
                assert text[:100] not in mail.body_text, repr(text)
            mailed.add(mail.submission_id)
        assert mailed == set(kept)
    for text in refused:
        assert_refused_on_the_page(app, "/submit", every_citizen_field_data(text), text)
    return {key: (text, codes[key]) for key, text in kept.items()}


def shown_as_subjects(app: Flask, kept: dict[int, tuple[str, str]]) -> None:
    """Page through the lead's queue of new submissions, PAGE_SIZE at a time.

    Each kept line is the subject of its own submission there: the page
    that lists it shows it escaped, and no page has anything runnable.
    """
    desk = office(app)
    listed: set[int] = set()
    path: str | None = "/staff/?queue=new"
    while path is not None:
        status, html = page(app, path, as_user=desk.lead)
        assert status == 200, path
        assert runnable_markup(html) == [], path
        for number in re.findall(r'href="/staff/submissions/(\d+)"', html):
            if int(number) in kept:
                text, _code = kept[int(number)]
                assert str(escape(text[:100])) in html, repr(text)
                listed.add(int(number))
        following = re.search(r'<a href="([^"]+)">下一页</a>', html)
        path = html_module.unescape(following.group(1)) if following else None
    assert listed == set(kept)


def show_as_letters(app: Flask, lines: list[str]) -> int:
    """Send ``lines`` as long letters and read each back on every page and mail.

    Each letter goes through the real submit view, is routed, and is shown by
    the tracking page, the lead's page of the submission and the section's
    reply page; all must show it exactly as written, with nothing runnable,
    and so must the mail that tells the section. Returns how many letters.
    """
    desk = office(app)
    count = 0
    for letter in letters(lines, BODY_LIMIT):
        count += 1
        status, receipt = page(
            app,
            "/submit",
            # A subject is one line: the form refuses line breaks in it.
            {"kind": "opinion", "subject": letter.split("\n")[0][:100], "body": letter},
        )
        assert status == 200, letter
        assert runnable_markup(receipt) == []
        _reference, code = read_receipt(receipt)
        with app.app_context():
            submission = db.session.scalar(
                select(Submission).order_by(Submission.id.desc()).limit(1)
            )
            section = db.session.get(Section, desk.section_id)
            triage.route(db.session, submission, section, actor=None)
            db.session.commit()
            mail = db.session.scalar(
                select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)
            )
            assert mail.submission_id == submission.id
            assert runnable_markup(mail.body_html) == []
            assert letter in mail.body_text
            token = reply_token(submission.id, section.id)
            submission_id = submission.id
        for path, data, as_user in (
            ("/track", {"code": code}, None),
            (f"/staff/submissions/{submission_id}", None, desk.lead),
            (f"/section/reply/{token}", None, None),
        ):
            status, html = page(app, path, data, as_user)
            assert status == 200, path
            assert runnable_markup(html) == [], path
            assert_shown_as_written(texts_of(html, "user-text"), letter)
    return count


def waiting_id(submission_id: int) -> str:
    """Return the id of the submission's draft that waits for the lead, or ""."""
    waiting = replies.waiting_draft(db.session.get(Submission, submission_id))
    return "" if waiting is None else str(waiting.id)


def reply_as_letters(app: Flask, lines: list[str]) -> None:
    """Post ``lines`` as a section's long reply, each letter the new text of the
    one before (a case takes one draft at a time); each is kept and shown exactly."""
    desk = office(app)
    with app.app_context():
        submission, section = routed_to(desk)
        db.session.commit()
        token = reply_token(submission.id, section.id)
        submission_id = submission.id
    sent = list(letters(lines, 20_000))
    for letter in sent:
        with app.app_context():
            revises = waiting_id(submission_id)
        data = {"body": letter, "revises": revises}
        status, html = page(app, f"/section/reply/{token}", data)
        assert status == 200
        assert runnable_markup(html) == []
    with app.app_context():
        stored = db.session.scalars(
            select(Reply.body).where(Reply.submission_id == submission_id)
        ).all()
    assert sorted(stored) == sorted(sent)
    # The section's page shows the draft that waits; the case, every text.
    for path, as_user, expected in (
        (f"/section/reply/{token}", None, sent[-1:]),
        (f"/staff/submissions/{submission_id}", desk.clerk, sent),
    ):
        status, html = page(app, path, as_user=as_user)
        assert status == 200
        assert runnable_markup(html) == [], path
        shown = texts_of(html, "reply-text")
        assert len(shown) == len(expected), path
        for text, letter in zip(sorted(shown), sorted(expected), strict=True):
            assert_shown_as_written([text], letter)
    # The lead reads the waiting draft in the box where it may be edited
    # before approval, and the texts it replaced in the case's history.
    status, html = page(app, f"/staff/submissions/{submission_id}", as_user=desk.lead)
    assert status == 200
    assert runnable_markup(html) == []
    assert str(escape(sent[-1])) in html
    shown = texts_of(html, "reply-text")
    for text, letter in zip(sorted(shown), sorted(sent[:-1]), strict=True):
        assert_shown_as_written([text], letter)


# ---- the tests -----------------------------------------------------------------


@pytest.mark.parametrize("part", range(XSS_PARTS))
def test_xss_corpus_through_every_citizen_field(app, demo_loaded, part):
    payloads = xss_part(part)
    kept = store_in_every_citizen_field(app, payloads)
    assert len(kept) > 0.9 * len(payloads)
    shown_as_subjects(app, kept)
    assert show_as_letters(app, [text for text, _code in kept.values()]) >= 1


@pytest.mark.parametrize("part", range(XSS_PARTS))
def test_xss_corpus_as_a_sections_reply(app, demo_loaded, part):
    payloads = xss_part(part)
    accepted = []
    with app.test_request_context():
        for line in payloads:
            form = ReplyForm(formdata=MultiDict({"body": line}))
            if form.validate():
                accepted.append(line)
            else:
                assert_refused_with_a_message(form, line)
    assert len(accepted) > 0.9 * len(payloads)
    reply_as_letters(app, accepted)


def test_naughty_strings_through_every_citizen_field(app, demo_loaded):
    """Each string also on its own tracking page, as subject and text."""
    kept = store_in_every_citizen_field(app, corpus("naughty-strings.txt"))
    assert len(kept) > 400
    shown_as_subjects(app, kept)
    for text, code in pages_sample(list(kept.values()), 60):
        status, tracked = page(app, "/track", {"code": code})
        assert status == 200, repr(text)
        assert str(escape(text[:100])) in tracked, repr(text)
        assert_shown_as_written(texts_of(tracked, "user-text"), text)
        assert runnable_markup(tracked) == [], repr(text)
    show_as_letters(app, [text for text, _code in kept.values()])


def test_naughty_strings_as_email_and_access_code(app):
    strings = corpus("naughty-strings.txt")
    kept: dict[int, str] = {}
    refused: list[str] = []
    with app.test_request_context():
        for text in strings:
            form = citizen_form(identity=IDENTITY_REAL_NAME, name="张三", email=text)
            if form.validate():
                kept[hand_in(form).submission.id] = text
            else:
                assert_refused_with_a_message(form, text)
                refused.append(text)
        db.session.commit()
        for row in db.session.scalars(
            select(Submission).where(Submission.id.in_(kept))
        ):
            assert row.author_email == kept[row.id].strip(), repr(kept[row.id])
    assert len(refused) > 0.9 * len(strings)  # next to none is an address
    for text in pages_sample(refused, 60):
        data = citizen_data(identity=IDENTITY_REAL_NAME, name="张三", email=text)
        assert_refused_on_the_page(app, "/submit", data, text)
    for text in pages_sample(strings, 60):
        status, tracked = page(app, "/track", {"code": text})
        assert status in (200, 400), repr(text)
        assert runnable_markup(tracked) == [], repr(text)


def test_naughty_strings_as_a_sections_reply(app, demo_loaded):
    strings = corpus("naughty-strings.txt")
    desk = office(app)
    kept: dict[int, str] = {}
    refused: list[str] = []
    with app.test_request_context():
        submission, section = routed_to(desk)
        for text in strings:
            form = ReplyForm(formdata=MultiDict({"body": text}))
            if not form.validate():
                assert_refused_with_a_message(form, text)
                refused.append(text)
                continue
            # One draft at a time: each string is the new text of the last.
            reply = replies.answer(
                db.session,
                submission,
                section,
                form.body.data,
                revising=replies.waiting_draft(submission),
                channel=ReplyChannel.WEB,
                author_label="办公室（邮件链接）",
            )
            db.session.flush()
            kept[reply.id] = text
        db.session.commit()
        for reply in db.session.scalars(select(Reply).where(Reply.id.in_(kept))):
            assert reply.body == kept[reply.id], repr(kept[reply.id])
        token = reply_token(submission.id, section.id)
        submission_id = submission.id
    assert len(kept) > 400
    status, html = page(app, f"/section/reply/{token}")
    assert status == 200
    assert runnable_markup(html) == []
    assert_shown_as_written(texts_of(html, "reply-text"), list(kept.values())[-1])
    # Every text the section sent stays in the case, as written.
    status, html = page(app, f"/staff/submissions/{submission_id}", as_user=desk.clerk)
    assert status == 200
    assert runnable_markup(html) == []
    shown = texts_of(html, "reply-text")
    assert len(shown) == len(kept)
    for text, written in zip(shown, kept.values(), strict=True):
        assert_shown_as_written([text], written)
    for text in refused:
        assert_refused_on_the_page(app, f"/section/reply/{token}", {"body": text}, text)


def test_xss_sample_on_staff_pages_and_in_mail(app, demo_loaded):
    """One payload a submission: its own page for the lead and the section."""
    payloads = pages_sample(
        random.Random(2026).sample(corpus("xss-payloads.txt"), 300), 60
    )
    desk = office(app)
    routed: dict[int, str] = {}
    with app.test_request_context():
        section = db.session.get(Section, desk.section_id)
        for payload in payloads:
            form = every_citizen_field(payload)
            if not form.validate():
                continue
            submission = hand_in(form).submission
            triage.route(db.session, submission, section, actor=None)
            routed[submission.id] = payload
        db.session.commit()
        mails = db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.submission_id.in_(routed),
                OutboxMessage.template == "submission_routed",
            )
        ).all()
        assert {m.submission_id for m in mails} == set(routed)
        for mail in mails:
            payload = routed[mail.submission_id]
            assert runnable_markup(mail.body_html) == [], payload
            assert payload in mail.body_text  # the plain part carries it as written
        tokens = {sid: reply_token(sid, desk.section_id) for sid in routed}
    for submission_id, payload in routed.items():
        for path, as_user in (
            (f"/staff/submissions/{submission_id}", desk.lead),
            (f"/section/reply/{tokens[submission_id]}", None),
        ):
            status, html = page(app, path, as_user=as_user)
            assert status == 200, payload
            assert runnable_markup(html) == [], payload
            assert str(escape(payload[:100])) in html, payload
    status, html = page(app, "/staff/", as_user=desk.lead)
    assert status == 200
    assert runnable_markup(html) == []


# ---- a sample through the test client: the views' own wiring ------------------


def _submit(client, key, **fields):
    data = {
        "kind": "opinion",
        "subject": "标题",
        "body": "内容",
        "identity": "anonymous",
        "idempotency_key": f"corpus-form-key-{key:06d}",
    }
    data.update(fields)
    return client.post("/submit", data=data)


def _latest(app, model):
    """Read the newest row in a context of its own, as a fresh request would."""
    with app.app_context():
        row = db.session.scalar(select(model).order_by(model.id.desc()).limit(1))
        db.session.expunge_all()
        return row


def test_corpus_sample_through_the_test_client(app, client):
    rng = random.Random(5)
    sample = pages_sample(
        rng.sample(corpus("xss-payloads.txt"), 100)
        + rng.sample(corpus("naughty-strings.txt"), 100),
        60,
    )
    kept = 0
    for number, text in enumerate(sample):
        response = _submit(client, number, **every_citizen_field_data(text))
        html = response.get_data(as_text=True)
        assert response.status_code in (200, 400), repr(text)
        assert runnable_markup(html) == [], repr(text)
        if response.status_code == 400:
            assert 'class="error' in html, repr(text)
            continue
        stored = _latest(app, Submission)
        assert (stored.subject, stored.body) == (text[:100], text)
        assert (stored.author_name, stored.author_phone) == (
            text[:100].strip(),
            text[:40].strip() or None,
        )
        _reference, code = read_receipt(html)
        tracked = client.post("/track", data={"code": code}).get_data(as_text=True)
        assert str(escape(text[:100])) in tracked, repr(text)
        assert runnable_markup(tracked) == [], repr(text)
        kept += 1
    assert kept > 0.75 * len(sample)


@pytest.mark.parametrize("text", ["a\x00b", "控制\x07字符"])
def test_control_characters_are_refused_with_a_message(app, client, text):
    response = _submit(client, 1, body=text)
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)
    assert _latest(app, Submission) is None


def test_text_after_a_web_address_is_shown_as_written():
    text = '<b src="http://example.com/x.js"></b>'
    shown = texts_of(f'<div class="user-text">{linkify(text)}</div>', "user-text")
    assert shown == [text]
