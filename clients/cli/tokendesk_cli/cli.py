"""`tokendesk`: the command-line client for the Tokendesk JSON API.

Standard library only, so a pipeline can run it with the system `python3` (the server serves
it as a zipapp at /cli/tokendesk.pyz). It never imports Django or the server.

Exit codes: 0 ok, 1 API or connection error (and `scan` found tokens), 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

from tokendesk_cli import __version__
from tokendesk_cli import scan as scanning
from tokendesk_cli.token_format import looks_like_a_secret

TIMEOUT_SECONDS = 30
PAGE_SIZE = 100
TABLE_WIDTH = 100
LEAK_REPORT_BATCH = 1000
EXPIRY_WARNING_PERIOD = timedelta(days=14)
TOKEN_KINDS = ("personal", "ci", "deployment", "server")
EXPIRES_HEADER = "Tokendesk-Token-Expires"
MIGRATION_GUIDE_PATH = "docs/ci-tokens/#migrating-deployments-to-ci-tokens"
UTC = timezone.utc

NO_URL_MESSAGE = (
    "tokendesk: set TOKENDESK_URL to your Tokendesk server "
    "(e.g. export TOKENDESK_URL=https://tokens.example.com) or pass --url."
)
NO_CREDENTIALS_MESSAGE = (
    "tokendesk: no API token: set TOKENDESK_TOKEN to a personal, CI or deployment token."
)
CONTROL_CHARACTER_MESSAGE = (
    "tokendesk: TOKENDESK_TOKEN contains a line break or another character no token has; "
    "store the token alone, on one line."
)
PASTED_WHOLE_MESSAGE = (
    "tokendesk: that is a whole token, not an id or a preview prefix, and it was not sent "
    "(it would land in access logs). Give the token's id, or the start of its preview "
    "(e.g. tdk_ci_4fQz)."
)
SHOW_ONCE_NOTE = "Save this token now: it will not be shown again."
OIDC_SETUP_HINT = (
    "tokendesk: --oidc found no ID token: on GitHub Actions give the job "
    "`permissions: id-token: write`; on GitLab CI declare `id_tokens: TOKENDESK_ID_TOKEN: "
    "aud: <your Tokendesk URL>` (docs/trusted-publishing/)."
)

# RFC 7234 Warning values look like `299 - "text"`; only the text is for people.
WARNING_TEXT = re.compile(r'^\s*\d{3}\s+\S+\s+"(?P<text>.*)"')
ISO_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
)


class CliError(Exception):
    """A failure that ends the command with a message on stderr and an exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def usage_error(message: str) -> CliError:
    return CliError(message, 2)


def api_error(message: str) -> CliError:
    return CliError(message, 1)


def warn(text: str) -> None:
    print(f"tokendesk: warning: {text}", file=sys.stderr)


# --- where to, and with what ---------------------------------------------------------


def server_root(url: str | None) -> str:
    """The server's root URL, whether TOKENDESK_URL names the root or its /api/v1."""
    url = (url or "").strip()
    if not url:
        raise usage_error(NO_URL_MESSAGE)
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise usage_error(f"tokendesk: TOKENDESK_URL must start with http:// or https://: {url}")
    root = url.rstrip("/")
    if root.endswith("/api/v1"):
        root = root[: -len("/api/v1")]
    return root


def resolve_token(environ) -> tuple[str, bool]:
    """The token to send, and whether it came from the deprecated server-token pair.

    TOKENDESK_TOKEN wins; the legacy pair still works so old pipelines keep deploying
    while they migrate, but the caller must warn about it.
    """
    token = environ.get("TOKENDESK_TOKEN", "").strip()
    legacy = False
    if not token:
        token = environ.get("TOKENDESK_SERVER_TOKEN", "").strip()
        legacy = bool(token and environ.get("TOKENDESK_USER_EMAIL", "").strip())
        if not legacy:
            raise usage_error(NO_CREDENTIALS_MESSAGE)
    # A secret with a line break inside would be refused by http.client in a message that
    # quotes the header, i.e. the token: stop here instead.
    if not (token.isascii() and token.isprintable()):
        raise api_error(CONTROL_CHARACTER_MESSAGE)
    return token, legacy


