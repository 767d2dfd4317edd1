"""The first run: the first administrator (a Django superuser, who can open /admin/) and the
first organization, with that person as its owner. Refuses once anyone has an account."""

import getpass
import os

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.text import slugify

from accounts.models import User
from orgs.models import Membership, Organization

PASSWORD_VARIABLE = "TOKENDESK_BOOTSTRAP_PASSWORD"  # noqa: S105  (a variable name)


class Command(BaseCommand):
    help = (
        "Create the first administrator and organization of a new Tokendesk. Asks for the "
        f"password, or reads it from ${PASSWORD_VARIABLE} with --no-input."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True, help="the administrator's e-mail address")
        parser.add_argument("--org", required=True, help="the organization's name")
        parser.add_argument("--slug", help="the organization's URL name (default: from --org)")
        parser.add_argument(
            "--no-input",
            action="store_false",
            dest="interactive",
            help=f"do not prompt: the password comes from ${PASSWORD_VARIABLE}",
        )

    def handle(self, *args, email: str, org: str, slug: str | None, interactive: bool, **_):
        if User.objects.exists():
            raise CommandError(
                "This Tokendesk already has users. Sign in as an administrator, or use "
                "`manage.py createsuperuser` for another Django superuser."
            )
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an e-mail address.") from None
        name = org.strip()
        slug = slugify(slug or name)
        if not name or not slug:
            raise CommandError("The organization needs a name (and a URL name made of letters).")

        password = self._password(email, interactive)
        with transaction.atomic():
            user = User.objects.create_superuser(email=email, password=password)
            organization = Organization.objects.create(slug=slug, name=name)
            Membership.objects.create(
                user=user, organization=organization, role=Membership.Role.OWNER
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {email} (Django superuser, can open /admin/) and the organization "
                f"“{name}” (/orgs/{slug}/) with {email} as its owner. Sign in at /accounts/login/."
            )
        )

    def _password(self, email: str, interactive: bool) -> str:
        if not interactive:
            password = os.environ.get(PASSWORD_VARIABLE, "")
            if not password:
                raise CommandError(f"--no-input needs the password in ${PASSWORD_VARIABLE}.")
            self._validate(password, email)
            return password
        while True:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                self.stderr.write("The passwords differ. Try again.")
                continue
            try:
                self._validate(password, email)
            except CommandError as error:
                self.stderr.write(str(error))
                continue
            return password

    @staticmethod
    def _validate(password: str, email: str) -> None:
        try:
            validate_password(password, User(email=email))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
