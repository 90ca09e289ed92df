"""The lead's and the sections' back office: one draft at a time, reopened cases, mail a clerk understands, pages on a phone."""

import io
import re
from email.message import EmailMessage
from email.utils import parseaddr

from helpers import login
from helpers import read_receipt
from helpers import staff_user
from helpers import submit
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from feedback import demo
from feedback.config_check import findings
from feedback.extensions import db
from feedback.models import Attachment
from feedback.models import HoldReason
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import Rating
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.services import closing
from feedback.services import outbox
from feedback.services import replies
from feedback.services import triage
from feedback.signing import reply_token


def _text(message):
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def _section(session, name):
    return session.scalar(select(Section).where(Section.name == name))


def _mails_to(handler, address):
    return [m for _from, rcpt, m in handler.messages if address in rcpt]


def _reply_link(text):
    return re.search(r"http://feedback\.test(/section/reply/[^\s/]+)\n", text).group(1)


# ---- 2. A reopened case says why

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
