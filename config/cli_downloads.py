"""The CLI, served by the server it talks to: `/cli/` (a page with hashes and CI steps),
`/cli/tokendesk.pyz` (a zipapp for any python3), its `.sha256`, and the wheel.

An operational face like the guides, not a domain: it has no models and needs no sign-in,
so it lives under config/ rather than in an app. Both files are built from clients/cli/
once per process, reproducibly (sorted entries, fixed timestamps and modes), so every app
process behind a load balancer serves the same bytes and the hash shown is the hash served.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

PACKAGE = "tokendesk_cli"
DISTRIBUTION = "tokendesk_cli"  # the normalised name in wheel file names
PYZ_NAME = "tokendesk.pyz"
# Zip cannot store times before 1980; any fixed value makes the archive reproducible.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644 << 16
PYZ_MAIN = (
    "# tokendesk zipapp: python3 tokendesk.pyz COMMAND ...\n"
    "import sys\n\n"
    "from tokendesk_cli.cli import main\n\n"
    "sys.exit(main())\n"
)


def cli_source_dir() -> Path:
    return settings.BASE_DIR / "clients" / "cli"


def cli_version(source: Path | None = None) -> str:
    """`__version__` from the CLI's package, read without importing it: the one place the
    version is written (both pyproject.toml files read it too)."""
    init = (source or cli_source_dir()) / PACKAGE / "__init__.py"
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__version__" for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise LookupError(f"no __version__ in {init}")


def _package_files(source: Path) -> list[tuple[str, bytes]]:
    package = source / PACKAGE
    return sorted(
        (f"{PACKAGE}/{path.relative_to(package).as_posix()}", path.read_bytes())
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
    )


def _write_zip(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
    info.external_attr = FILE_MODE
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest},{len(data)}"


def _metadata(source: Path, version: str) -> str:
    readme = (source / "README.md").read_text()
    return (
        "Metadata-Version: 2.1\n"
        "Name: tokendesk-cli\n"
        f"Version: {version}\n"
        "Summary: Command-line client for Tokendesk: tokens, deployments, leaked-token scans.\n"
        "Requires-Python: >=3.9\n"
        "Description-Content-Type: text/markdown\n"
        f"\n{readme}"
    )


def wheel_name(version: str) -> str:
    return f"{DISTRIBUTION}-{version}-py3-none-any.whl"


def build_wheel(source: Path) -> bytes:
    """A pure-Python wheel of tokendesk_cli: the package and its dist-info, nothing else
    (no dependencies). What pip would install from clients/cli/."""
    version = cli_version(source)
    dist_info = f"{DISTRIBUTION}-{version}.dist-info"
    files = [
        *_package_files(source),
        (f"{dist_info}/METADATA", _metadata(source, version).encode()),
        (
            f"{dist_info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: tokendesk\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        (
            f"{dist_info}/entry_points.txt",
            b"[console_scripts]\ntokendesk = tokendesk_cli.cli:main\n",
        ),
    ]
    record = "".join(f"{name},{_record_hash(data)}\n" for name, data in files)
    record += f"{dist_info}/RECORD,,\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files:
            _write_zip(archive, name, data)
        _write_zip(archive, f"{dist_info}/RECORD", record.encode())
    return buffer.getvalue()


def build_pyz(source: Path) -> bytes:
    """A zipapp (PEP 441): `python3 tokendesk.pyz …` or `./tokendesk.pyz …`."""
    buffer = io.BytesIO()
    buffer.write(b"#!/usr/bin/env python3\n")
    # ZipFile records offsets from where it starts, after the shebang, as zipapp does.
    with zipfile.ZipFile(buffer, "w") as archive:
        _write_zip(archive, "__main__.py", PYZ_MAIN.encode())
        for name, data in _package_files(source):
            _write_zip(archive, name, data)
    return buffer.getvalue()


@dataclass(frozen=True)
class Download:
    name: str
    content: bytes
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def size_kb(self) -> str:
        return f"{len(self.content) / 1024:.1f} KB"


@dataclass(frozen=True)
class Downloads:
    version: str
    pyz: Download
    wheel: Download

    def by_name(self, name: str) -> Download | None:
        return {self.pyz.name: self.pyz, self.wheel.name: self.wheel}.get(name)


@lru_cache(maxsize=1)
def downloads() -> Downloads:
    """Built on first use, once per process."""
    source = cli_source_dir()
    version = cli_version(source)
    return Downloads(
        version=version,
        pyz=Download(PYZ_NAME, build_pyz(source), "application/zip"),
        wheel=Download(wheel_name(version), build_wheel(source), "application/zip"),
    )


def _site_root(request: HttpRequest) -> str:
    """The address this server was reached at, so the steps download from it."""
    return request.build_absolute_uri("/").rstrip("/")


@require_safe
def cli_page(request: HttpRequest) -> HttpResponse:
    built = downloads()
    root = _site_root(request)
    context = {
        "downloads": built,
        "files": [built.pyz, built.wheel],
        "root": root,
        "github_actions": github_actions_steps(root, built.pyz.sha256),
        "gitlab_ci": gitlab_ci_steps(root, built.pyz.sha256),
        "oidc": oidc_steps(root, built.pyz.sha256),
    }
    return render(request, "cli.html", context)


def _file_response(content: bytes, content_type: str, etag: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["ETag"] = f'"{etag}"'
    # Short: a server upgrade changes the bytes behind the same name.
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_safe
def cli_file(request: HttpRequest, name: str) -> HttpResponse:
    built = downloads()
    if name.endswith(".sha256"):
        download = built.by_name(name.removesuffix(".sha256"))
        if download is None:
            raise Http404
        # The format `sha256sum -c` reads.
        line = f"{download.sha256}  {download.name}\n"
        return _file_response(line.encode(), "text/plain; charset=utf-8", download.sha256)
    download = built.by_name(name)
    if download is None:
        raise Http404
    response = _file_response(download.content, download.content_type, download.sha256)
    response["Content-Disposition"] = f'attachment; filename="{download.name}"'
    return response


GITHUB_ACTIONS_STEP = """\
      - name: Deploy with Tokendesk
        env:
          TOKENDESK_URL: {root}
          TOKENDESK_TOKEN: ${{ secrets.TOKENDESK_TOKEN }}
        run: |
          curl -fsSLO "$TOKENDESK_URL/cli/tokendesk.pyz"
          echo "{sha256}  tokendesk.pyz" | sha256sum -c -
          python3 tokendesk.pyz deploy acme/web --ref "$GITHUB_SHA" --environment production
