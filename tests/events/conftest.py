import pytest

from events import services
from orgs.audit import Actor
from tests import factories
from tests.events.receiver import Receiver


@pytest.fixture
def loopback_webhooks(settings):
    """The tests' receiver listens on plain HTTP on loopback: allow exactly that."""
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 2


@pytest.fixture
def receiver(loopback_webhooks):
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def org(db):
    return factories.make_org(
        "acme", owner="owner@acme.test", super_admin="admin@acme.test", member="dev@acme.test"
    )


@pytest.fixture
def owner(org):
    return org.memberships.get(role="owner").user


def add_endpoint(organization, url, events=None, user=None):
    events = events or list(services.EVENT_TYPES)
    return services.endpoint_create(
        organization=organization, url=url, events=events, description="", actor=Actor(user=user)
    )
