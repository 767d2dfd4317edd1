"""The scanner rules in docs/security.md match real tokens and skip their neighbours; the
pre-commit hook runs the scan command."""

import re

import pytest
import yaml
from django.conf import settings

from tokens import format as token_format

SECURITY = (settings.BASE_DIR / "docs" / "security.md").read_text()


def block_after(marker: str) -> str:
    # A link reference definition: invisible on GitHub and on the served guide.
    return SECURITY.split(f"[//]: # ({marker})", 1)[1]


def gitleaks_regex() -> re.Pattern:
    rule = re.search(r"```toml\n(.*?)```", block_after("gitleaks-rule"), re.DOTALL)[1]
    return re.compile(re.search(r"regex = '''(.*)'''", rule)[1])


def github_pattern() -> re.Pattern:
    rows = dict(
        re.findall(r"^\| (.+?) \| `(.+)` \|$", block_after("github-secret-scanning-pattern"), re.M)
    )
    secret = rows["Secret format"].replace("\\|", "|")
    before = rows["Before secret"].replace("\\|", "|").replace("\\A", "^")
    after = rows["After secret"].replace("\\|", "|").replace("\\z", "$")
    return re.compile(f"(?:{before})({secret})(?:{after})")


@pytest.mark.parametrize("pattern", [gitleaks_regex(), github_pattern()])
def test_the_rules_find_tokens_of_every_kind_in_context(pattern):
    for kind in token_format.KIND_CODES:
        token = token_format.generate(kind, "tdk")
        for text in (token, f"TOKENDESK_TOKEN={token}", f'"{token}",', f"Bearer {token}\n"):
            match = pattern.search(text)
            assert match and match[1] == token, text


@pytest.mark.parametrize("pattern", [gitleaks_regex(), github_pattern()])
def test_the_rules_skip_longer_words_and_other_kinds(pattern):
    token = token_format.generate("ci", "tdk")
    for text in (f"x{token}", f"{token}x", token.replace("_ci_", "_xx_"), token[:-1]):
        assert pattern.search(text) is None, text


def test_the_pre_commit_hook_runs_the_scan_command():
    hooks = yaml.safe_load((settings.BASE_DIR / "clients/cli/.pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "tokendesk-scan"
    assert hook["entry"] == "tokendesk scan" and hook["language"] == "python"
