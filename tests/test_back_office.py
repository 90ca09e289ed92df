"""The lead's and the sections' back office: one draft at a time, reopened cases, mail a clerk understands, pages on a phone."""

import io
import re
import socket
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask_migrate import upgrade
from helpers import base_config
from helpers import free_port
from helpers import LiveServer
from helpers import login
from helpers import read_receipt
from helpers import reset_schema
from helpers import sign_in
from helpers import staff_user
from helpers import submit
from playwright.sync_api import Browser
from playwright.sync_api import expect
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import update

from feedback import create_app
from feedback import demo
from feedback import PROJECT_ROOT
from feedback import quickstart
from feedback.config import reply_templates_setting
from feedback.config_check import findings
from feedback.extensions import db
from feedback.models import Attachment
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import HoldReason
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import Problem
from feedback.models import Rating
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import RetireCause
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import closing
from feedback.services import inbound
from feedback.services import outbox
from feedback.services import replies
from feedback.services import tracking
from feedback.services import triage
from feedback.signing import reply_address
from feedback.signing import reply_token

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


# ---- 2. A reopened case says why


def _text(message):
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def _section(session, name):
    return session.scalar(select(Section).where(Section.name == name))


def _mails_to(handler, address):
    return [m for _from, rcpt, m in handler.messages if address in rcpt]


def _reply_link(text):
    return re.search(r"http://feedback\.test(/section/reply/[^\s/]+)\n", text).group(1)


FIRST_ANSWER = "已要求学校每月公示食堂账目。"
CITIZEN_REASON = "公示栏里只有总数，没有明细。"
INSTRUCTION = "请核实公示内容是否包含明细，并附照片说明。"


def _approved_answer(session, submission, text):
    """The routed section answers on the web and the lead approves it."""
    reply = replies.draft(
        session,
        submission,
        submission.section,
        text,
        channel=ReplyChannel.WEB,
        author_label=submission.section.name,
    )
    replies.approve(session, reply, actor=staff_user(Role.LEAD))


def test_a_reopened_case_tells_its_section_why_by_mail_and_on_the_page(mail_app):
    app, handler = mail_app
    with app.app_context():
        session = db.session
        lead = staff_user(Role.LEAD)
        finance = _section(session, "计划财务股")
        submission = submit(session, subject="食堂账目公开").submission
        triage.route(session, submission, finance, actor=lead)
        _approved_answer(session, submission, FIRST_ANSWER)
        closing.rate(session, submission, Rating.DISSATISFIED, CITIZEN_REASON)
        closing.reopen(session, submission, INSTRUCTION, actor=lead)
        session.commit()
        reference = submission.reference
        outbox.deliver_pending(session)
    first, again = _mails_to(handler, "finance@meijiang-edu.example")
    assert "重新办理" not in first["Subject"] + _text(first)
    assert again["Subject"].startswith(f"[{reference}] 重新办理")
    text = _text(again)
    opening = text.split("\n\n")[1]
    assert opening.startswith(f"编号 {reference} 重新办理")
    for said in ("群众的评价：不满意", CITIZEN_REASON, INSTRUCTION, FIRST_ANSWER):
        assert said in text, said
    # Why it came back is told before the submission itself.
    assert text.index(INSTRUCTION) < text.index("内容：")

    clerk = app.test_client()
    page = clerk.get(_reply_link(text), follow_redirects=True)
    html = page.get_data(as_text=True)
    block = html[html.index('id="reopened-heading"') : html.index("</section>")]
    for said in ("重新办理", "不满意", CITIZEN_REASON, INSTRUCTION, FIRST_ANSWER):
        assert said in block, said
    # The block goes once a new answer is approved.
    with app.app_context():
        session = db.session
        submission = session.get(Submission, submission.id)
        _approved_answer(session, submission, "已补充明细公示并附照片。")
        session.commit()
    html = clerk.get(page.request.path).get_data(as_text=True)
    assert 'id="reopened-heading"' not in html


# ---- 3. Mail a clerk understands

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 12
SECTION_SENDER = ("梅江区教育局纪检组", "jijian@meijiang-edu.example")


