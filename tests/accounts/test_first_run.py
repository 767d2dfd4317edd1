"""First run: `manage.py bootstrap` makes the first administrator and organization; the
demo data has a Django superuser who can open /admin/."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from orgs.models import Membership
from tests.factories import make_user

STRONG = "correct-Horse-battery-staple-9"


def bootstrap(monkeypatch, password=STRONG, **options):
    monkeypatch.setenv("TOKENDESK_BOOTSTRAP_PASSWORD", password)
    out = io.StringIO()
    call_command("bootstrap", "--no-input", stdout=out, **options)
    return out.getvalue()


def test_bootstrap_makes_the_first_admin_and_organization(db, monkeypatch, client):
    out = bootstrap(monkeypatch, email="Ada@Example.com", org="Example Corp")
    user = User.objects.get()
    assert (user.email, user.is_staff, user.is_superuser) == ("ada@example.com", True, True)
    membership = Membership.objects.get(user=user)
    assert membership.role == Membership.Role.OWNER
    assert (membership.organization.slug, membership.organization.name) == (
        "example-corp",
        "Example Corp",
    )
    assert "/orgs/example-corp/" in out

    response = client.post(
        reverse("accounts:login"), {"login": "ada@example.com", "password": STRONG}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get("/orgs/example-corp/").status_code == 200


def test_bootstrap_refuses_once_there_are_users(db, monkeypatch):
    make_user("someone@example.com")
    with pytest.raises(CommandError, match="already has users"):
        bootstrap(monkeypatch, email="ada@example.com", org="Example")
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("options", "password", "message"),
    [
        ({"email": "not-an-address", "org": "Example"}, STRONG, "not an e-mail address"),
        ({"email": "ada@example.com", "org": "  "}, STRONG, "needs a name"),
        ({"email": "ada@example.com", "org": "Example"}, "short", "too short"),
        ({"email": "ada@example.com", "org": "Example"}, "", "needs the password"),
    ],
)
def test_bootstrap_bad_input_is_a_clear_error(db, monkeypatch, options, password, message):
    with pytest.raises(CommandError, match=message):
        bootstrap(monkeypatch, password=password, **options)
    assert not User.objects.exists()


def test_the_demo_has_a_django_superuser(db, client, settings):
    call_command("seed_demo", stdout=io.StringIO())
    admin = User.objects.get(email="admin@acme.test")
    assert admin.is_staff and admin.is_superuser
    client.post(
        reverse("accounts:login"), {"login": "admin@acme.test", "password": "demo-password"}
    )
    assert client.get("/admin/").status_code == 200
