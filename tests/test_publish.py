"""Publishing a reply: personal data masked, only with consent, never a 举报."""

import pytest
from helpers import login
from helpers import staff_user
from sqlalchemy import select

from feedback import masking
from feedback.extensions import db
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import Role
from feedback.models import Section
from feedback.models import SubmissionKind
from feedback.services import NotAllowed
from feedback.services import replies
from feedback.services import submissions
from feedback.services import triage


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请拨打13800138000联系", "请拨打［电话已隐去］联系"),
        ("电话 138-0013-8000。", "电话 ［电话已隐去］。"),
        ("办公电话0753-2196838", "办公电话［电话已隐去］"),
        ("身份证44140219800101123X已核对", "身份证［身份证号已隐去］已核对"),
        ("回信到 li.si+x@example.com 即可", "回信到 ［邮箱已隐去］ 即可"),
        (
            "已与李四核实，李先生表示满意",
            "已与［姓名已隐去］核实，［姓名已隐去］表示满意",
        ),
        (
            "2025年7月8日发布，共18个问题",
            "2025年7月8日发布，共18个问题",
        ),  # numbers that are no data
    ],
)
def test_mask(text, expected):
    assert masking.mask(text, ["李四"]) == expected


def _replied(session, *, consent=True, kind=SubmissionKind.OPINION):
    receipt = submissions.submit(
        session,
        kind=kind,
        subject="食堂",
        body="b",
        author=submissions.Author(name="李四", phone="13800138000"),
        publish_consent=consent,
    )
    submission = receipt.submission
    lead = staff_user(Role.LEAD)
    if kind is not SubmissionKind.MISCONDUCT:
        office = session.scalar(select(Section).where(Section.name == "办公室"))
        triage.route(session, submission, office, actor=lead)
        reply = replies.draft(
            session,
            submission,
            office,
            "已联系李四（13800138000），食堂每月公开账目。",
            channel=ReplyChannel.WEB,
            author_label="x",
        )
        replies.approve(session, reply, actor=lead)
    session.commit()
    return submission


def test_lead_publishes_the_masked_text(app, client, demo_loaded):
    with app.app_context():
        submission = _replied(db.session)
        submission.problem_id = 11
        db.session.commit()
        reply_id = submission.replies[0].id
        submission_id = submission.id
        login(client, staff_user(Role.LEAD))
    page = client.get(f"/staff/submissions/{submission_id}").get_data(as_text=True)
    assert "已联系［姓名已隐去］（［电话已隐去］）" in page
    edited = "已联系［姓名已隐去］，食堂每月公开账目。"
    client.post(
        f"/staff/replies/{reply_id}/publish", data={f"publish{reply_id}-text": edited}
    )
    public = client.get("/problems/11").get_data(as_text=True)
    assert edited in public
    assert "13800138000" not in public
    assert "李四" not in public


def test_no_consent_no_publication(app, demo_loaded):
    with app.app_context():
        submission = _replied(db.session, consent=False)
        with pytest.raises(replies.ReplyError):
            replies.publish(
                db.session, submission.replies[0], "x", actor=staff_user(Role.LEAD)
            )


def test_misconduct_reports_are_never_published(app, demo_loaded):
    with app.app_context():
        submission = _replied(db.session, kind=SubmissionKind.MISCONDUCT)
        # No section ever answers a 举报; say the lead's own answer was approved.
        lead_reply = Reply(submission=submission, body="x", state=ReplyState.APPROVED)
        db.session.add(lead_reply)
        db.session.flush()
        with pytest.raises(NotAllowed):
            replies.publish(db.session, lead_reply, "x", actor=staff_user(Role.LEAD))
