"""Audit export (streamed CSV and NDJSON) and the API's polling cursor."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from events import export
from orgs.audit import Actor, cursor_of, record
from orgs.models import AuditEvent
from tests import factories

API = "/api/v1/orgs/acme/audit"


@pytest.fixture
def events(org):
    owner = org.memberships.get(role="owner").user
    actor = Actor(user=owner, ip="203.0.113.9", user_agent='=HYPERLINK("http://x")')
    base = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    for day in range(3):
        with time_machine.travel(base + timedelta(days=day), tick=False):
            record("org.token_policy", actor=actor, organization=org, data={"to": day})
    record("member.add", actor=actor, organization=org, data={"email": "-1+1@x.test"})
    other = factories.make_org("other")
    record("org.token_policy", actor=Actor(), organization=other, data={"secret": "no"})
    return list(AuditEvent.objects.filter(organization=org).order_by("created_at", "id"))


def _export(client, **params):
    client.force_login(
        __import__("accounts.models", fromlist=["User"]).User.objects.get(email="owner@acme.test")
    )
    response = client.get(reverse("events:audit-export", args=["acme"]), params)
    return response


def _body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_csv_has_the_columns_and_guards_formulas(client, events):
    response = _export(client, format="csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="acme-audit-')
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert list(rows[0]) == export.COLUMNS
    assert [row["id"] for row in rows] == [str(e.id) for e in events]
    assert rows[0]["created_at"] == "2026-03-01T12:00:00Z"
    assert rows[0]["action"] == "org.token_policy"
    assert rows[0]["user_agent"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["ip"] == "203.0.113.9"
    assert json.loads(rows[0]["data"]) == {"to": 0}
    assert all("secret" not in row["data"] for row in rows)  # another org's event


def test_formula_guard():
    assert export.safe_cell("=1+1") == "'=1+1"
    assert export.safe_cell("+1") == "'+1"
    assert export.safe_cell("-1") == "'-1"
    assert export.safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert export.safe_cell("owner@acme.test") == "owner@acme.test"
    assert export.safe_cell(5) == 5


def test_ndjson_is_one_event_a_line_oldest_first(client, events):
    response = _export(client, format="ndjson")
    assert response["Content-Type"] == "application/x-ndjson"
    lines = _body(response).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [e.id for e in events]
    assert records[0]["organization"] == "acme"
    assert records[-1]["action"] == "member.add"
    assert records[-1]["data"] == {"email": "-1+1@x.test"}  # JSON is not a spreadsheet


def test_the_audit_filters_apply(client, events):
    lines = _body(_export(client, format="ndjson", action="member.add")).splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["member.add"]
    lines = _body(_export(client, since="2026-03-02", until="2026-03-02")).splitlines()
    assert [json.loads(line)["data"] for line in lines] == [{"to": 1}]


def test_bad_filters_answer_422(client, events):
    response = _export(client, format="xml")
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_filter"
    response = _export(client, since="2026-03-05", until="2026-03-01")
    assert response.status_code == 422
    assert "until" in response.json()["fields"]


def test_members_get_404(client, events):
    from accounts.models import User

    client.force_login(User.objects.get(email="dev@acme.test"))
    assert client.get(reverse("events:audit-export", args=["acme"])).status_code == 404


def test_the_audit_page_links_the_export_with_its_filters(client, events):
    from accounts.models import User

    client.force_login(User.objects.get(email="owner@acme.test"))
    body = client.get(reverse("orgs:audit", args=["acme"]), {"action": "member.add"}).content
    assert b"/orgs/acme/audit/export?format=csv&amp;action=member.add" in body


# The API's cursor ------------------------------------------------------------------------


@pytest.fixture
def auditor(org):
    owner = org.memberships.get(role="owner").user
    issued = factories.make_ci_token(org, owner, name="siem", role="admin")
    return {"Authorization": f"Bearer {issued.plaintext}"}


def _poll(client, headers, after, **params):
    response = client.get(API, {"after": after, "limit": 2, **params}, headers=headers)
    assert response.status_code == 200, response.content
    body = response.json()
    return [item["id"] for item in body["items"]], body["next_after"]


def test_polling_with_the_cursor_sees_each_event_once(client, events, auditor):
    every = list(
        AuditEvent.objects.filter(organization__slug="acme")
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )
    seen, cursor = [], ""
    while True:
        ids, cursor_next = _poll(client, auditor, cursor)
        seen += ids
        if not ids:
            assert cursor_next == cursor  # nothing new: keep the cursor
            break
        cursor = cursor_next
    assert seen == every

    # The same cursor answers the same again; new events come after it.
    assert _poll(client, auditor, cursor) == ([], cursor)
    later = record("project.create", actor=Actor(), organization=events[0].organization)
    ids, newer = _poll(client, auditor, cursor)
    assert ids == [later.id]
    assert newer == cursor_of(later)


def test_the_newest_page_gives_a_cursor_to_start_from_now(client, events, auditor):
    response = client.get(API, headers=auditor).json()
    newest = AuditEvent.objects.filter(organization__slug="acme").order_by("-created_at", "-id")[0]
    assert response["next_after"] == cursor_of(newest)
    assert _poll(client, auditor, response["next_after"]) == ([], response["next_after"])


def test_the_cursor_combines_with_filters(client, events, auditor):
    ids, _ = _poll(client, auditor, "", action="member.add")
    assert ids == [events[-1].id]


@pytest.mark.parametrize("cursor", ["nonsense", "MTIz", "LTEuLTE", "%%%"])
def test_a_cursor_tokendesk_did_not_give_is_422(client, events, auditor, cursor):
    response = client.get(API, {"after": cursor}, headers=auditor)
    assert response.status_code == 422
    assert response.json()["error"] in {"invalid_cursor", "invalid_request"}


def test_before_and_after_together_are_refused(client, events, auditor):
    response = client.get(API, {"after": "", "before": 5}, headers=auditor)
    assert response.status_code == 422


def test_events_recorded_in_the_same_microsecond_are_not_skipped(client, org, auditor):
    with time_machine.travel(datetime(2030, 1, 1, tzinfo=UTC), tick=False):
        same = [record("project.create", actor=Actor(), organization=org).id for _ in range(5)]
    seen, cursor = [], ""
    while True:
        ids, cursor = _poll(client, auditor, cursor)
        if not ids:
            break
        seen += ids
    assert seen[-5:] == same
    assert len(seen) == len(set(seen))
