"""Waiting for something a user would see, with a deadline: the one polling
loop of the tests (for what offers no event to wait on: a page reloaded, a
catalogue file, an outbox, a receiver's log)."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def until(condition: Callable[[], T], what: str, seconds: float = 5.0, every: float = 0.1) -> T:
    """The first truthy answer of `condition`, asked every `every` seconds;
    AssertionError naming `what` if none came within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        answer = condition()
        if answer:
            return answer
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(every)
