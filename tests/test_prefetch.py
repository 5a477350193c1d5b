"""Items taken ahead on a thread (connectors/prefetch.py) come as the iterator gives them: in order, an error where
it occurred, and the thread stopped when the caller leaves early."""

import threading

import pytest

from connectors.prefetch import prefetched


def test_items_come_in_their_order_and_an_error_where_it_occurred():
    def source():
        yield from range(100)
        raise ValueError("broken block")

    seen = []
    with pytest.raises(ValueError, match="broken block"), prefetched(source()) as items:
        for item in items:
            seen.append(item)
    assert seen == list(range(100))


def test_leaving_early_stops_the_thread():
    taken = []

    def source():
        for n in range(1_000_000):
            taken.append(n)
            yield n

    with pytest.raises(RuntimeError), prefetched(source(), depth=2) as items:
        for item in items:
            if item == 5:
                raise RuntimeError("the caller fails")
    assert not any(t.name == "prefetch" for t in threading.enumerate())
    assert len(taken) <= 10  # the source was not read to its end
