"""The lead's and the sections' back office: one draft at a time, reopened cases, mail a clerk understands, pages on a phone."""

import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from helpers import base_config
from helpers import login
from helpers import reset_schema
from helpers import staff_user
from helpers import submit
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select

from feedback import create_app
from feedback import PROJECT_ROOT
from feedback.extensions import db
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import InboundState
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import Rating
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import RetireCause
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionState
from feedback.services import closing
from feedback.services import inbound
from feedback.services import replies
from feedback.services import triage
from feedback.signing import reply_address

# ---- 1. One draft at a time ---------------------------------------------------

FIRST = "已安排每月10日前在校务公开栏公布食堂收支。"
SECOND = "补充：下学期起每周公布一次。"


def _route_by_mail(app: Flask, section_name: str = "计划财务股") -> tuple[int, str]:
    """Route a new submission; return its id and the reply link its section's mail gives."""
    with app.app_context():
        submission = submit(db.session).submission
        section = db.session.scalar(select(Section).where(Section.name == section_name))
        triage.route(db.session, submission, section, actor=staff_user(Role.LEAD))
        db.session.commit()
        mail = db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.template == Notification.SUBMISSION_ROUTED,
                OutboxMessage.submission_id == submission.id,
            )
        )
        link = re.search(r"(/section/reply/[^\s\"<>]+)", mail.body_text).group(1)
        return submission.id, link


def _replies_of(app: Flask, submission_id: int) -> list[tuple[ReplyState, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(Reply.state, Reply.body)
            .where(Reply.submission_id == submission_id)
            .order_by(Reply.id)
        )
        return [tuple(row) for row in rows]


def _retirements(app: Flask) -> list[tuple[int, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(Event.object_id, Event.reason)
            .where(Event.action == AuditAction.REPLY_RETIRED)
            .order_by(Event.id)
        )
        return [tuple(row) for row in rows]


def _mail_count(app: Flask, template: Notification) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).where(OutboxMessage.template == template)
        )


def test_through_the_signed_link_a_second_reply_while_one_waits_is_refused(
    app, demo_loaded
):
    submission_id, link = _route_by_mail(app)
    section = app.test_client()
    page = section.get(link, follow_redirects=True)
    assert page.status_code == 200
    first = section.post(page.request.path, data={"body": FIRST})
    assert "答复已收到" in first.get_data(as_text=True)
    # A second tab, opened before the first answer, posts a new answer.
    second = section.post(page.request.path, data={"body": SECOND})
    html = second.get_data(as_text=True)
    assert second.status_code == 400
    assert "已有一份答复在等待纪检组长审核，不能再提交第二份" in html
    assert re.search(rf">\s*{SECOND}</textarea>", html)  # what was typed is kept
    assert "保存修改" in html  # sent again, it would edit the waiting draft
    assert _replies_of(app, submission_id) == [(ReplyState.DRAFT, FIRST)]
    # The same text sent twice (a double click) is the same draft, not a refusal.
    again = section.post(page.request.path, data={"body": FIRST})
    assert again.status_code == 200
    assert _replies_of(app, submission_id) == [(ReplyState.DRAFT, FIRST)]


def test_the_section_edits_its_waiting_draft_and_a_stale_page_cannot_act_on_the_old(
    app, demo_loaded
):
    submission_id, link = _route_by_mail(app)
    section, lead = app.test_client(), app.test_client()
    with app.app_context():
        login(lead, staff_user(Role.LEAD))
    page = section.get(link, follow_redirects=True)
    section.post(page.request.path, data={"body": FIRST})
    lead_page = lead.get(f"/staff/submissions/{submission_id}").get_data(as_text=True)
    (old_id,) = re.findall(r"/staff/replies/(\d+)/approve", lead_page)
    shown = section.get(page.request.path).get_data(as_text=True)
    assert "修改这份答复" in shown
    assert f'name="revises" type="hidden" value="{old_id}"' in shown

    edited = section.post(
        page.request.path, data={"body": SECOND, "revises": old_id}
    ).get_data(as_text=True)
    assert "修改已保存" in edited
    assert _replies_of(app, submission_id) == [
        (ReplyState.RETIRED, FIRST),
        (ReplyState.DRAFT, SECOND),
    ]
    assert _retirements(app) == [(int(old_id), RetireCause.REVISED.value)]

    # The lead's page drawn before the edit: approving or returning the old
    # text is refused in plain words, and nobody is mailed.
    returned_before = _mail_count(app, Notification.REPLY_RETURNED)
    for action, data in (
        ("approve", {f"r{old_id}-body": FIRST}),
        ("return", {f"return{old_id}-reason": "请补充时间"}),
    ):
        answer = lead.post(
            f"/staff/replies/{old_id}/{action}", data=data, follow_redirects=True
        ).get_data(as_text=True)
        assert "这份答复已失效：股室已提交修改后的答复。请刷新页面查看。" in answer
        assert "cannot move" not in answer
    assert _mail_count(app, Notification.REPLY_RETURNED) == returned_before
    assert _replies_of(app, submission_id)[0][0] is ReplyState.RETIRED

    # Drawn afresh, the page offers the new text only; the old one is marked.
    lead_page = lead.get(f"/staff/submissions/{submission_id}").get_data(as_text=True)
    (offered,) = re.findall(r"/staff/replies/(\d+)/approve", lead_page)
    assert offered != old_id
    assert "已作废</strong>：股室已提交修改后的答复" in lead_page


