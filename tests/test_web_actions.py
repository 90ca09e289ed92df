"""How a view runs a decision: what it says, and where a refusal goes."""

import pytest
from flask import get_flashed_messages
from flask_babel import lazy_gettext as _l

from feedback.web.actions import decide


def test_a_lazy_message_is_flashed_whole(app):
    with app.test_request_context("/", method="POST"):
        decide(lambda: None, _l("已保存。"), "/next")
        decide(lambda: None, [_l("已保存。"), "邮件将很快发出。"], "/next")
        assert get_flashed_messages() == ["已保存。", "已保存。", "邮件将很快发出。"]


def test_a_decision_going_to_a_worked_out_page_needs_a_way_back_before_it_runs(app):
    acted = []
    with app.test_request_context("/", method="POST"):
        with pytest.raises(TypeError, match="back="):
            decide(lambda: acted.append(1), "done", lambda _: "/next")
        assert decide(lambda: acted.append(2), "done", lambda _: "/next", back="/")
    assert acted == [2]
