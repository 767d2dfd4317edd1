"""`tokendesk scan`: tokens found by prefix and valid checksum only, printed masked."""

import io
import random
import string
import sys

import pytest
from tokendesk_cli import token_format as cli_format

from tests.cli.fake_api import run
from tokens import format as server_format

VALID = server_format.generate("ci", "tdk")
OTHER = server_format.generate("dep", "tdk")


def broken(token: str) -> str:
    """The same shape with one checksum character changed."""
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "deploy.env").write_text(f"# deploy\nTOKENDESK_TOKEN={VALID}\n")
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "lookalike.txt").write_text(f"token: {broken(OTHER)}\n")
    (tmp_path / "split.yml").write_text(f'token: "{VALID[:25]}\\\n  {VALID[25:]}"\n')
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "COMMIT_EDITMSG").write_text(f"oops {OTHER}\n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\0\0" + OTHER.encode() + b"\n")
    return tmp_path


def test_a_valid_token_is_found_and_nothing_else(tree, capsys):
    code, out, err = run(capsys, "scan", str(tree))

    assert code == 1
    assert out == f"{tree / 'deploy.env'}:2: {server_format.preview(VALID)}\n"
    assert "found 1 token in 1 file" in err
    assert VALID not in out + err and OTHER not in out + err


def test_a_clean_tree_exits_0(tree, capsys):
    (tree / "deploy.env").unlink()

    code, out, _ = run(capsys, "scan", str(tree))

    assert (code, out) == (0, "")


def test_files_are_scanned_as_given(tree, capsys):
    code, out, _ = run(capsys, "scan", str(tree / "split.yml"), str(tree / "deploy.env"))

    assert code == 1
    assert out.splitlines() == [f"{tree / 'deploy.env'}:2: {server_format.preview(VALID)}"]


@pytest.mark.parametrize("argv", [["scan"], ["scan", "-"]])
def test_stdin_is_scanned(capsys, monkeypatch, argv):
    text = f"first line\nlog: Authorization: Bearer {VALID} and {OTHER}\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))

    code, out, _ = run(capsys, *argv)

    assert code == 1
    assert out.splitlines() == [
        f"<stdin>:2: {server_format.preview(VALID)}",
        f"<stdin>:2: {server_format.preview(OTHER)}",
    ]


@pytest.mark.parametrize(
    "line",
    [
        f"x{VALID}",  # part of a longer word
        f"{VALID}0",
        VALID.upper(),
        VALID.replace("tdk_ci_", "tdk_xx_"),
    ],
)
def test_near_misses_are_ignored(capsys, monkeypatch, line):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(line.encode())))

    assert run(capsys, "scan")[0] == 0


def test_another_brand_prefix_is_found(capsys, monkeypatch):
    token = server_format.generate("pat", "acme")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"k={token}".encode())))

    code, out, _ = run(capsys, "scan")

    assert code == 1 and "acme_pat_" in out


def test_a_missing_path_is_a_usage_error(tmp_path, capsys):
    code, out, err = run(capsys, "scan", str(tmp_path / "nope"))

    assert code == 2 and out == ""
    assert "no such file or directory" in err


def test_report_needs_a_server_before_printing(tree, capsys, monkeypatch):
    monkeypatch.delenv("TOKENDESK_URL", raising=False)

    code, out, err = run(capsys, "scan", "--report", str(tree))

    assert code == 2 and out == ""
    assert "TOKENDESK_URL" in err


def test_report_sends_the_tokens_without_authentication(api, tree, capsys, monkeypatch):
    monkeypatch.setenv("TOKENDESK_TOKEN", "")
    api.on("POST", "/api/v1/token-leaks", (200, {"received": 1, "well_formed": 1}, {}))

    code, out, _ = run(capsys, "scan", "--report", str(tree))

    assert code == 1
    (request,) = api.requests
    assert request.body == {"tokens": [VALID]}
    assert "authorization" not in request.headers
    assert "Reported 1 token to" in out


# --- the CLI's copy of the format agrees with the server's ---------------------------


def test_the_cli_accepts_every_token_the_server_generates():
    for kind in server_format.KIND_CODES:
        for _ in range(500):
            token = server_format.generate(kind, "tdk")
            assert cli_format.is_token(token)
            assert cli_format.preview(token) == server_format.preview(token)
            assert [found for _, found in cli_format.find_tokens(f"a {token} b")] == [token]


def test_the_cli_and_the_server_agree_on_random_look_alikes():
    rng = random.Random(12)
    alphabet = string.digits + string.ascii_letters
    agreed_valid = 0
    for _ in range(5000):
        token = server_format.generate(rng.choice(server_format.KIND_CODES), "tdk")
        position = rng.randrange(len("tdk_ci_"), len(token))
        if token[position] == "_":
            continue
        mutated = token[:position] + rng.choice(alphabet) + token[position + 1 :]
        server_says = server_format.is_well_formed(mutated, "tdk")
        assert cli_format.is_token(mutated) == server_says, mutated
        agreed_valid += server_says
    # Unchanged characters (same one drawn) keep tokens valid; changed ones never do.
    assert 0 < agreed_valid < 500


def test_the_checksums_are_the_same_function():
    rng = random.Random(7)
    for _ in range(2000):
        body = "".join(rng.choice(string.printable) for _ in range(rng.randrange(0, 60)))
        assert cli_format.checksum(body) == server_format.checksum(body)
