import pytest

from tests import factories
from tokens import usage

TEST_SALT = "test-salt-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(autouse=True)
def _token_settings(settings):
    settings.TOKEN_HASH_SALT = TEST_SALT
    settings.TOKEN_PREFIX = "tdk"
    # Argon2 is the real hasher; tests that do not sign in through the form need no slow hash.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _fresh_usage_buffer():
    # The usage counters' buffer lives in the process: no test sees another's calls.
    usage.BUFFER.clear()
    yield
    usage.BUFFER.clear()


@pytest.fixture
def user(db):
    return factories.make_user("alice@example.test")


@pytest.fixture
def other_user(db):
    return factories.make_user("mallory@example.test")


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client
