"""The default cache counts exactly when many processes count at once, and a counter keeps
the expiry it was created with."""

import threading
from datetime import timedelta

import time_machine
from django.core.cache import cache, caches
from django.db import connection
from django.utils import timezone

from ops.cache import DatabaseCache

THREADS = 4
INCREMENTS = 25


def test_the_default_cache_is_the_shared_database_cache():
    assert isinstance(caches["default"], DatabaseCache)


def test_concurrent_increments_are_not_lost(transactional_db):
    cache.set("counter", 0, 600)
    start = threading.Barrier(THREADS)

    def count():
        start.wait()
        try:
            for _ in range(INCREMENTS):
                cache.incr("counter")
        finally:
            connection.close()

    threads = [threading.Thread(target=count) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("counter") == THREADS * INCREMENTS
    cache.clear()


def test_an_increment_keeps_the_window_it_was_created_with(db):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        cache.add("window", 0, 600)
        traveller.shift(timedelta(seconds=500))
        assert cache.incr("window") == 1
        traveller.shift(timedelta(seconds=101))
        assert cache.get("window") is None


def test_a_missing_or_expired_key_cannot_be_incremented(db):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        cache.set("old", 5, 10)
        traveller.shift(timedelta(seconds=11))
        for key in ("old", "never-set"):
            try:
                cache.incr(key)
            except ValueError:
                continue
            raise AssertionError(f"{key} was incremented")


def test_decrement_is_an_increment_by_minus_delta(db):
    cache.set("stock", 10, 60)
    assert cache.decr("stock", 3) == 7
    assert cache.get("stock") == 7
