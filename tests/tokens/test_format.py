import re

import pytest

from tokens import format as token_format
from tokens.format import BASE62, MalformedToken


def test_it_generates_the_documented_shape():
    token = token_format.generate("ci", "tdk")
    assert re.fullmatch(r"tdk_ci_[0-9A-Za-z]{38}", token)
    assert token_format.parse(token, "tdk").kind == "ci"


@pytest.mark.parametrize("kind", ["pat", "ci", "dep", "srv"])
def test_every_kind_round_trips(kind):
    token = token_format.generate(kind, "tdk")
    parsed = token_format.parse(token, "tdk")
    assert (parsed.prefix, parsed.kind) == ("tdk", kind)
    assert token.startswith(f"tdk_{kind}_")


def test_the_checksum_catches_every_single_character_change():
    token = token_format.generate("pat", "tdk")
    start = len("tdk_pat_")
    for position in range(start, len(token)):
        for replacement in BASE62:
            if replacement == token[position]:
                continue
            altered = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(MalformedToken):
                token_format.parse(altered, "tdk")


def test_the_checksum_is_crc32_of_the_body_in_six_base62_characters():
    assert token_format.checksum("") == "000000"  # crc32("") == 0: zero padded
    body = "tdk_pat_" + "a" * 32
    assert len(token_format.checksum(body)) == 6
    assert token_format.checksum(body) != token_format.checksum(body[:-1] + "b")


@pytest.mark.parametrize(
    "candidate",
    [
        "",
        "tdk_",
        "Bearer tdk_pat_x",
        "tdk_xyz_" + "a" * 38,
        "tdk_pat_" + "a" * 37,
        "tdk_pat_" + "a" * 39,
        "tdk_pat_" + "ä" * 38,
        "x" * 10_000,
        "<script>alert(1)</script>",
    ],
)
def test_it_rejects_garbage(candidate):
    with pytest.raises(MalformedToken):
        token_format.parse(candidate, "tdk")


def test_it_rejects_another_brand_prefix():
    token = token_format.generate("pat", "other")
    with pytest.raises(MalformedToken):
        token_format.parse(token, "tdk")


def test_the_preview_masks_the_middle():
    token = token_format.generate("pat", "tdk")
    preview = token_format.preview(token)
    assert preview == f"tdk_pat_{token[8:12]}…{token[-4:]}"
    assert token[12:-4] not in preview


def test_digests_differ_by_salt_and_never_equal_the_token():
    token = token_format.generate("pat", "tdk")
    first = token_format.digest(token, "a" * 32)
    second = token_format.digest(token, "b" * 32)
    assert first != second
    assert len(first) == 64 and token not in first
    assert token_format.digest(token, "a" * 32) == first


def test_the_secret_comes_from_the_secrets_module(monkeypatch):
    calls = []

    def fake_choice(alphabet):
        calls.append(alphabet)
        return "Z"

    monkeypatch.setattr(token_format.secrets, "choice", fake_choice)
    token = token_format.generate("pat", "tdk")
    assert token.startswith("tdk_pat_" + "Z" * 32)
    assert len(calls) == 32 and set(calls) == {BASE62}


def test_two_tokens_are_never_alike():
    assert len({token_format.generate("pat", "tdk") for _ in range(1000)}) == 1000
