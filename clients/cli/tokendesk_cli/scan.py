"""`tokendesk scan`: Tokendesk tokens in files, directories or stdin, found offline.

A match needs the token shape and a valid checksum, so look-alikes and test fixtures with
made-up values are not reported. A token split across lines is not one token any more.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from tokendesk_cli.token_format import find_tokens, preview

SKIPPED_DIRECTORIES = frozenset({".git", ".hg", ".svn"})
# Enough of a file to tell text from binary, as git does: a NUL byte means binary.
BINARY_SNIFF_BYTES = 8192
STDIN_NAME = "<stdin>"


class NoSuchPath(Exception):
    pass


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    token: str

    @property
    def preview(self) -> str:
        return preview(self.token)


def scan_text(path: str, data: bytes) -> list[Finding]:
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return []
    text = data.decode("utf-8", errors="replace")
    return [
        Finding(path=path, line=number, token=token)
        for number, line in enumerate(text.splitlines(), start=1)
        for _, token in find_tokens(line)
    ]


def files_under(path: str):
    """`path` itself, or every file below it in a stable order, skipping VCS directories."""
    if not os.path.isdir(path):
        yield path
        return
    for directory, subdirectories, files in os.walk(path):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRECTORIES)
        for name in sorted(files):
            yield os.path.join(directory, name)


def scan(paths: list[str], *, stdin, on_skip) -> list[Finding]:
    """Findings in the given paths ('-' or none: stdin). Missing paths raise NoSuchPath
    before anything is read; unreadable files are reported through `on_skip`."""
    paths = paths or ["-"]
    for path in paths:
        if path != "-" and not os.path.lexists(path):
            raise NoSuchPath(path)
    findings: list[Finding] = []
    for path in paths:
        if path == "-":
            findings.extend(scan_text(STDIN_NAME, stdin.read()))
            continue
        for file in files_under(path):
            if os.path.islink(file) or not os.path.isfile(file):
                continue
            try:
                with open(file, "rb") as handle:
                    data = handle.read()
            except OSError as error:
                on_skip(f"skipped {file}: {error.strerror or error}")
                continue
            findings.extend(scan_text(file, data))
    return findings
