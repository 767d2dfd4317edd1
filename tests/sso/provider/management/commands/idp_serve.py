"""Create the provider's database, its one client application and its users, then serve on
127.0.0.1 (port 0: the system picks a free one) and print `READY <port>` once listening.
The tables are created straight from the models (no migrations): a fresh throwaway database
in a few milliseconds instead of seconds."""

import sys

from django.apps import apps
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.core.servers.basehttp import (
    ThreadedWSGIServer,
    WSGIRequestHandler,
    get_internal_wsgi_application,
)
from django.db import connection
from oauth2_provider.models import Application

from tests.sso.provider.accounts import CALLBACK, CLIENT_ID, CLIENT_SECRET, PASSWORD, USERS
from tests.sso.provider.validator import UNVERIFIED_GROUP


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class Command(BaseCommand):
    def handle(self, *args, **options) -> None:
        with connection.schema_editor() as editor:
            for model in apps.get_models():
                editor.create_model(model)
        Application.objects.create(
            name="Tokendesk",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            hash_client_secret=False,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
            # Loopback addresses on any port (RFC 8252), and the Django test client's host.
            redirect_uris=" ".join(
                f"http://{host}{CALLBACK}" for host in ("127.0.0.1", "localhost", "testserver")
            ),
        )
        unverified = Group.objects.create(name=UNVERIFIED_GROUP)
        for email, name, verified in USERS:
            first, _, last = name.partition(" ")
            user = User.objects.create_user(
                email, email, PASSWORD, first_name=first, last_name=last
            )
            if not verified:
                user.groups.add(unverified)
        server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
        server.set_app(get_internal_wsgi_application())
        sys.stdout.write(f"READY {server.server_address[1]}\n")
        sys.stdout.flush()
        server.serve_forever()