def test_a_clerk_signed_in_edits_the_waiting_draft_rather_than_adding_one(
    app, demo_loaded
):
    submission_id, _link = _route_by_mail(app)
    clerk = app.test_client()
    with app.app_context():
        login(clerk, staff_user(Role.SECTION, "计划财务股"))
    case = f"/staff/submissions/{submission_id}"
    clerk.post(f"{case}/reply", data={"body": FIRST})
    page = clerk.get(case).get_data(as_text=True)
    assert "修改待审核的答复" in page
    assert "提交答复" not in page
    (draft_id,) = re.findall(r'name="revises" type="hidden" value="(\d+)"', page)
    refused = clerk.post(f"{case}/reply", data={"body": SECOND}, follow_redirects=True)
    assert "不能再提交第二份" in refused.get_data(as_text=True)
    clerk.post(f"{case}/reply", data={"body": SECOND, "revises": draft_id})
    assert _replies_of(app, submission_id) == [
        (ReplyState.RETIRED, FIRST),
        (ReplyState.DRAFT, SECOND),
    ]


def test_the_trap_of_a_second_draft_on_a_closed_case_is_gone(app, client, demo_loaded):
    """The section answered twice; the first was approved and rated; the second
    offered 审核通过, which gave a raw error, and 退回 mailed the clerk."""
    submission_id, _link = _route_by_mail(app)
    with app.app_context():
        lead = staff_user(Role.LEAD)
        item = db.session.get(Submission, submission_id)
        first = replies.draft(
            db.session,
            item,
            item.section,
            FIRST,
            channel=ReplyChannel.WEB,
            author_label="计划财务股",
        )
        with pytest.raises(replies.ReplyError, match="不能再提交第二份"):
            replies.draft(
                db.session,
                item,
                item.section,
                SECOND,
                channel=ReplyChannel.EMAIL,
                author_label="caiwu@meijiang-edu.example",
            )
        replies.approve(db.session, first, actor=lead)
        closing.rate(db.session, item, Rating.SATISFIED)
        # A draft left on the closed case by the old code stays in databases.
        left = Reply(
            submission=item,
            section=item.section,
            body=SECOND,
            channel=ReplyChannel.EMAIL,
            author_label="caiwu@meijiang-edu.example",
        )
        db.session.add(left)
        db.session.commit()
        first_id, left_id = first.id, left.id
        login(client, lead)
    page = client.get(f"/staff/submissions/{submission_id}").get_data(as_text=True)
    assert "审核通过并告知群众" not in page
    assert "退回股室修改" not in page
    assert "已失效</strong>：此意见现在是“已办结”，不再等待这份答复" in page
    desk = client.get("/staff/?queue=drafts").get_data(as_text=True)
    assert f"/staff/submissions/{submission_id}" not in desk

    returned_before = _mail_count(app, Notification.REPLY_RETURNED)
    for reply_id, said in (
        (left_id, "这份答复已失效：此意见现在是“已办结”，不再等待这份答复。"),
        (first_id, "这份答复已经审核通过，不能再审核或修改。"),
    ):
        for action, data in (
            ("approve", {f"r{reply_id}-body": SECOND}),
            ("return", {f"return{reply_id}-reason": "请修改"}),
        ):
            answer = client.post(
                f"/staff/replies/{reply_id}/{action}", data=data, follow_redirects=True
            ).get_data(as_text=True)
            assert f'<p class="flash flash--error">{said}请刷新页面查看。</p>' in answer
    assert _mail_count(app, Notification.REPLY_RETURNED) == returned_before
    with app.app_context():
        assert db.session.get(Submission, submission_id).state is SubmissionState.CLOSED


