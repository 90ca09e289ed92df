"""The lead's desk: queues, filters and keyset paging."""

import re
from datetime import timedelta

from helpers import login
from helpers import staff_user
from helpers import submit
from sqlalchemy import select

from feedback.db import utcnow
from feedback.extensions import db
from feedback.models import ReplyChannel
from feedback.models import Role
from feedback.models import Section
from feedback.models import SubmissionKind
from feedback.services import queues
from feedback.services import replies
from feedback.services import triage


def _references(html):
    return re.findall(r'/staff/submissions/\d+">([^<]+)<', html)


def _walk(client, url):
    """Follow a queue's "next page" links to the end; return every reference seen."""
    seen = []
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += _references(html)
        found = re.search(r'href="(/staff/\?[^"]*after=[^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    return seen


def _lead(app, client):
    with app.app_context():
        login(client, staff_user(Role.LEAD))


def test_queues_sort_submissions_by_what_they_wait_for(app, client, demo_loaded):
    with app.app_context():
        lead = staff_user(Role.LEAD)
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        new = submit(db.session, subject="新件").submission
        late = submit(db.session, subject="超期件").submission
        triage.route(db.session, late, office, actor=lead)
        late.due_on = (utcnow() - timedelta(days=2)).date()
        soon = submit(db.session, subject="将到期").submission
        triage.route(db.session, soon, office, actor=lead)
        soon.due_on = (utcnow() + timedelta(days=1)).date()
        drafted = submit(db.session, subject="有草稿").submission
        triage.route(db.session, drafted, office, actor=lead)
        replies.draft(
            db.session,
            drafted,
            office,
            "草稿",
            channel=ReplyChannel.WEB,
            author_label="x",
        )
        db.session.commit()
        refs = {s.subject: s.reference for s in (new, late, soon, drafted)}
    _lead(app, client)

    def queue(name):
        return set(
            _references(client.get(f"/staff/?queue={name}").get_data(as_text=True))
        )

    assert queue("new") == {refs["新件"]}
    assert queue("awaiting") == {refs["超期件"], refs["将到期"], refs["有草稿"]}
    assert queue("overdue") == {refs["超期件"]}
    assert queue("due_soon") == {refs["将到期"]}
    assert queue("drafts") == {refs["有草稿"]}
    assert queue("nonsense") == {refs["新件"]}  # an unknown queue shows the new ones
    assert queue("all") == set(refs.values())
    assert queue("all&state=received") == {refs["新件"]}
    assert queue("all&state=routed") == set(refs.values()) - {refs["新件"]}
    assert queue("all&state=bogus") == set(refs.values())  # ignored, not an error


def test_filters_narrow_a_queue(app, client, demo_loaded):
    with app.app_context():
        submit(db.session, subject="关于食堂", kind=SubmissionKind.COMPLAINT)
        submit(db.session, subject="关于操场")
        db.session.commit()
    _lead(app, client)
    by_text = client.get("/staff/?queue=new&q=食堂").get_data(as_text=True)
    assert "关于食堂" in by_text
    assert "关于操场" not in by_text
    by_kind = client.get("/staff/?queue=new&kind=complaint").get_data(as_text=True)
    assert "关于操场" not in by_kind
    bad = client.get("/staff/?queue=new&kind=x&section=y&received_from=z&after=garbage")
    assert bad.status_code == 400  # the queue, without the bad filters


def test_pages_follow_a_keyset(app, client, demo_loaded, monkeypatch):
    monkeypatch.setattr(queues, "PAGE_SIZE", 3)
    with app.app_context():
        made = [
            submit(db.session, subject=f"第{number}件").submission.reference
            for number in range(7)
        ]
        db.session.commit()
    _lead(app, client)
    seen = _walk(client, "/staff/?queue=new")
    assert seen == made[::-1]  # newest first, none twice


def test_counts_stop_at_the_cap(app, demo_loaded, monkeypatch):
    monkeypatch.setattr(queues, "COUNT_CAP", 2)
    with app.app_context():
        for _ in range(4):
            submit(db.session)
        db.session.commit()
        today = utcnow().date()
        assert queues.count(db.session, "new", today, 3) == 2


def test_overdue_lists_the_most_overdue_first_across_pages(
    app, client, demo_loaded, monkeypatch
):
    monkeypatch.setattr(queues, "PAGE_SIZE", 2)
    with app.app_context():
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        lead = staff_user(Role.LEAD)
        made = []
        for number in range(5):
            item = submit(db.session, subject=f"迟{number}").submission
            item.received_at = utcnow() - timedelta(days=100 - number)
            if number % 2:
                triage.route(db.session, item, office, actor=lead)
                item.due_on = (utcnow() - timedelta(days=1)).date()
            else:
                item.triage_due_on = (utcnow() - timedelta(days=1)).date()
            made.append(item.reference)
        db.session.commit()
    _lead(app, client)
    seen = _walk(client, "/staff/?queue=overdue")
    assert seen == made  # oldest first, both kinds of lateness, each once
