"""Closed sets: labelled in every language, read back from stored strings, every mail worded."""

from datetime import date
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
from flask import render_template
from flask_babel import force_locale
from helpers import submit
from sqlalchemy import column
from sqlalchemy import select
from sqlalchemy import table
from sqlalchemy import text
from sqlalchemy import update

from feedback import labels
from feedback import PROJECT_ROOT
from feedback.chinese import to_traditional
from feedback.i18n import LOCALES
from feedback.models import AlertKind
from feedback.models import AuditAction
from feedback.models import Channel
from feedback.models import DeadlineAlert
from feedback.models import FailureKind
from feedback.models import HoldReason
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Rating
from feedback.models import ReplyState
from feedback.models import RetireCause
from feedback.models import StatusKind
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import submissions
from feedback.services.notifications import AuthorUpdate
from feedback.services.notifications import SUBJECTS

LABELLED = [
    (SubmissionState, labels.STATE_LABELS),
    (SubmissionKind, labels.KIND_NAMES),
    (Channel, labels.CHANNEL_NAMES),
    (Rating, labels.RATING_NAMES),
    (HoldReason, labels.HOLD_REASONS),
    (OutboxState, labels.OUTBOX_STATES),
    (FailureKind, labels.OUTBOX_FAILURES),
    (Notification, labels.NOTIFICATION_NAMES),
    (StatusKind, labels.STATUS_KIND_LABELS),
    (ReplyState, labels.REPLY_STATES),
    (AuditAction, labels.AUDIT_ACTIONS),
    (RetireCause, labels.RETIRE_CAUSES),
]


@pytest.mark.parametrize(("members", "names"), LABELLED)
def test_every_member_has_a_label_in_every_language(app, members, names):
    assert list(names) == list(members)
    with app.test_request_context():
        shown = {}
        for locale in LOCALES.values():
            with force_locale(locale):
                shown[locale] = [str(label) for label in names.values()]
    source = shown["zh_Hans_CN"]
    assert all(source)
    assert shown["zh_Hant_TW"] == [to_traditional(label) for label in source]
    untranslated = [zh for zh, en in zip(source, shown["en"], strict=True) if zh == en]
    assert untranslated == []


def test_strings_stored_before_read_back_as_members(app, session):
    receipt = submit(session, author=submissions.Author(email="a@example.com"))
    session.add_all(
        [
            InboundMessage(sender="s@example.com", raw=b"x", hold_reason="no_match"),
            DeadlineAlert(
                submission_id=receipt.submission.id,
                kind=AlertKind.REPLY_SOON,
                due_on=date(2025, 3, 3),
            ),
        ]
    )
    session.commit()
    # Written as the plain strings the columns held before, past the enum type.
    for name, field, value in (
        ("inbound_messages", "hold_reason", "foreign_domain"),
        ("deadline_alerts", "kind", "triage_overdue"),
        ("outbox_messages", "template", "receipt"),
    ):
        session.execute(update(table(name, column(field))).values({field: value}))
    session.commit()
    assert session.scalar(select(InboundMessage.hold_reason)) is (
        HoldReason.FOREIGN_DOMAIN
    )
    assert session.scalar(select(DeadlineAlert.kind)) is AlertKind.TRIAGE_OVERDUE
    assert session.scalar(select(OutboxMessage.template)) is Notification.RECEIPT


def test_an_unknown_stored_value_fails_loudly(app, session):
    session.add(InboundMessage(sender="s@example.com", raw=b"x"))
    session.commit()
    session.execute(text("UPDATE inbound_messages SET hold_reason = 'misfiled'"))
    session.commit()
    with pytest.raises(LookupError, match="misfiled"):
        session.scalar(select(InboundMessage.hold_reason))


def test_each_reason_files_holds_or_drops_as_documented():
    by_state = {
        state: {reason.value for reason in HoldReason if reason.state is state}
        for state in InboundState
    }
    assert by_state == {
        InboundState.FILED: {"reply_address", "new_submission"},
        InboundState.HELD: {
            "header",
            "subject",
            "no_match",
            "bad_signature",
            "foreign_domain",
            "other_section",
            "not_waiting",
        },
        InboundState.DISCARDED: {"auto_reply", "duplicate"},
    }


def test_inspect_json_is_printed_as_before(app, runner, tmp_path):
    message = EmailMessage()
    message["From"] = "someone@example.com"
    message["To"] = "nobody@example.com"
    message["Subject"] = "你好"
    message.set_content("没有对应的意见。\n")
    path = tmp_path / "stray.eml"
    path.write_bytes(message.as_bytes())
    result = runner.invoke(args=["mail", "inspect", str(path), "--json"])
    assert result.output == (
        '{"action": "hold", "match": null, "reason": "no_match", '
        '"reply_text": "没有对应的意见。"}\n'
    )


def test_every_notification_has_a_subject_and_both_templates():
    assert list(SUBJECTS) == list(Notification)
    emails = PROJECT_ROOT / "templates" / "emails"
    for name in Notification:
        assert (emails / f"{name}.txt").is_file()
        assert (emails / f"{name}.html").is_file()


def test_every_author_update_is_worded_and_escaped_in_html(app):
    hostile = "<script>x()</script> & 'q'"
    submission = SimpleNamespace(
        reference="MJ20250101-00001",
        subject="标题",
        is_misconduct=False,
        section=SimpleNamespace(name="财务股"),
        due_on=date(2025, 3, 4),
        decision_reason=hostile,
        duplicate_of=SimpleNamespace(reference="MJ20250101-00000"),
        info_requests=[SimpleNamespace(question=hostile)],
        extended_days=5,
        extension_reason=hostile,
    )
    escaped = 0
    with app.test_request_context():
        wording = app.jinja_env.get_template("emails/_author_update.txt").module
        for what in AuthorUpdate:
            assert callable(getattr(wording, what.value))
            context = {"submission": submission, "track_url": "/track", "what": what}
            plain = render_template("emails/author_update.txt", **context)
            html = render_template("emails/author_update.html", **context)
            sentence = str(getattr(wording, what.value)(submission))
            assert sentence
            assert f"：\n\n{sentence}\n\n您可以在" in plain
            assert "<script>" not in html
            if hostile in sentence:
                assert "&lt;script&gt;x()&lt;/script&gt; &amp; &#39;q&#39;" in html
                escaped += 1
    # The refusal's reason, the extension's and the question quote the lead.
    assert escaped >= 3
