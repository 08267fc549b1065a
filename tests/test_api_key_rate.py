"""The per-key rate window under concurrent requests (`chalice local` serves on threads):
never more than the limit in one window, whatever the interleaving."""

from __future__ import annotations

import sys
import threading
import time

from chalicelib.domain.api_keys import RateWindow


class HandsOverOnRead(dict):
    """The window's counts, handing the interpreter to another thread between reading a count and
    writing it back: where an unlocked read-count-write would let two requests take one place."""

    def get(self, *args):
        found = super().get(*args)
        time.sleep(0)  # yield, not wait: provokes the interleaving instead of hiding it
        return found


def test_threads_hammering_one_key_never_pass_more_than_the_limit_in_a_window():
    window = RateWindow(per_second=10, burst=10)
    window._counts = HandsOverOnRead()
    threads, calls = 16, 200
    passed = {1000: 0, 1001: 0}
    lock = threading.Lock()
    start = threading.Barrier(threads)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can: races show up if they exist

    def hammer(index: int) -> None:
        for second in (1000, 1001):  # two windows, each hammered by every thread at once
            start.wait()
            for _ in range(calls):
                if window.take("key_shared", second + 0.5) == 0:
                    with lock:
                        passed[second] += 1
                window.take(f"key_other_{index}", second)  # other keys in between: the dict changes under it

    try:
        workers = [threading.Thread(target=hammer, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)
    assert passed == {1000: 20, 1001: 20}
