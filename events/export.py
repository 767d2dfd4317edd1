"""The audit log as a download for a SIEM: NDJSON (one event a line) or CSV, streamed.

Rows are read with `.iterator(chunk_size=…)` (a server-side cursor on PostgreSQL) and written
as they come, so memory stays flat whatever the log's size (bench/export_memory.py)."""

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

from orgs.models import AuditEvent, Organization

FORMATS = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
CHUNK = 2000
COLUMNS = [
    "id",
    "created_at",
    "action",
    "actor",
    "actor_token_id",
    "target_type",
    "target_id",
    "target",
    "project_id",
    "ip",
    "user_agent",
    "data",
]
# A cell a spreadsheet would run as a formula starts with one of these: prefix it with '.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _iso(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def as_record(event: AuditEvent, organization_slug: str) -> dict[str, Any]:
    return {
        "id": event.id,
        "created_at": _iso(event.created_at),
        "organization": organization_slug,
        "action": event.action,
        "actor": event.actor_label,
        "actor_token_id": event.actor_token_id,
        "target_type": event.target_type or None,
        "target_id": event.target_id,
        "target": event.target_label or None,
        "project_id": event.project_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "data": event.data,
    }


def _events(organization: Organization, filters: dict) -> Iterator[AuditEvent]:
    events = (
        AuditEvent.objects.filter(organization=organization)
        .matching(**filters)
        .order_by("created_at", "id")
    )
    return events.iterator(chunk_size=CHUNK)


def ndjson_lines(events: Iterable[AuditEvent], slug: str) -> Iterator[str]:
    for event in events:
        yield json.dumps(as_record(event, slug), separators=(",", ":")) + "\n"


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Line:
    """A file-like object whose write() returns what csv.writer gives it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(events: Iterable[AuditEvent], slug: str) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    for event in events:
        record = as_record(event, slug)
        record["data"] = json.dumps(record["data"], separators=(",", ":"), sort_keys=True)
        yield writer.writerow([safe_cell("" if record[c] is None else record[c]) for c in COLUMNS])


def stream(organization: Organization, filters: dict, fmt: str) -> StreamingHttpResponse:
    events = _events(organization, filters)
    lines = (
        ndjson_lines(events, organization.slug)
        if fmt == "ndjson"
        else csv_lines(events, organization.slug)
    )
    response = StreamingHttpResponse(lines, content_type=FORMATS[fmt])
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = (
        f'attachment; filename="{organization.slug}-audit-{stamp}.{fmt}"'
    )
    response["Cache-Control"] = "no-store"
    return response