def _web_submission_with_a_photo(client):
    response = client.post(
        "/submit",
        data={
            "kind": "complaint",
            "subject": "食堂卫生",
            "body": "附照片。",
            "identity": "anonymous",
            "attachments": [(io.BytesIO(PHOTO), "后厨.png")],
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return read_receipt(response.get_data(as_text=True))[0]


def test_auto_routed_mail_names_the_attachment_and_says_a_reply_will_do(
    make_app, smtp_server
):
    controller, handler = smtp_server
    app = make_app(
        AUTO_ROUTE=True,
        MAIL_SERVER=controller.hostname,
        MAIL_PORT=controller.port,
        MAIL_SECTION_SENDER=SECTION_SENDER,
    )
    with app.app_context():
        demo.load(db.session)
        db.session.commit()
    reference = _web_submission_with_a_photo(app.test_client())
    assert "sent=1" in app.test_cli_runner().invoke(args=["outbox", "send"]).output
    (mail,) = _mails_to(handler, "office@meijiang-edu.example")
    text = _text(mail)
    assert reference in mail["Subject"]
    first_lines = text.split("\n")[:5]
    assert "直接回复本邮件即可答复，也可点击链接在网页上答复：" in first_lines
    # Routed by the rules, not by the lead: the mail does not say the lead did.
    assert "纪检组长" not in "".join(first_lines)
    assert parseaddr(mail["From"])[1] == SECTION_SENDER[1]
    assert mail["Reply-To"].startswith("reply+")
    assert mail["Reply-To"].endswith("@reply.meijiang-edu.example")
    assert "后厨.png（4 KB）" in text
    html = mail.get_body(("html",)).get_content()
    assert "后厨.png" in html

    # The file's link opens it for whoever holds the mail, as the reply link does.
    link = re.search(r"http://feedback\.test(/section/reply/\S+/files/\d+)", text)
    clerk = app.test_client()
    opened = clerk.get(link.group(1))
    assert opened.status_code == 303
    download = clerk.get(opened.headers["Location"])
    assert download.status_code == 200
    assert download.data == PHOTO
    tampered = link.group(1).replace("/files/", "x/files/", 1)
    assert app.test_client().get(tampered).status_code == 404


def test_no_section_link_opens_a_misconduct_report(app, session):
    demo.load(session)
    office = _section(session, "办公室")
    report = submit(session, kind=SubmissionKind.MISCONDUCT).submission
    session.add(
        Attachment(
            submission=report,
            filename="证据.png",
            stored_name="evidence-back-office",
            content_type="image/png",
            size=10,
            sha256="0" * 64,
        )
    )
    session.flush()
    # Even a 举报 wrongly tied to a section opens nothing through a link.
    session.execute(
        update(Submission)
        .where(Submission.id == report.id)
        .values(section_id=office.id)
    )
    session.commit()
    token = reply_token(report.id, office.id)
    attachment_id = report.attachments[0].id
    client = app.test_client()
    assert client.get(f"/section/reply/{token}").status_code == 404
    files = client.get(f"/section/reply/{token}/files/{attachment_id}")
    assert files.status_code == 404


def _reply_from(original, sender, message_id):
    answer = EmailMessage()
    answer["From"] = sender
    answer["To"] = original["Reply-To"]
    answer["Subject"] = "回复：" + original["Subject"]
    answer["Message-ID"] = message_id
    answer["In-Reply-To"] = original["Message-ID"]
    answer.set_content("已安排食堂每月公开账目。\n")
    return answer.as_bytes()


def test_a_reply_held_for_its_sender_waits_on_the_desk_and_staff_are_told_once(
    mail_app,
):
    app, handler = mail_app
    runner = app.test_cli_runner()
    with app.app_context():
        session = db.session
        submission = submit(session, subject="食堂账目公开").submission
        triage.route(
            session,
            submission,
            _section(session, "计划财务股"),
            actor=staff_user(Role.LEAD),
        )
        session.commit()
        reference, submission_id = submission.reference, submission.id
    runner.invoke(args=["outbox", "send"])
    (original,) = _mails_to(handler, "finance@meijiang-edu.example")
    # Without MAIL_SECTION_SENDER the section's mail comes from the default sender.
    assert parseaddr(original["From"])[1] == "noreply@meijiang-edu.example"

    # Another section's mailbox answers twice; a personal address once.
    for n, sender in enumerate(
        [
            "office@meijiang-edu.example",
            "office@meijiang-edu.example",
            "zhang.personal@qq.example",
        ]
    ):
        raw = _reply_from(original, sender, f"<held-{n}@mail.example>")
        result = runner.invoke(args=["mail", "ingest"], input=raw)
        assert result.output.startswith("held: "), result.output
    runner.invoke(args=["outbox", "send"])
    with app.app_context():
        reasons = db.session.scalars(
            select(InboundMessage.hold_reason).order_by(InboundMessage.id)
        ).all()
        assert reasons == [HoldReason.OTHER_SECTION] * 2 + [HoldReason.FOREIGN_DOMAIN]
        notices = db.session.scalars(
            select(OutboxMessage.recipient).where(
                OutboxMessage.template == Notification.REPLY_HELD
            )
        ).all()
    # The known mailbox hears once, however often it writes; the stranger never.
    assert notices == ["office@meijiang-edu.example"]
    (notice,) = _mails_to(handler, "office@meijiang-edu.example")
    told = _text(notice)
    assert reference in told
    assert "finance@meijiang-edu.example" in told
    assert _mails_to(handler, "zhang.personal@qq.example") == []

    lead = app.test_client()
    with app.app_context():
        login(lead, staff_user(Role.LEAD))
    desk = lead.get("/staff/").get_data(as_text=True)
    assert "3 封股室答复邮件因发件地址不符未能自动收下" in desk
    assert 'href="/staff/held"' in desk
    pen = lead.get("/staff/held").get_data(as_text=True)
    assert f"归入{reference}，作为计划财务股的答复草稿" in pen
    with app.app_context():
        held_id = db.session.scalar(
            select(InboundMessage.id).where(
                InboundMessage.sender == "zhang.personal@qq.example"
            )
        )
        finance_id = _section(db.session, "计划财务股").id
    page = lead.get(f"/staff/held/{held_id}").get_data(as_text=True)
    assert f"归入{reference}，作为计划财务股的答复草稿" in page
    lead.post(
        f"/staff/held/{held_id}/file",
        data={"reference": reference, "section_id": str(finance_id)},
    )
    with app.app_context():
        assert db.session.get(InboundMessage, held_id).state is InboundState.FILED
        drafts = db.session.scalar(
            select(func.count())
            .select_from(Reply)
            .where(
                Reply.submission_id == submission_id,
                Reply.state == ReplyState.DRAFT,
            )
        )
        assert drafts == 1
    desk = lead.get("/staff/").get_data(as_text=True)
    assert "2 封股室答复邮件因发件地址不符未能自动收下" in desk


def test_a_section_sender_on_an_example_domain_is_a_warning():
    config = {
        "SECRET_KEY": "k" * 48,
        "PUBLIC_URL": "https://jiandu.meijiang.gov.cn",
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://feedback@db/feedback",
        "RATELIMIT_STORAGE_URI": "redis://cache:6379/0",
        "MAIL_DEFAULT_SENDER": ("梅江区教育局", "noreply@meijiang.gov.cn"),
        "MAIL_SECTION_SENDER": SECTION_SENDER,
        "MAIL_REPLY_DOMAIN": "reply.meijiang.gov.cn",
        "ATTACHMENT_STORAGE": "database",
    }
    found = findings(config, web_concurrency=4, debug=False)
    assert [f.problem.split(" (")[0] for f in found] == ["MAIL_SECTION_SENDER"]


# ---- 4. Staff pages work on a phone --------------------------------------------


def _input(page: str, field_id: str) -> str:
    """Return the <input> tag of the field with id ``field_id``."""
    found = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', page)
    assert found is not None, field_id
    return found.group(0)


def _current_queue(page: str) -> str:
    found = re.search(r'aria-current="page">([^（<]+)（', page)
    assert found is not None
    return found.group(1)


def test_the_desk_opens_on_the_first_queue_with_work(app, client, demo_loaded):
    with app.app_context():
        login(client, staff_user(Role.LEAD))
    assert _current_queue(client.get("/staff/").get_data(as_text=True)) == "待分办"
    with app.app_context():
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        routed = submit(db.session, subject="食堂饭菜太咸").submission
        triage.route(db.session, routed, office, actor=None)
        db.session.commit()
    desk = client.get("/staff/").get_data(as_text=True)
    assert _current_queue(desk) == "已转办，待答复"
    # Each card names the state and the section, each led by its column's name.
    assert '<td data-label="状态">已转办，待答复</td>' in desk
    assert '<td data-label="承办股室">办公室</td>' in desk
    # A queue asked for by name is shown, even empty.
    chosen = client.get("/staff/?queue=new").get_data(as_text=True)
    assert _current_queue(chosen) == "待分办"
    assert "食堂饭菜太咸" not in chosen


def test_the_case_page_offers_routing_first_and_asks_before_ending_a_case(
    app, client, demo_loaded
):
    with app.app_context():
        problem = db.session.scalar(
            select(Problem).where(Problem.section_id.is_not(None)).limit(1)
        )
        section_id = problem.section_id
        case_id = submit(db.session, problem=problem).submission.id
        db.session.commit()
        login(client, staff_user(Role.LEAD))
    page = client.get(f"/staff/submissions/{case_id}").get_data(as_text=True)
    route = page.index(">转办</button>")
    others = page.index('<details class="other-decisions">')
    assert route < others < page.index(">不予受理</button>")
    suggested = re.search(rf'<option[^>]*value="{section_id}"[^>]*>', page)
    assert suggested is not None
    assert "selected" in suggested.group(0)
    for box in ("refuse-confirm", "duplicate-confirm", "spam-confirm"):
        assert "required" in _input(page, box)

    unconfirmed = client.post(
        f"/staff/submissions/{case_id}/spam", follow_redirects=True
    ).get_data(as_text=True)
    assert "请先勾选确认。" in unconfirmed
    with app.app_context():
        assert db.session.get(Submission, case_id).state is SubmissionState.RECEIVED
    client.post(f"/staff/submissions/{case_id}/spam", data={"spam-confirm": "y"})
    with app.app_context():
        assert db.session.get(Submission, case_id).state is SubmissionState.SPAM


def test_the_demo_mailbox_dates_mail_in_the_bureaus_time(make_app, tmp_path):
    sink = tmp_path / "sink"
    sink.mkdir()
    (sink / "20261206-005209-routed.eml").write_text(
        "From: noreply@meijiang-edu.example\nTo: office@meijiang-edu.example\n"
        "Subject: routed\nDate: Sun, 06 Dec 2026 00:52:09 +0000\n"
        "Message-ID: <176498473412.12345.1234567890123456789@meijiang-edu.example>\n"
        "Content-Type: text/plain; charset=utf-8\n\nhello\n",
        encoding="utf-8",
    )
    app = make_app(MAIL_SINK_DIR=str(sink))
    client = app.test_client()
    with app.app_context():
        demo.load(db.session)
        db.session.commit()
        login(client, staff_user(Role.LEAD))
    for path in ("/staff/mail", "/staff/mail/20261206-005209-routed.eml"):
        page = client.get(path).get_data(as_text=True)
        assert "2026-12-06 08:52" in page, path  # Asia/Shanghai, UTC+8
        assert "+0000" not in page, path


@pytest.mark.browser
def test_a_phone_shows_the_queue_as_cards_and_routing_first(
    browser: Browser, live_server: LiveServer
):
    subject = "学校操场周末能否向附近居民开放以及开放时间的安排"
    with live_server.app.app_context():
        case_id = submit(db.session, subject=subject).submission.id
        db.session.commit()
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 375, "height": 800}
    )
    page = context.new_page()
    sign_in(page, live_server, Role.LEAD)
    page.goto(f"{live_server.url}/staff/?queue=new")
    card = page.locator("table.cards tr", has_text=subject)
    expect(card).to_be_visible()
    cells = card.locator("td").evaluate_all(
        """cells => cells.map(c => [c.className, c.getBoundingClientRect().width
            / parseFloat(getComputedStyle(c).fontSize), c.getBoundingClientRect().height
            / parseFloat(getComputedStyle(c).lineHeight)])"""
    )
    assert len(cells) == 7
    assert all(width >= 8 for _class, width, _lines in cells), cells
    title_lines = next(lines for name, _w, lines in cells if name == "card-title")
    assert title_lines < 2.5, cells
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    card.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/staff/submissions/{case_id}$"))
    first = page.locator("main button[type=submit], main summary").evaluate_all(
        "found => found.map(e => e.textContent.trim())"
    )
    route = first.index("转办")
    assert route < first.index("其他处理：不予受理、重复件、无效信息")
    assert route < first.index("不予受理")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()


