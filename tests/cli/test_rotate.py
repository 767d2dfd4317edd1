"""`tokendesk token rotate ID --overlap 24h [--until-first-use]`."""

import json

import pytest

from tests.cli.fake_api import CREATED_SECRET, assert_no_secret, run, token_object

ROTATED = {
    **token_object(),
    "token": CREATED_SECRET,
    "previous_secret_valid_until": "2025-01-03T03:04:05Z",
}


@pytest.mark.parametrize(("overlap", "hours"), [("1h", 1), ("24h", 24), ("7d", 168), ("1D", 24)])
def test_rotate_posts_the_overlap_and_prints_the_new_secret_alone(api, capsys, overlap, hours):
    api.on("POST", "/api/v1/tokens/7/rotate", (200, ROTATED, {"Cache-Control": "no-store"}))

    code, out, err = run(capsys, "token", "rotate", "7", "--overlap", overlap)

    assert code == 0, err
    (request,) = api.requests
    assert request.body == {"overlap_hours": hours, "until_first_use": False}
    assert out == CREATED_SECRET + "\n"
    assert "The previous secret keeps working until 2025-01-03 03:04 UTC." in err
    assert_no_secret(out, err)


def test_until_first_use_is_sent_and_said(api, capsys):
    api.on("POST", "/api/v1/tokens/7/rotate", (200, ROTATED, {}))

    code, _, _ = run(
        capsys, "token", "rotate", "7", "--overlap", "24h", "--until-first-use", "--json"
    )

    assert code == 0
    assert api.requests[0].body == {"overlap_hours": 24, "until_first_use": True}


def test_json_prints_the_answer(api, capsys):
    api.on("POST", "/api/v1/tokens/7/rotate", (200, ROTATED, {}))
    code, out, _ = run(capsys, "token", "rotate", "7", "--overlap", "1h", "--json")
    assert code == 0 and json.loads(out) == ROTATED


@pytest.mark.parametrize(
    "argv",
    [("7", "--overlap", "2h"), ("7",), ("tdk_ci_x", "--overlap", "1h"), ("7", "--overlap", "")],
)
def test_bad_arguments_are_a_usage_error_without_a_request(api, capsys, argv):
    code, _, err = run(capsys, "token", "rotate", *argv)
    assert code == 2 and "rotate" in err
    assert not api.requests
