"""Named locks: a second holder is refused while the first holds, on both databases."""

import pytest
from flask import Flask

from feedback.extensions import db
from feedback.services import locks


def test_a_held_lock_refuses_a_second_holder_until_released(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        with locks.exclusive(engine, "sweep", wait=False):
            with (
                pytest.raises(locks.LockBusy),
                locks.exclusive(engine, "sweep", wait=False),
            ):
                pass
            # Another name is another lock.
            with locks.exclusive(engine, "purge", wait=False):
                pass
        with locks.exclusive(engine, "sweep", wait=False):
            pass


def test_keys_are_stable_and_distinct() -> None:
    assert locks.advisory_key("sweep") == locks.advisory_key("sweep")
    assert locks.advisory_key("sweep") != locks.advisory_key("purge")
    assert -(2**63) <= locks.advisory_key("outbox") < 2**63