# ---- 5. Small things that cost clicks ------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "mj20261206-00007",
        " MJ 20261206 - 00007 ",
        "ｍｊ２０２６１２０６－００００７",
        "MJ20261206—00007",
        "mj2026120600007",
    ],
)
def test_a_reference_reads_the_same_whatever_its_case_spaces_or_width(typed):
    assert tracking.normalise_reference(typed) == "MJ20261206-00007"


def test_text_that_is_no_reference_matches_nothing():
    assert tracking.normalise_reference(" 操场 ") == "操场"


def test_every_reference_field_finds_a_number_typed_loosely(app, client, demo_loaded):
    with app.app_context():
        original = submit(db.session, subject="校车超载").submission
        case = submit(db.session, subject="食堂饭菜太咸").submission
        db.session.commit()
        original_id, case_id = original.id, case.id
        reference, other = original.reference, case.reference
        login(client, staff_user(Role.LEAD))
    loosely = f" {reference.lower().replace('-', ' － ')} "

    found = client.get(f"/staff/?queue=all&q={quote(loosely)}").get_data(as_text=True)
    assert reference in found
    assert other not in found
    audit = client.get(f"/staff/audit?reference={quote(loosely)}").get_data(
        as_text=True
    )
    assert f"submission {original_id}</td>" in audit
    assert f"submission {case_id}</td>" not in audit

    with app.app_context():
        letter = EmailMessage()
        letter["From"] = "clerk@qq.example"
        letter["To"] = "office@meijiang-edu.example"
        letter["Subject"] = f"回复：{loosely.upper()}的办理情况"
        letter.set_content("已经处理。")
        assert inbound.decide(db.session, letter).submission.id == original_id

    client.post(
        f"/staff/submissions/{case_id}/duplicate",
        data={"duplicate-reference": loosely, "duplicate-confirm": "y"},
    )
    with app.app_context():
        marked = db.session.get(Submission, case_id)
        assert marked.state is SubmissionState.DUPLICATE
        assert marked.duplicate_of_id == original_id


