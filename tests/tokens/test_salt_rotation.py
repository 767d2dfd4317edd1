import io

import pytest
from django.core.management import call_command

from tests.factories import make_personal_token
from tokens import format as token_format
from tokens.models import Token
from tokens.services import InvalidToken, token_verify

SALT_A = "salt-A-" + "a" * 40
SALT_B = "salt-B-" + "b" * 40


@pytest.fixture
def under_salt_a(settings):
    settings.TOKEN_HASH_SALT = SALT_A
    settings.TOKEN_HASH_SALT_PREVIOUS = []


def rotate_to_b(settings, previous=(SALT_A,)):
    settings.TOKEN_HASH_SALT = SALT_B
    settings.TOKEN_HASH_SALT_PREVIOUS = list(previous)


def test_a_token_from_the_previous_salt_verifies_and_is_redigested(user, settings, under_salt_a):
    issued = make_personal_token(user)
    rotate_to_b(settings)
    assert token_verify(issued.plaintext).pk == issued.token.pk
    token = Token.objects.get(pk=issued.token.pk)
    assert token.digest == token_format.digest(issued.plaintext, SALT_B)
    assert token.salt_fingerprint == token_format.salt_fingerprint(SALT_B)
    settings.TOKEN_HASH_SALT_PREVIOUS = []  # the old salt can go: the token moved
    assert token_verify(issued.plaintext).pk == issued.token.pk


def test_verification_stays_one_query_during_rotation(
    user, settings, under_salt_a, django_assert_num_queries
):
    issued = make_personal_token(user)
    rotate_to_b(settings)
    token_verify(issued.plaintext)  # re-digest and touch
    with django_assert_num_queries(1):
        token_verify(issued.plaintext)


def test_without_the_previous_salt_old_tokens_stop_working(user, settings, under_salt_a):
    issued = make_personal_token(user)
    rotate_to_b(settings, previous=())
    with pytest.raises(InvalidToken):
        token_verify(issued.plaintext)


def test_check_reports_tokens_left_on_old_salts(user, settings, under_salt_a):
    first = make_personal_token(user, name="one")
    make_personal_token(user, name="two")
    rotate_to_b(settings)
    out = io.StringIO()
    call_command("check", stdout=out, stderr=out)
    assert "2 live token(s) still use a previous salt" in out.getvalue()
    token_verify(first.plaintext)
    out = io.StringIO()
    call_command("check", stdout=out, stderr=out)
    assert "1 live token(s) still use a previous salt" in out.getvalue()
