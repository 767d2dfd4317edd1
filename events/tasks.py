"""Jobs run by `manage.py worker` (or inline with TASKS_BACKEND=immediate)."""

from django_tasks import task

from events import services


@task()
def deliver_webhook(delivery_id: int) -> bool:
    return services.attempt(delivery_id)
