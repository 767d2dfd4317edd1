"""After tokens are created through the UI, no plaintext is anywhere at rest or in logs."""

import logging
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

TOKEN_RE = re.compile(r"tdk_pat_[0-9A-Za-z]{38}")


def test_no_plaintext_token_is_stored_logged_or_sent_to_the_database(signed_in, caplog):
    caplog.set_level(logging.DEBUG)
    plaintexts = []
    with CaptureQueriesContext(connection) as queries:
        for number in range(3):
            response = signed_in.post(
                reverse("tokens:personal-create"),
                {"name": f"token {number}", "permissions": ["projects:read"]},
            )
            plaintexts += TOKEN_RE.findall(response.content.decode())
        signed_in.get(reverse("tokens:personal"))
    assert len(set(plaintexts)) == 3
    secrets = [p[len("tdk_pat_") : -6] for p in plaintexts]

    sql = "\n".join(f"{q['sql']}" for q in queries.captured_queries)
    dumped_rows = _every_text_value()
    session_data = "\n".join(_session_payloads(signed_in))
    for plaintext, secret in zip(plaintexts, secrets, strict=True):
        for haystack in (sql, dumped_rows, caplog.text, session_data):
            assert plaintext not in haystack
            assert secret not in haystack


def _every_text_value() -> str:
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                values.extend(str(value) for value in row if value is not None)
    assert values, "the scan found no rows: it would prove nothing"
    return "\n".join(values)


def _session_payloads(client) -> list[str]:
    session = client.session
    return [str(dict(session.items()))]
