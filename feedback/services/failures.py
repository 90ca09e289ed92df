"""Failed sign-ins counted per client and per account, in the rate limiter's storage.

The counts live where Flask-Limiter keeps its own (``RATELIMIT_STORAGE_URI``:
memory for one process, Redis shared by every node), but apart from its
limits: they hold even where rate limiting is turned off. An address is
counted whether or not an account has it, so that an unknown address is
refused exactly as a known one; only a hash of it is stored.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app
from limits import RateLimitItem
from limits import RateLimitItemPerHour
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)
T = TypeVar("T")

_EXTENSION = "feedback.sign_in_failures"
_RETRY_AT = "feedback.sign_in_failures.retry_at"
# How long counts stay in memory after the storage failed, before it is tried again.
RETRY_SECONDS = 30
# An account is stopped for everyone after LOGIN_ACCOUNT_MAX_FAILURES in this
# window, counted from the first failure.
ACCOUNT_WINDOW_MINUTES = 60


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt: the address typed and the client it came from."""

    email: str
    client: str

    @property
    def account(self) -> str:
        normalised = self.email.strip().lower().encode()
        return hashlib.sha256(normalised).hexdigest()


@dataclass(frozen=True)
class Counted:
    """Whether the failure just counted stopped the client, or the whole account."""

    client_stopped: bool
    account_stopped: bool


def _strategy() -> MovingWindowRateLimiter:
    """Return this app's counter, opening its storage on first use.

    After a failure the counts go to this process's memory for a while
    (:func:`_fall_back`); then the configured storage is tried again, so a
    Redis that comes back is used again without a restart.
    """
    extensions = current_app.extensions
    strategy = extensions.get(_EXTENSION)
    retry_at = extensions.get(_RETRY_AT)
    if strategy is not None and retry_at is not None and time.monotonic() >= retry_at:
        strategy = None
    if strategy is None:
        config = current_app.config
        storage = storage_from_string(
            config["RATELIMIT_STORAGE_URI"],
            **config.get("RATELIMIT_STORAGE_OPTIONS", {}),
        )
        strategy = extensions[_EXTENSION] = MovingWindowRateLimiter(storage)
        extensions[_RETRY_AT] = None
    return strategy


def _fall_back(exc: Exception) -> MovingWindowRateLimiter:
    """Count in this process's memory for a while, as the rate limiter does."""
    log.warning("sign-in counts: storage failed (%s); counting in memory", exc)
    strategy = MovingWindowRateLimiter(MemoryStorage())
    current_app.extensions[_EXTENSION] = strategy
    current_app.extensions[_RETRY_AT] = time.monotonic() + RETRY_SECONDS
    return strategy


def _limits(attempt: Attempt) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    config = current_app.config
    client = RateLimitItemPerMinute(
        config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCK_MINUTES"]
    )
    account = RateLimitItemPerHour(
        config["LOGIN_ACCOUNT_MAX_FAILURES"], ACCOUNT_WINDOW_MINUTES // 60
    )
    return [
        (client, ("sign-in-client", attempt.client, attempt.account)),
        (account, ("sign-in-account", attempt.account)),
    ]


def _run(action: Callable[[MovingWindowRateLimiter], T]) -> T:
    try:
        return action(_strategy())
    except Exception as exc:  # noqa: BLE001 - a broken store must not stop sign-in for good
        return action(_fall_back(exc))


def _open(attempt: Attempt) -> list[bool]:
    """Return, for the client and then the account, whether another try is allowed."""
    return _run(
        lambda strategy: [strategy.test(item, *keys) for item, keys in _limits(attempt)]
    )


def stopped(attempt: Attempt) -> bool:
    """Return whether this client, or everyone, must wait before trying this address."""
    return not all(_open(attempt))


def _each(
    limits: list[tuple[RateLimitItem, tuple[str, ...]]], clear: bool
) -> Callable[[MovingWindowRateLimiter], None]:
    """Return an action that hits, or clears, each of ``limits``."""

    def action(strategy: MovingWindowRateLimiter) -> None:
        for item, keys in limits:
            if clear:
                strategy.clear(item, *keys)
            else:
                strategy.hit(item, *keys)

    return action


def count(attempt: Attempt) -> Counted:
    """Count a failed attempt; say whether it stopped the client, or the account."""
    _run(_each(_limits(attempt), clear=False))
    client_open, account_open = _open(attempt)
    return Counted(client_stopped=not client_open, account_stopped=not account_open)


def forget(attempt: Attempt) -> None:
    """Clear the counts of this client for the address, and the account's own."""
    _run(_each(_limits(attempt), clear=True))


def forget_account(email: str) -> None:
    """Clear an account's own count (an operator's reset; clients' counts run out)."""
    _run(_each(_limits(Attempt(email=email, client=""))[1:], clear=True))