def legacy_warning(root: str) -> str:
    return (
        "TOKENDESK_SERVER_TOKEN/TOKENDESK_USER_EMAIL are deprecated and server tokens are "
        "going away; create a CI token, store it as TOKENDESK_TOKEN, and follow "
        f"{root}/{MIGRATION_GUIDE_PATH}"
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would replay the Authorization header to any host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Client:
    """Sends JSON requests to /api/v1/ and turns every failure into a one-line CliError."""

    def __init__(self, root: str, token: str | None, *, legacy_warned: bool = False):
        self.root = root
        self.base_url = root + "/api/v1/"
        self._token = token
        # The legacy-credential line already told the user about deprecation.
        self._deprecation_echoed = legacy_warned
        self._warnings_echoed: set[str] = set()
        self._expiry_checked = False
        self._opener = urllib.request.build_opener(_NoRedirect)

    def request(self, method: str, path: str, *, query=None, body=None):
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (http(s) only)
        if self._token is not None:
            request.add_header("Authorization", f"Bearer {self._token}")
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", f"tokendesk-cli/{__version__}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                self._echo_warnings(response.headers)
                return self._decode(response.status, response.read())
        except urllib.error.HTTPError as exc:
            self._echo_warnings(exc.headers)
            raise api_error(self._describe_http_error(exc)) from None
        except urllib.error.URLError as exc:
            raise api_error(
                f"tokendesk: cannot reach {self.root}: {_one_line(exc.reason)}"
            ) from None
        except TimeoutError:
            raise api_error(
                f"tokendesk: {self.root} did not answer within {TIMEOUT_SECONDS} s"
            ) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # A TLS failure, a dropped connection while reading the answer, or an address
            # urllib cannot use. The token was checked first, so no message can quote it.
            raise api_error(
                f"tokendesk: the connection to {self.root} failed: {_one_line(exc)}"
            ) from None

    def _decode(self, status: int, raw: bytes):
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise api_error(
                f"tokendesk: {self.root} answered HTTP {status} with something other than JSON "
                "(a proxy or sign-in page?); is TOKENDESK_URL the Tokendesk server?"
            ) from None

    def _describe_http_error(self, exc: urllib.error.HTTPError) -> str:
        """`<detail> (<error>, HTTP <status>)` from the API's error body, or a plain fallback."""
        if 300 <= exc.code < 400:
            location = exc.headers.get("Location", "another address")
            return (
                f"tokendesk: the server redirects to {_one_line(location)}; "
                f"set TOKENDESK_URL to the final address (HTTP {exc.code})"
            )
        try:
            body = json.loads(exc.read())
        except (ValueError, OSError, http.client.HTTPException):
            body = None
        if isinstance(body, dict) and body.get("detail"):
            detail = self._redact(_one_line(body["detail"]))
            code = self._redact(_one_line(body.get("error", "error")))
            return f"tokendesk: {detail} ({code}, HTTP {exc.code})"
        return f"tokendesk: {self.root} answered HTTP {exc.code} {_one_line(exc.reason)}"

    def _echo_warnings(self, headers) -> None:
        if headers is None:
            return
        self._echo_expiry(headers.get(EXPIRES_HEADER))
        # A deprecation or Warning header once per run, not once per page.
        warning = headers.get("Warning")
        deprecated = headers.get("Deprecation", "").strip().lower() not in ("", "false")
        if deprecated and self._deprecation_echoed:
            return
        if warning:
            match = WARNING_TEXT.match(warning)
            text = self._redact(_one_line(match["text"] if match else warning))
        elif deprecated:
            text = "the server marked this request as deprecated."
        else:
            return
        if text in self._warnings_echoed:
            return
        self._warnings_echoed.add(text)
        self._deprecation_echoed = self._deprecation_echoed or deprecated
        warn(text)

    def _echo_expiry(self, value: str | None) -> None:
        """One line when the token expires soon, so a pipeline log shows it in time."""
        if self._expiry_checked or not value:
            return
        self._expiry_checked = True
        expires = parse_time(value)
        if expires is None:
            return
        remaining = expires - datetime.now(UTC)
        if remaining >= EXPIRY_WARNING_PERIOD:
            return
        if remaining.days >= 1:
            left = f"in {remaining.days} day{'s' if remaining.days != 1 else ''}"
        else:
            hours = max(0, int(remaining.total_seconds() // 3600))
            left = f"in {hours} hour{'s' if hours != 1 else ''}"
        warn(
            f"this token expires {show_time(value)} ({left}); "
            "create a new one and update the secret before then."
        )

    def _redact(self, text: str) -> str:
        """Server text is echoed verbatim, so make sure it can never carry our secret."""
        return text.replace(self._token, "[redacted]") if self._token else text


def _one_line(value) -> str:
    return " ".join(str(value).split())


# --- output helpers ------------------------------------------------------------------


def print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 / RFC 3339 time (Python 3.9's fromisoformat takes neither `Z` nor any
    number of fraction digits)."""
    match = ISO_TIME.match(value or "")
    if match is None:
        return None
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    zone = match["zone"] or "+00:00"
    zone = "+00:00" if zone == "Z" else zone
    time = match["time"] if match["time"].count(":") == 2 else match["time"] + ":00"
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{time}.{fraction}{zone}")
    except ValueError:
        return None
    return moment


def show_time(value: str | None, missing: str = "never") -> str:
    """A short UTC time; the raw value if the server sent something unexpected."""
    if not value:
        return missing
    moment = parse_time(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else value


def show_date(value: str | None, missing: str = "never") -> str:
    if not value:
        return missing
    moment = parse_time(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d") if moment else value


def token_status(token: dict, now: datetime) -> str:
    if token.get("revoked_at"):
        return "revoked"
    expires = parse_time(token.get("expires_at"))
    if expires and expires <= now:
        return "expired"
    return "active"


def token_scope(token: dict) -> str:
    return token.get("project") or token.get("org") or "personal"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def format_table(
    headers: list[str], rows: list[list[str]], *, max_width: int = TABLE_WIDTH, shrink=()
) -> str:
    """Columns padded to their widest cell; the `shrink` columns are cut with `…`, widest
    first, until the table fits `max_width`."""
    columns = list(zip(headers, *rows))
    widths = [max(len(str(cell)) for cell in column) for column in columns]
    gap = 2
    while sum(widths) + gap * (len(widths) - 1) > max_width:
        shrinkable = [index for index in shrink if widths[index] > len(headers[index]) + 1]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda index: widths[index])
        widths[widest] -= 1
    lines = [headers, *rows]
    return "\n".join(
        (" " * gap)
        .join(_shorten(str(cell), width).ljust(width) for cell, width in zip(line, widths))
        .rstrip()
        for line in lines
    )


def describe_token(token: dict) -> list[str]:
    """The metadata lines shown by `whoami` and after `token create`."""
    return [
        f"Name:        {token.get('name', '')}",
        f"ID:          {token.get('id', '')}",
        f"Kind:        {token.get('kind', '')}",
        f"Preview:     {token.get('preview', '')}",
        f"Scope:       {token_scope(token)}",
        f"Permissions: {', '.join(token.get('permissions') or []) or '(none)'}",
        f"Expires:     {show_time(token.get('expires_at'))}",
    ]


# --- argument types ------------------------------------------------------------------

OVERLAPS = {"1h": 1, "24h": 24, "1d": 24, "168h": 168, "7d": 168}


def overlap_hours(value: str) -> int:
    hours = OVERLAPS.get(value.strip().lower())
    if hours is None:
        raise argparse.ArgumentTypeError("choose 1h, 24h or 7d")
    return hours


def token_id(value: str) -> str:
    value = value.strip()
    if not (value.isascii() and value.isdecimal()):
        raise argparse.ArgumentTypeError("give the token's numeric id (see `tokendesk token list`)")
    return value


def org_project(value: str) -> str:
    """`ORG/PROJECT` with both parts present; rejected by argparse (exit 2) otherwise."""
    org, _, project = value.partition("/")
    if not org or not project or "/" in project:
        raise argparse.ArgumentTypeError(f"expected ORG/PROJECT, got {value!r}")
    return value


def permission_list(value: str) -> list[str]:
    permissions = [item.strip() for item in value.split(",") if item.strip()]
    if not permissions:
        raise argparse.ArgumentTypeError("expected a comma-separated list such as a:read,b:write")
    return permissions


def quote(segment: str) -> str:
    """One path segment, fully escaped (previews contain '…', ids may contain '/')."""
    return urllib.parse.quote(segment, safe="")


# --- commands ------------------------------------------------------------------------


def cmd_whoami(client: Client, args) -> int:
    answer = client.request("GET", "whoami")
    if args.json:
        print_json(answer)
        return 0
    for line in describe_token(answer.get("token") or {}):
        print(line)
    user = answer.get("user")
    print(f"User:        {user['email'] if user else '(none: not a personal token)'}")
    return 0


def cmd_token_create(client: Client, args) -> int:
    body = {"name": args.name}
    optional = {
        "org": args.org,
        "project": args.project,
        "permissions": args.permissions,
        "role": args.role,
        "expires_in_days": args.expires,
        "description": args.description,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    created = client.request("POST", "tokens", body=body)
    if args.json:
        print_json(created)
        return 0
    # Only the plaintext goes to stdout, so `TOKEN=$(tokendesk token create ...)` works.
    print(created["token"])
    print(SHOW_ONCE_NOTE, file=sys.stderr)
    for line in describe_token(created):
        print(line, file=sys.stderr)
    return 0


def list_tokens(client: Client, filters: dict) -> list[dict]:
    """Every token matching the filters, reading all `limit`/`offset` pages."""
    items: list[dict] = []
    while True:
        query = {**filters, "limit": PAGE_SIZE, "offset": len(items)}
        page = client.request("GET", "tokens", query=query)
        batch = page.get("items") or []
        items.extend(batch)
        if not batch or len(items) >= page.get("count", 0):
            return items


LIST_COLUMNS = ["ID", "NAME", "PREVIEW", "SCOPE", "LAST USED", "EXPIRES", "STATUS"]
SHRINKABLE_COLUMNS = (1, 3)  # NAME, SCOPE


def cmd_token_rotate(client: Client, args) -> int:
    body = {"overlap_hours": args.overlap, "until_first_use": args.until_first_use}
    rotated = client.request("POST", f"tokens/{quote(args.id)}/rotate", body=body)
    if args.json:
        print_json(rotated)
        return 0
    # Only the new plaintext goes to stdout, as with `token create`.
    print(rotated["token"])
    print(SHOW_ONCE_NOTE, file=sys.stderr)
    until = show_time(rotated.get("previous_secret_valid_until"))
    ending = " or until the new secret is first used" if args.until_first_use else ""
    print(f"The previous secret keeps working until {until}{ending}.", file=sys.stderr)
    for line in describe_token(rotated):
        print(line, file=sys.stderr)
    return 0


def cmd_token_usage(client: Client, args) -> int:
    used = client.request("GET", f"tokens/{quote(args.id)}/usage")
    if args.json:
        print_json(used)
        return 0
    days = used.get("window_days", 30)
    print(
        f"Calls in the last {days} days: {used.get('calls', 0)} "
        f"({used.get('ok', 0)} ok, {used.get('failed', 0)} failed)"
    )
    print(f"First use kept: {show_date(used.get('first_day'))}")
    sections = [
        ("ADDRESS", "addresses", "address"),
        ("AGENT", "agents", "agent"),
        ("PROJECT", "projects", "project"),
    ]
    routes = used.get("routes") or []
    if routes:
        rows = [
            [
                r.get("method", ""),
                r.get("route", ""),
                str(r.get("calls", 0)),
                str(r.get("failed", 0)),
            ]
            for r in routes
        ]
        print()
        print(format_table(["METHOD", "ROUTE", "CALLS", "FAILED"], rows, shrink=(1,)))
    for title, key, name in sections:
        items = used.get(key) or []
        if not items:
            continue
        rows = [
            [
                _one_line(item.get(name) or "unknown"),
                str(item.get("calls", 0)),
                show_time(item.get("first_seen")),
                show_time(item.get("last_seen")),
            ]
            for item in items
        ]
        print()
        print(format_table([title, "CALLS", "FIRST SEEN", "LAST SEEN"], rows, shrink=(0,)))
    permissions = used.get("permissions") or []
    if permissions:
        print()
        rows = [
            [
                p.get("permission", ""),
                "yes" if p.get("granted") else "no",
                "yes" if p.get("used") else ("refused" if p.get("attempted") else "no"),
            ]
            for p in permissions
        ]
        print(format_table(["PERMISSION", "GRANTED", "USED"], rows))
    suggestion = used.get("suggested_permissions")
    if suggestion:
        print()
        print(f"Used for 7 days or more: narrowing to {', '.join(suggestion)} would do.")
    return 0


def cmd_token_list(client: Client, args) -> int:
    filters = {"type": args.type, "org": args.org, "project": args.project}
    filters = {key: value for key, value in filters.items() if value}
    if not args.all:
        filters["active"] = "true"
    now = datetime.now(UTC)
    tokens = list_tokens(client, filters)
    if not args.all:
        # The server filters too; this keeps the promise with servers that predate `active`.
        tokens = [token for token in tokens if token_status(token, now) == "active"]
    if args.json:
        print_json(tokens)
        return 0
    if not tokens:
        print("No tokens." if args.all else "No active tokens (--all lists revoked ones).")
        return 0
    rows = [
        [
            str(token.get("id", "")),
            str(token.get("name", "")),
            str(token.get("preview", "")),
            token_scope(token),
            show_date(token.get("last_used_at")),
            show_date(token.get("expires_at")),
            token_status(token, now),
        ]
        for token in tokens
    ]
    print(format_table(LIST_COLUMNS, rows, shrink=SHRINKABLE_COLUMNS))
    return 0


def confirm(question: str) -> bool:
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = input()
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def cmd_token_revoke(client: Client, args) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            raise usage_error(
                "tokendesk: token revoke asks for confirmation; pass --yes when not on a terminal."
            )
        question = (
            f"Revoke token {args.token} on {client.root}? Anything using it stops working at once."
        )
        if not confirm(question):
            print("Nothing revoked.", file=sys.stderr)
            return 1
    client.request("DELETE", f"tokens/{quote(args.token)}")
    print(f"Revoked {args.token}.")
    return 0


def cmd_deploy(client: Client, args) -> int:
    org, _, project = args.project.partition("/")
    path = f"orgs/{quote(org)}/projects/{quote(project)}/deployments"
    deployment = client.request(
        "POST", path, body={"ref": args.ref, "environment": args.environment}
    )
    if args.json:
        print_json(deployment)
        return 0
    ref = deployment.get("ref", args.ref)
    environment = deployment.get("environment", args.environment)
    print(f"Deployed {args.project}@{ref} to {environment} (deployment #{deployment['id']}).")
    return 0


# --- trusted publishing (OIDC) ------------------------------------------------------


def ci_id_token(environ, audience: str) -> str:
    """The CI job's OIDC ID token: GitLab's from TOKENDESK_ID_TOKEN (`id_tokens:`), GitHub
    Actions' requested from ACTIONS_ID_TOKEN_REQUEST_URL for `audience`."""
    given = environ.get("TOKENDESK_ID_TOKEN", "").strip()
    if given:
        return given
    url = environ.get("ACTIONS_ID_TOKEN_REQUEST_URL", "").strip()
    request_token = environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "").strip()
    if not url or not request_token:
        raise usage_error(OIDC_SETUP_HINT)
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise usage_error("tokendesk: ACTIONS_ID_TOKEN_REQUEST_URL is not an http(s) URL")
    separator = "&" if "?" in url else "?"
    url += separator + urllib.parse.urlencode({"audience": audience})
    request = urllib.request.Request(url)  # noqa: S310 (http(s) only, checked above)
    request.add_header("Authorization", f"bearer {request_token}")
    request.add_header("Accept", "application/json")
    try:
        opener = urllib.request.build_opener(_NoRedirect)
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise api_error(
            f"tokendesk: GitHub Actions refused the ID token request (HTTP {exc.code}); "
            "does the job have `permissions: id-token: write`?"
        ) from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise api_error(f"tokendesk: the ID token request failed: {_one_line(exc)}") from None
    value = answer.get("value") if isinstance(answer, dict) else None
    if not isinstance(value, str) or not value:
        raise api_error("tokendesk: the ID token request answered no token")
    return value


def exchange_id_token(root: str, project: str, environ) -> dict:
    """Trade the job's ID token for a short-lived deployment token (POST /api/v1/oidc/token)."""
    audience = environ.get("TOKENDESK_OIDC_AUDIENCE", "").strip() or root
    id_token = ci_id_token(environ, audience)
    return Client(root, None).request(
        "POST", "oidc/token", body={"id_token": id_token, "project": project}
    )


def cmd_oidc_token(root: str, args) -> int:
    issued = exchange_id_token(root, args.project, os.environ)
    if args.json:
        print_json(issued)
        return 0
    # Only the token on stdout, so `TOKENDESK_TOKEN=$(tokendesk oidc-token acme/web)` works.
    print(issued["token"])
    print(f"Expires:     {show_time(issued.get('expires_at'))}", file=sys.stderr)
    return 0


def cmd_scan(args) -> int:
    """Print where tokens are (masked), optionally report them; exit 1 when any was found."""
    try:
        findings = scanning.scan(args.paths, stdin=sys.stdin.buffer, on_skip=warn)
    except scanning.NoSuchPath as missing:
        raise usage_error(f"tokendesk: no such file or directory: {missing}") from None
    client = None
    if args.report and findings:
        # Resolved before printing, so a missing TOKENDESK_URL fails before any output.
        client = Client(server_root(args.url or os.environ.get("TOKENDESK_URL")), None)
    for finding in findings:
        print(f"{finding.path}:{finding.line}: {finding.preview}")
    if not findings:
        return 0
    files = len({finding.path for finding in findings})
    print(
        f"tokendesk: found {len(findings)} token{'s' if len(findings) != 1 else ''} "
        f"in {files} file{'s' if files != 1 else ''}.",
        file=sys.stderr,
    )
    if client is not None:
        tokens = sorted({finding.token for finding in findings})
        received = well_formed = 0
        for start in range(0, len(tokens), LEAK_REPORT_BATCH):
            batch = tokens[start : start + LEAK_REPORT_BATCH]
            answer = client.request("POST", "token-leaks", body={"tokens": batch})
            received += int(answer.get("received", 0))
            well_formed += int(answer.get("well_formed", 0))
        print(
            f"Reported {received} token{'s' if received != 1 else ''} to {client.root}: "
            f"{well_formed} well-formed for that server, revoked if they existed."
        )
    else:
        print(
            "tokendesk: revoke them (tokendesk scan --report, or in Tokendesk) and remove "
            "them from the files and their history.",
            file=sys.stderr,
        )
    return 1


# --- parser and entry point ----------------------------------------------------------


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the API answer as JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokendesk",
        description="Manage Tokendesk tokens and deployments, and scan for leaked tokens. "
        "Reads TOKENDESK_URL (the server, e.g. https://tokens.example.com) and "
        "TOKENDESK_TOKEN.",
    )
    parser.add_argument("--version", action="version", version=f"tokendesk {__version__}")
    parser.add_argument(
        "--url", metavar="URL", help="the Tokendesk server (default: $TOKENDESK_URL)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    whoami = commands.add_parser("whoami", help="show the token in use")
    add_json_flag(whoami)
    whoami.set_defaults(handler=cmd_whoami)

    token = commands.add_parser("token", help="create, list, rotate and revoke tokens")
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION")
    token.set_defaults(help_of=token)

    create = token_commands.add_parser("create", help="create a token (shown once)")
    create.add_argument("name", metavar="NAME")
    scope = create.add_mutually_exclusive_group()
    scope.add_argument("--org", metavar="ORG", help="an organization CI token (default: personal)")
    scope.add_argument(
        "--project", metavar="ORG/PROJECT", type=org_project, help="a project deployment token"
    )
    grant = create.add_mutually_exclusive_group()
    grant.add_argument(
        "--permissions",
        metavar="A,B",
        type=permission_list,
        help="comma-separated, e.g. projects:read,deployments:write",
    )
    grant.add_argument("--role", metavar="ROLE", help="ci, read_only, admin or custom")
    create.add_argument("--expires", metavar="DAYS", type=int, help="lifetime in days")
    create.add_argument("--description", metavar="TEXT")
    add_json_flag(create)
    create.set_defaults(handler=cmd_token_create)

    listing = token_commands.add_parser("list", help="list active tokens (--all: revoked too)")
    listing.add_argument("--type", choices=TOKEN_KINDS)
    listing.add_argument("--org", metavar="ORG")
    listing.add_argument("--project", metavar="ORG/PROJECT", type=org_project)
    listing.add_argument("--all", action="store_true", help="include revoked and expired tokens")
    add_json_flag(listing)
    listing.set_defaults(handler=cmd_token_list)

    rotate = token_commands.add_parser(
        "rotate",
        help="new secret for a token; the old one keeps working for --overlap",
        description="Give a token a new secret (shown once); its current secret keeps "
        "working for the overlap (1h, 24h or 7d), or until the new secret is first used "
        "with --until-first-use, whichever comes first.",
    )
    rotate.add_argument("id", metavar="ID", type=token_id, help="the token's id")
    rotate.add_argument(
        "--overlap", required=True, metavar="1h|24h|7d", type=overlap_hours,
        help="how long the current secret keeps working",
    )  # fmt: skip
    rotate.add_argument(
        "--until-first-use",
        action="store_true",
        help="end the overlap sooner, when the new secret is first used",
    )
    add_json_flag(rotate)
    rotate.set_defaults(handler=cmd_token_rotate)

    usage = token_commands.add_parser(
        "usage",
        help="who uses a token: addresses, routes, agents, permissions used",
        description="What called the API with a token: its last client addresses, calls "
        "per route, agents and projects over 30 days, and which permissions it used.",
    )
    usage.add_argument("id", metavar="ID", type=token_id, help="the token's id")
    add_json_flag(usage)
    usage.set_defaults(handler=cmd_token_usage)

    revoke = token_commands.add_parser("revoke", help="revoke a token")
    # `delete`, its name before "revoke" settled: kept, unlisted, for one release.
    for parser_ in (revoke, token_commands.add_parser("delete")):
        parser_.add_argument("token", metavar="ID_OR_PREFIX", help="token id or preview prefix")
        parser_.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
        parser_.set_defaults(handler=cmd_token_revoke)

    deploy = commands.add_parser("deploy", help="record a deployment of a project")
    deploy.add_argument("project", metavar="ORG/PROJECT", type=org_project)
    deploy.add_argument("--ref", required=True, metavar="REF", help="commit, tag or branch")
    deploy.add_argument("--environment", default="production", metavar="ENV")
    deploy.add_argument(
        "--oidc",
        action="store_true",
        help="no stored token: exchange this CI job's OIDC ID token (trusted publishing)",
    )
    add_json_flag(deploy)
    deploy.set_defaults(handler=cmd_deploy)

    oidc_token = commands.add_parser(
        "oidc-token",
        help="print a short-lived deployment token for this CI job's OIDC ID token",
    )
    oidc_token.add_argument("project", metavar="ORG/PROJECT", type=org_project)
    add_json_flag(oidc_token)
    oidc_token.set_defaults(oidc_handler=cmd_oidc_token)

    scan = commands.add_parser(
        "scan",
        help="find Tokendesk tokens in files (offline); exit 1 when any",
        description="Find Tokendesk tokens (prefix and valid checksum) in files, directories "
        "(recursively, skipping .git and binary files) or stdin ('-' or no PATH). Prints "
        "FILE:LINE: and the masked preview, never the token; exits 1 when it found any.",
    )
    scan.add_argument("paths", nargs="*", metavar="PATH")
    scan.add_argument(
        "--report",
        action="store_true",
        help="send the tokens found to the server's /api/v1/token-leaks, which revokes them",
    )
    scan.set_defaults(offline_handler=cmd_scan)
    return parser


def parse_args(parser: argparse.ArgumentParser, argv) -> argparse.Namespace | int:
    """Parsed arguments, or argparse's exit code (2 for usage, 0 for --help and --version)."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2


def _refuse_pasted_secrets(args) -> None:
    """A whole token where an id or prefix belongs is refused before any request."""
    value = getattr(args, "token", None)
    if value and looks_like_a_secret(value):
        raise usage_error(PASTED_WHOLE_MESSAGE)


def run(args) -> int:
    if getattr(args, "offline_handler", None):
        return args.offline_handler(args)
    _refuse_pasted_secrets(args)
    root = server_root(args.url or os.environ.get("TOKENDESK_URL"))
    if getattr(args, "oidc_handler", None):
        return args.oidc_handler(root, args)
    if getattr(args, "oidc", False):
        issued = exchange_id_token(root, args.project, os.environ)
        return args.handler(Client(root, issued["token"]), args)
    token, legacy = resolve_token(os.environ)
    if legacy:
        warn(legacy_warning(root))
    return args.handler(Client(root, token, legacy_warned=legacy), args)


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code (the console script passes it to sys.exit)."""
    parser = build_parser()
    args = parse_args(parser, argv)
    if isinstance(args, int):
        return args
    handlers = ("handler", "offline_handler", "oidc_handler")
    if not any(getattr(args, name, None) for name in handlers):
        # Bare `tokendesk` or `tokendesk token`: the help, as a usage error.
        getattr(args, "help_of", parser).print_help(sys.stderr)
        return 2
    try:
        return run(args)
    except CliError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    except (KeyError, TypeError, AttributeError) as exc:
        # An answer of an unexpected shape: a proxy, or a server of another version.
        print(
            f"tokendesk: the server's answer was not what tokendesk {__version__} expects "
            f"({type(exc).__name__}: {_one_line(exc)})",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `tokendesk token list | head`: the reader left; say nothing more.
        sys.stderr.close()
        return 1


if __name__ == "__main__":
    sys.exit(main())
