"""Health and readiness for load balancers: operational faces, kept out of the domain apps.

`/healthz` answers from the process alone, so a database outage does not make every
instance look dead and get restarted; `/readyz` says whether this instance can serve
requests now (database reachable, migrations applied), so a balancer routes around it."""

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

RETRY_AFTER_SECONDS = 5

# Once every migration is applied it stays so for this process's life (a rollback means a
# redeploy), so the migration graph is loaded only until the first ready answer.
_migrations_applied = False


def _unapplied_migrations() -> int:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _not_ready(detail: str) -> JsonResponse:
    response = JsonResponse({"error": "service_unavailable", "detail": detail}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    global _migrations_applied
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        if not _migrations_applied:
            unapplied = _unapplied_migrations()
            if unapplied:
                return _not_ready(f"{unapplied} database migrations are not applied yet.")
            _migrations_applied = True
    except DatabaseError:
        return _not_ready("The database cannot be reached.")
    return JsonResponse({"status": "ready"})
