"""`tokendesk`: a small command-line client for the Tokendesk JSON API.

It uses the standard library only and imports nothing from Django or the rest of the
project, so pipelines can install and run it without the server's dependencies.

Exit codes: 0 ok, 1 API or connection error, 2 usage or configuration error.
"""

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from importlib import metadata

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 30
PAGE_SIZE = 100
TOKEN_KINDS = ("personal", "ci", "deployment", "server")
LIST_COLUMNS = [
    "ID",
    "NAME",
    "KIND",
    "PREVIEW",
    "SCOPE",
    "PERMISSIONS",
    "LAST USED",
    "EXPIRES",
    "STATUS",
]

LEGACY_WARNING = (
    "tokendesk: warning: TOKENDESK_SERVER_TOKEN/TOKENDESK_USER_EMAIL are deprecated and "
    "server tokens are going away; create a CI token, store it as TOKENDESK_TOKEN, and follow "
    '"Migrating deployments to CI tokens" (docs/ci-tokens.md, linked from your '
    "organization's Deploy auth page)."
)
NO_CREDENTIALS_MESSAGE = (
    "tokendesk: no API token: set TOKENDESK_TOKEN to a personal, CI or deployment token."
)
SHOW_ONCE_NOTE = "Save this token now: it will not be shown again."

# RFC 7234 Warning values look like `299 - "text"`; only the text is for people.
WARNING_TEXT = re.compile(r'^\s*\d{3}\s+\S+\s+"(?P<text>.*)"')


class CliError(Exception):
    """A failure that ends the command with a message on stderr and an exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def usage_error(message: str) -> CliError:
    return CliError(message, 2)


def api_error(message: str) -> CliError:
    return CliError(message, 1)


def cli_version() -> str:
    """The installed distribution's version, so the User-Agent never drifts from it."""
    try:
        return metadata.version("tokendesk")
    except metadata.PackageNotFoundError:
        return "dev"


# --- credentials and the HTTP client -------------------------------------------------


def resolve_token(environ) -> tuple[str, bool]:
    """The token to send, and whether it came from the deprecated server-token pair.

    TOKENDESK_TOKEN wins; the legacy pair still works so old pipelines keep deploying
    while they migrate, but the caller must warn about it.
    """
    token = environ.get("TOKENDESK_TOKEN", "").strip()
    if token:
        return token, False
    legacy = environ.get("TOKENDESK_SERVER_TOKEN", "").strip()
    if legacy and environ.get("TOKENDESK_USER_EMAIL", "").strip():
        return legacy, True
    raise usage_error(NO_CREDENTIALS_MESSAGE)


def api_base(environ) -> str:
    """The API root; only http(s) is accepted so urllib never opens files or other schemes."""
    url = environ.get("TOKENDESK_URL", "").strip() or DEFAULT_URL
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise usage_error(f"tokendesk: TOKENDESK_URL must start with http:// or https://: {url}")
    return url.rstrip("/") + "/api/v1/"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would replay the Authorization header to any host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Client:
    """Sends authenticated JSON requests and turns failures into CliError."""

    def __init__(self, base_url: str, token: str, *, legacy_warned: bool = False):
        self.base_url = base_url
        self._token = token
        # The legacy-credential line already told the user about deprecation.
        self._deprecation_echoed = legacy_warned
        self._warnings_echoed: set[str] = set()
        self._opener = urllib.request.build_opener(_NoRedirect)

    def request(self, method: str, path: str, *, query=None, body=None):
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (http(s) only)
        request.add_header("Authorization", f"Bearer {self._token}")
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", f"tokendesk-cli/{cli_version()}")
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
            raise api_error(f"tokendesk: cannot reach {self.base_url}: {exc.reason}") from None
        except TimeoutError:
            raise api_error(
                f"tokendesk: {self.base_url} did not answer within {TIMEOUT_SECONDS} s"
            ) from None

    def _decode(self, status: int, raw: bytes):
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise api_error(
                f"tokendesk: the server answered HTTP {status} without JSON; "
                "is TOKENDESK_URL the Tokendesk server?"
            ) from None

    def _describe_http_error(self, exc: urllib.error.HTTPError) -> str:
        """`<detail> (<error>, HTTP <status>)` from the API's error body, or a plain fallback."""
        if 300 <= exc.code < 400:
            location = exc.headers.get("Location", "another address")
            return (
                f"tokendesk: the server redirects to {location}; "
                f"set TOKENDESK_URL to the final address (HTTP {exc.code})"
            )
        try:
            body = json.loads(exc.read())
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("detail"):
            detail = self._redact(str(body["detail"]))
            code = self._redact(str(body.get("error", "error")))
            return f"tokendesk: {detail} ({code}, HTTP {exc.code})"
        return f"tokendesk: the server answered HTTP {exc.code} {exc.reason}"

    def _echo_warnings(self, headers) -> None:
        """Echo a deprecation or Warning header once per run, not once per page."""
        warning = headers.get("Warning")
        deprecated = headers.get("Deprecation", "").strip().lower() not in ("", "false")
        if deprecated and self._deprecation_echoed:
            return
        if warning:
            match = WARNING_TEXT.match(warning)
            text = self._redact(match["text"] if match else warning.strip())
        elif deprecated:
            text = "the server marked this request as deprecated."
        else:
            return
        if text in self._warnings_echoed:
            return
        self._warnings_echoed.add(text)
        self._deprecation_echoed = self._deprecation_echoed or deprecated
        print(f"tokendesk: warning: {text}", file=sys.stderr)

    def _redact(self, text: str) -> str:
        """Server text is echoed verbatim, so make sure it can never carry our secret."""
        return text.replace(self._token, "[redacted]")


