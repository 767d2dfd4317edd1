"""The default cache: Django's database cache, shared by every app process through the
database (a per-process memory cache would give each gunicorn worker its own rate limits)."""

import base64
import pickle

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction
from django.utils import timezone

# Created by ops/migrations/0001_cache_table.py, so `migrate` is all a deployment runs.
TABLE = "tokendesk_cache"


class DatabaseCache(DjangoDatabaseCache):
    """Django's database cache with an atomic `incr` that keeps the key's expiry.

    Django's own `incr` reads, adds and writes back with a fresh default timeout, so two
    workers counting at once can both write the same number (a rate limit lets extra
    requests through) and every increment pushes the window further out. Here the row is
    locked for the read-modify-write (SELECT … FOR UPDATE on PostgreSQL; SQLite transactions
    start IMMEDIATE, which takes the write lock) and `expires` is left as it was."""

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table, cache_key = quote(self._table), quote("cache_key")
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        now = connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('value')} FROM {table} "  # noqa: S608 (quoted names only)
                f"WHERE {cache_key} = %s AND {quote('expires')} > %s{lock}",
                [key, now],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found.")
            value = pickle.loads(base64.b64decode(row[0].encode())) + delta  # noqa: S301 (our own rows)
            stored = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {quote('value')} = %s WHERE {cache_key} = %s",  # noqa: S608
                [stored, key],
            )
        return value

    def decr(self, key, delta=1, version=None):
        return self.incr(key, -delta, version=version)
