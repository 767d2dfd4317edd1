"""E-mails and deliveries go through the job queue; `manage.py worker` runs them."""

import signal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from accounts.tasks import send_email
from events.models import Delivery
from orgs.audit import Actor
from tests import factories
from tests.events.conftest import add_endpoint
from tokens import services as token_services


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def run_worker():
    def run():
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
        try:
            call_command(
                "worker", "--batch", "--no-scheduler", "--no-startup-delay", "--interval=0",
                verbosity=0,
            )  # fmt: skip
        finally:
            for number, handler in handlers.items():
                signal.signal(number, handler)

    return run


def test_send_email_is_queued_and_the_worker_sends_it(transactional_db, database_queue, run_worker):
    send_email("someone@example.test", "Hello", "Body")
    [job] = DBTaskResult.objects.all()
    assert job.task_path == "accounts.tasks.deliver_email"
    assert mail.outbox == []

    run_worker()
    [message] = mail.outbox
    assert (message.to, message.subject, message.body) == (
        ["someone@example.test"],
        "Hello",
        "Body",
    )
    job.refresh_from_db()
    assert job.status == "SUCCESSFUL"


def test_a_rolled_back_change_queues_no_email(db, database_queue):
    with pytest.raises(RuntimeError), transaction.atomic():
        send_email(["a@example.test", "b@example.test"], "Hello", "Body")
        raise RuntimeError
    assert not DBTaskResult.objects.exists()


def test_send_email_to_nobody_queues_nothing(db, database_queue):
    send_email([], "Hello", "Body")
    assert not DBTaskResult.objects.exists()


def test_leak_reports_are_mailed_through_the_queue(transactional_db, database_queue, run_worker):
    organization = factories.make_org("acme", owner="owner@acme.test")
    owner = organization.memberships.get().user
    leaked = factories.make_ci_token(organization, owner)
    token_services.tokens_revoke_leaked([leaked.plaintext], actor=Actor())
    assert mail.outbox == []
    run_worker()
    [message] = mail.outbox
    assert "was exposed" in message.subject


def test_the_worker_delivers_webhooks(transactional_db, receiver, database_queue, run_worker):
    organization = factories.make_org("acme", owner="owner@acme.test")
    owner = organization.memberships.get().user
    endpoint, _ = add_endpoint(organization, receiver.url, ["token.created"], owner)
    factories.make_ci_token(organization, owner)
    [delivery] = Delivery.objects.filter(endpoint=endpoint)
    assert delivery.status == "pending" and receiver.received == []

    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert len(receiver.received) == 1


def test_finished_jobs_are_pruned_after_a_week_and_emails_at_once(
    transactional_db, database_queue, run_worker, receiver
):
    from datetime import timedelta

    from django.utils import timezone

    from events.scheduler import prune_finished_jobs

    organization = factories.make_org("acme", owner="owner@acme.test")
    owner = organization.memberships.get().user
    add_endpoint(organization, receiver.url, ["token.created"], owner)
    factories.make_ci_token(organization, owner)  # a delivery job
    send_email("someone@example.test", "Hello", "A secret link")
    run_worker()
    send_email("later@example.test", "Hello", "Body")  # queued, not finished: kept
    now = timezone.now()
    assert prune_finished_jobs(now=now) == 1  # the e-mail sent, its body with it
    assert prune_finished_jobs(now=now + timedelta(days=6)) == 0
    assert prune_finished_jobs(now=now + timedelta(days=8)) == 1  # the delivery job
    [left] = DBTaskResult.objects.all()
    assert left.status == "READY"