# --- output helpers ------------------------------------------------------------------


def print_json(value) -> None:
    print(json.dumps(value, indent=2))


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def show_time(value: str | None, missing: str = "never") -> str:
    """A short UTC time for tables; the raw value if the server sent something unexpected."""
    if not value:
        return missing
    moment = parse_time(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else value


def token_status(token: dict, now: datetime) -> str:
    if token.get("revoked_at"):
        return "revoked"
    expires = parse_time(token.get("expires_at"))
    if expires and expires <= now:
        return "expired"
    return "active"


def token_scope(token: dict) -> str:
    return token.get("project") or token.get("org") or "personal"


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
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


def cmd_token_list(client: Client, args) -> int:
    filters = {"type": args.type, "org": args.org, "project": args.project}
    tokens = list_tokens(client, {key: value for key, value in filters.items() if value})
    if args.json:
        print_json(tokens)
        return 0
    if not tokens:
        print("No tokens.")
        return 0
    now = datetime.now(UTC)
    rows = [
        [
            str(token.get("id", "")),
            token.get("name", ""),
            token.get("kind", ""),
            token.get("preview", ""),
            token_scope(token),
            ",".join(token.get("permissions") or []),
            show_time(token.get("last_used_at")),
            show_time(token.get("expires_at")),
            token_status(token, now),
        ]
        for token in tokens
    ]
    print(format_table(LIST_COLUMNS, rows))
    return 0


def cmd_token_delete(client: Client, args) -> int:
    client.request("DELETE", f"tokens/{quote(args.token)}")
    print(f"Deleted {args.token}.")
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


# --- parser and entry point ----------------------------------------------------------


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the API answer as JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokendesk",
        description="Manage Tokendesk tokens and deployments. "
        f"Reads TOKENDESK_URL (default {DEFAULT_URL}) and TOKENDESK_TOKEN.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    whoami = commands.add_parser("whoami", help="show the token in use")
    add_json_flag(whoami)
    whoami.set_defaults(handler=cmd_whoami)

    token = commands.add_parser("token", help="create, list and delete tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")

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

    listing = token_commands.add_parser("list", help="list token metadata")
    listing.add_argument("--type", choices=TOKEN_KINDS)
    listing.add_argument("--org", metavar="ORG")
    listing.add_argument("--project", metavar="ORG/PROJECT", type=org_project)
    add_json_flag(listing)
    listing.set_defaults(handler=cmd_token_list)

    delete = token_commands.add_parser("delete", help="revoke a token")
    delete.add_argument("token", metavar="ID_OR_PREFIX", help="token id or preview prefix")
    delete.set_defaults(handler=cmd_token_delete)

    deploy = commands.add_parser("deploy", help="record a deployment of a project")
    deploy.add_argument("project", metavar="ORG/PROJECT", type=org_project)
    deploy.add_argument("--ref", required=True, metavar="REF", help="commit, tag or branch")
    deploy.add_argument("--environment", default="production", metavar="ENV")
    add_json_flag(deploy)
    deploy.set_defaults(handler=cmd_deploy)
    return parser


def parse_args(argv) -> argparse.Namespace | int:
    """Parsed arguments, or argparse's exit code (2 for usage, 0 for --help)."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code (the console script passes it to sys.exit)."""
    args = parse_args(argv)
    if isinstance(args, int):
        return args
    try:
        base_url = api_base(os.environ)
        token, legacy = resolve_token(os.environ)
        if legacy:
            print(LEGACY_WARNING, file=sys.stderr)
        return args.handler(Client(base_url, token, legacy_warned=legacy), args)
    except CliError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
