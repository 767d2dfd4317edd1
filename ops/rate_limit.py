"""A fixed-window counter per key in Django's cache, which every app process shares (a
database table by default, Redis with CACHE_URL), so a limit holds across workers."""

import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window resets


def hit(key: str, *, limit: int, window: int) -> Verdict:
    """Count one attempt for `key`; allowed while at most `limit` fall in the window."""
    now = int(time.time())
    start = now - now % window
    bucket = f"rate:{key}:{start}"
    cache.add(bucket, 0, window + 5)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, window + 5)
        count = 1
    return Verdict(allowed=count <= limit, retry_after=start + window - now)
