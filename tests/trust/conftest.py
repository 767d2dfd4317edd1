import pytest
from django.core.cache import cache

from tests.trust.issuer import LoopbackIssuer


@pytest.fixture
def issuer(settings, db):
    """A real signing issuer on loopback, trusted (http allowed) for this test only."""
    server = LoopbackIssuer()
    settings.TRUSTED_PUBLISHER_ISSUERS = {
        **settings.TRUSTED_PUBLISHER_ISSUERS,
        server.url: "github",
    }
    settings.TRUSTED_PUBLISHER_ALLOW_INSECURE_ISSUERS = True
    cache.clear()
    yield server
    server.stop()