"""
GITLAB_CI_JOB = """\
deploy:
  stage: deploy
  image: python:3.12
  variables:
    TOKENDESK_URL: {root}
  script:
    - curl -fsSLO "$TOKENDESK_URL/cli/tokendesk.pyz"
    - echo "{sha256}  tokendesk.pyz" | sha256sum -c -
    - python3 tokendesk.pyz deploy acme/web --ref "$CI_COMMIT_SHA" --environment production
"""
# Trusted publishing (docs/trusted-publishing.md): no stored secret, the job's OIDC ID token
# is exchanged for a deployment token that lives minutes.
GITHUB_ACTIONS_OIDC_JOB = """\
  deploy:
    runs-on: ubuntu-latest
    environment: production
    permissions:
      id-token: write   # lets the job ask GitHub for its OIDC ID token
      contents: read
    steps:
      - name: Deploy with Tokendesk (trusted publishing)
        env:
          TOKENDESK_URL: {root}
        run: |
          curl -fsSLO "$TOKENDESK_URL/cli/tokendesk.pyz"
          echo "{sha256}  tokendesk.pyz" | sha256sum -c -
          python3 tokendesk.pyz deploy acme/web --oidc --ref "$GITHUB_SHA" --environment production
"""
GITLAB_CI_OIDC_JOB = """\
deploy:
  stage: deploy
  image: python:3.12
  environment: production
  variables:
    TOKENDESK_URL: {root}
  id_tokens:
    TOKENDESK_ID_TOKEN:
      aud: {root}
  script:
    - curl -fsSLO "$TOKENDESK_URL/cli/tokendesk.pyz"
    - echo "{sha256}  tokendesk.pyz" | sha256sum -c -
    - python3 tokendesk.pyz deploy acme/web --oidc --ref "$CI_COMMIT_SHA" --environment production
"""


def _fill(template: str, root: str, sha256: str) -> str:
    # Not str.format: the workflow syntax has braces of its own.
    return template.replace("{root}", root).replace("{sha256}", sha256)


def github_actions_steps(root: str, pyz_sha256: str) -> str:
    """A workflow step that downloads the CLI from this server, pins its hash and deploys."""
    return _fill(GITHUB_ACTIONS_STEP, root, pyz_sha256)


def gitlab_ci_steps(root: str, pyz_sha256: str) -> str:
    return _fill(GITLAB_CI_JOB, root, pyz_sha256)


def oidc_steps(root: str, pyz_sha256: str) -> dict[str, str]:
    """The same deploy without a stored secret, for GitHub Actions and GitLab CI."""
    return {
        "github": _fill(GITHUB_ACTIONS_OIDC_JOB, root, pyz_sha256),
        "gitlab": _fill(GITLAB_CI_OIDC_JOB, root, pyz_sha256),
    }