def _draft_row(item: Submission, body: str) -> Reply:
    """A draft written as the old code let one in, past the one-draft rule."""
    row = Reply(
        submission=item,
        section=item.section,
        body=body,
        channel=ReplyChannel.WEB,
        author_label=item.section.name,
    )
    db.session.add(row)
    db.session.flush()
    return row


def _approve_another(item: Submission) -> None:
    replies.approve(db.session, _draft_row(item, FIRST), actor=staff_user(Role.LEAD))


def _reroute(item: Submission) -> None:
    office = db.session.scalar(select(Section).where(Section.name == "办公室"))
    triage.route(db.session, item, office, actor=staff_user(Role.LEAD))


def _rate(item: Submission) -> None:
    item.state = SubmissionState.REPLIED
    closing.rate(db.session, item, Rating.SATISFIED)


def _reopen(item: Submission) -> None:
    item.state = SubmissionState.CLOSED
    closing.reopen(db.session, item, "请再核实", actor=staff_user(Role.LEAD))


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        (_approve_another, RetireCause.ANOTHER_APPROVED),
        (_reroute, RetireCause.REROUTED),
        (_rate, RetireCause.CLOSED),
        (_reopen, RetireCause.REOPENED),
    ],
    ids=["approved", "rerouted", "closed", "reopened"],
)
def test_a_draft_never_outlives_the_state_it_was_written_for(
    app, demo_loaded, change, cause
):
    submission_id, _link = _route_by_mail(app)
    with app.app_context():
        item = db.session.get(Submission, submission_id)
        draft_id = _draft_row(item, SECOND).id
        change(item)
        db.session.commit()
        assert db.session.get(Reply, draft_id).state is ReplyState.RETIRED
        assert replies.waiting_draft(item) is None
    assert _retirements(app) == [(draft_id, cause.value)]


def test_a_second_mailed_reply_replaces_the_waiting_drafts_text(app, demo_loaded):
    submission_id, _link = _route_by_mail(app)

    def mailed(text: str, n: int) -> bytes:
        message = EmailMessage()
        message["From"] = "caiwu.zhang@meijiang-edu.example"
        with app.app_context():
            message["To"] = reply_address(submission_id)
        message["Subject"] = "回复：答复"
        message["Message-ID"] = f"<answer-{n}@mail.example>"
        message.set_content(text)
        return message.as_bytes()

    with app.app_context():
        outcomes = [
            inbound.ingest(db.session, mailed(text, n))
            for n, text in enumerate((FIRST, SECOND))
        ]
        db.session.commit()
        assert [o.inbound.state for o in outcomes] == [InboundState.FILED] * 2
    kept = _replies_of(app, submission_id)
    assert [state for state, _body in kept] == [ReplyState.RETIRED, ReplyState.DRAFT]
    assert kept[0][1].startswith(FIRST)
    assert kept[1][1].startswith(SECOND)
    ((_retired, cause),) = _retirements(app)
    assert cause == RetireCause.REVISED.value
    with app.app_context():
        revised = db.session.scalar(
            select(Event).where(Event.action == AuditAction.REPLY_REVISED)
        )
        assert revised.actor_label == "caiwu.zhang@meijiang-edu.example"


def test_a_retired_reply_is_stored_without_a_migration(tmp_path: Path, database_url):
    """Reply states are a VARCHAR with no CHECK: the migrated schema takes a new one."""
    app = create_app(base_config(tmp_path, database_url))
    with app.app_context():
        reset_schema()
        try:
            upgrade(directory=str(PROJECT_ROOT / "migrations"))
            checks = inspect(db.engine).get_check_constraints("replies")
            assert [c for c in checks if "state" in (c.get("sqltext") or "")] == []
            item = submit(db.session).submission
            db.session.add(
                Reply(
                    submission=item,
                    body=FIRST,
                    state=ReplyState.RETIRED,
                    author_label="办公室",
                )
            )
            db.session.commit()
            db.session.expire_all()
            assert db.session.scalar(select(Reply.state)) is ReplyState.RETIRED
        finally:
            db.session.remove()
            reset_schema()
            db.engine.dispose()
