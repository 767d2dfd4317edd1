"""E-mail goes out through the job queue: `send_email` is the one entry point.

With the database backend the job is a row written in the caller's transaction, so a
rolled-back change sends nothing and a committed one is sent by `manage.py worker` even if
the web process dies right after. A failed send is recorded on the job (and logged)."""

from collections.abc import Iterable

from django.core.mail import send_mail
from django_tasks import task


@task()
def deliver_email(to: list[str], subject: str, body: str) -> int:
    return send_mail(subject=subject, message=body, from_email=None, recipient_list=to)


def send_email(to: str | Iterable[str], subject: str, body: str) -> None:
    """Queue one plain-text e-mail to one address or several (nothing is queued for none)."""
    recipients = [to] if isinstance(to, str) else sorted(set(to))
    if recipients:
        deliver_email.enqueue(recipients, subject, body)
