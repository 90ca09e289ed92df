"""Access codes: entropy, forgiving input, keyed hashing and lookup."""

import math

from helpers import submit

from feedback.services import tracking


def test_code_carries_at_least_80_bits():
    code = tracking.new_access_code()
    raw = tracking.normalise_code(code)
    assert raw is not None
    assert len(raw) * math.log2(len(tracking.ALPHABET)) >= 80


def test_codes_differ():
    assert len({tracking.new_access_code() for _ in range(200)}) == 200


def test_normalise_forgives_spaces_dashes_case_and_lookalikes():
    code = "ABCD-EF01-GHJK-MNPQ-RST1"
    typed = " abcd ef0l ghjk-mnpq rsti "  # l and i for 1, spaces, lower case
    assert tracking.normalise_code(typed) == tracking.normalise_code(code)
    assert tracking.normalise_code("abcd-efoi-ghjk-mnpq-rst1") == "ABCDEF01GHJKMNPQRST1"


def test_normalise_rejects_what_cannot_be_a_code():
    assert tracking.normalise_code("") is None
    assert tracking.normalise_code("ABCD") is None
    assert tracking.normalise_code("查询码查询码查询码查询码查询码查询码查询") is None


def test_stored_hash_is_keyed_and_not_the_code(app, session):
    receipt = submit(session)
    stored = receipt.submission.access_code_hash
    assert tracking.normalise_code(receipt.access_code) not in stored
    assert stored == tracking.hash_code(receipt.access_code)
    app.config["CODE_HMAC_KEY"] = "another key"
    assert stored != tracking.hash_code(receipt.access_code)


def test_find_by_code_in_any_spelling(session):
    receipt = submit(session)
    session.commit()
    sloppy = receipt.access_code.lower().replace("-", " ")
    assert tracking.find(session, sloppy) is receipt.submission
    assert tracking.find(session, "0000-0000-0000-0000-0000") is None
    assert tracking.find(session, "nonsense") is None