def _template_links(page: str) -> list[str]:
    nav = re.search(r'<nav aria-label="答复模板">(.*?)</nav>', page, re.S)
    assert nav is not None
    return [
        re.sub(r"<[^>]+>", "", link)
        for link in re.findall(r"<a [^>]*>(.*?)</a>", nav.group(1))
    ]


def _routed_case_page(app) -> tuple[object, str]:
    """Route a submission to 办公室; return its clerk's client and the case's path."""
    clerk = app.test_client()
    with app.app_context():
        demo.load(db.session)
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        case = submit(db.session).submission
        triage.route(db.session, case, office, actor=None)
        db.session.commit()
        login(clerk, staff_user(Role.SECTION, "办公室"))
        return clerk, f"/staff/submissions/{case.id}"


def test_reply_templates_are_named_by_their_titles(make_app):
    clerk, path = _routed_case_page(make_app())
    assert _template_links(clerk.get(path).get_data(as_text=True)) == [
        "核查处理",
        "采纳建议",
        "情况不符",
    ]

    older = make_app(
        REPLY_TEMPLATES=["旧式的答复", ["情况说明", "您好！情况说明如下："]]
    )
    clerk, path = _routed_case_page(older)
    assert _template_links(clerk.get(path).get_data(as_text=True)) == [
        "模板1",
        "情况说明",
    ]
    assert "您好！情况说明如下：" in clerk.get(f"{path}?template=1").get_data(
        as_text=True
    )


@pytest.mark.parametrize("setting", [[["只有标题"]], [""], [3], {"title": "x"}])
def test_a_malformed_reply_template_stops_the_start(setting):
    with pytest.raises(RuntimeError, match="REPLY_TEMPLATES"):
        reply_templates_setting(setting)


@pytest.mark.parametrize("taken", ["--port", "--smtp-port"])
def test_the_quick_start_names_a_taken_port_and_exits_1(monkeypatch, capsys, taken):
    def prepared(*_args):
        raise AssertionError("the quick start went on past a taken port")

    monkeypatch.setattr(quickstart, "ensure_secret_key", prepared)
    with socket.create_server(("127.0.0.1", 0)) as holder:
        ports = {"--port": free_port(), "--smtp-port": free_port()}
        ports[taken] = holder.getsockname()[1]
        monkeypatch.setenv("FEEDBACK_MAIL_PORT", str(ports["--smtp-port"]))
        with pytest.raises(SystemExit) as exited:
            quickstart.main([arg for pair in ports.items() for arg in map(str, pair)])
    assert exited.value.code == 1
    said = capsys.readouterr().err
    assert said.count("\n") == 1, said
    assert f"Port {ports[taken]} " in said
    assert taken in said
