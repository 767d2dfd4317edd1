"""tokendesk-cli is its own distribution: standard library only, one package, the server's
version, built reproducibly."""

import ast
import hashlib
import io
import subprocess
import sys
import warnings
import zipfile
from email.parser import Parser

import pytest
from django.conf import settings

from config.cli_downloads import build_pyz, build_wheel, cli_version, wheel_name

SOURCE = settings.BASE_DIR / "clients" / "cli"
VERSION = cli_version(SOURCE)
DIST_INFO = f"tokendesk_cli-{VERSION}.dist-info"


@pytest.fixture(scope="module")
def wheel() -> bytes:
    return build_wheel(SOURCE)


def test_the_wheel_holds_only_the_package_and_its_dist_info(wheel):
    names = zipfile.ZipFile(io.BytesIO(wheel)).namelist()

    assert {name.split("/")[0] for name in names} == {"tokendesk_cli", DIST_INFO}
    assert {
        f"{DIST_INFO}/{part}" for part in ("METADATA", "WHEEL", "RECORD", "entry_points.txt")
    } <= set(names)
    assert "tokendesk_cli/cli.py" in names and "tokendesk_cli/scan.py" in names
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


def test_the_wheel_declares_no_dependency_and_the_console_script(wheel):
    archive = zipfile.ZipFile(io.BytesIO(wheel))
    metadata = Parser().parsestr(archive.read(f"{DIST_INFO}/METADATA").decode())

    assert metadata["Name"] == "tokendesk-cli"
    assert metadata["Version"] == VERSION
    assert metadata.get_all("Requires-Dist") is None
    assert (
        "tokendesk = tokendesk_cli.cli:main"
        in archive.read(f"{DIST_INFO}/entry_points.txt").decode()
    )
    assert "Tag: py3-none-any" in archive.read(f"{DIST_INFO}/WHEEL").decode()


def test_the_record_lists_every_file_with_its_hash(wheel):
    archive = zipfile.ZipFile(io.BytesIO(wheel))
    rows = [line.split(",") for line in archive.read(f"{DIST_INFO}/RECORD").decode().splitlines()]
    assert sorted(row[0] for row in rows) == sorted(archive.namelist())
    for name, digest, size in rows:
        if name.endswith("RECORD"):
            continue
        data = archive.read(name)
        assert digest.startswith("sha256=") and int(size) == len(data)


def test_the_imports_are_standard_library_only():
    for path in (SOURCE / "tokendesk_cli").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            for module in modules:
                top = module.split(".")[0]
                assert top == "tokendesk_cli" or top in sys.stdlib_module_names, (path, module)


def test_pip_installs_one_package_and_the_command(wheel, tmp_path):
    wheel_path = tmp_path / wheel_name(VERSION)
    wheel_path.write_bytes(wheel)
    target = tmp_path / "site"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
         "--target", str(target), str(wheel_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    installed = {path.name for path in target.iterdir()}
    assert installed == {"tokendesk_cli", DIST_INFO, "bin"}
    assert [path.name for path in (target / "bin").iterdir()] == ["tokendesk"]
    version = subprocess.run(
        [sys.executable, "-c", "from tokendesk_cli.cli import main; main(['--version'])"],
        env={"PYTHONPATH": str(target)}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert version.stdout == f"tokendesk {VERSION}\n"


def test_the_builds_are_reproducible(wheel):
    assert hashlib.sha256(build_wheel(SOURCE)).digest() == hashlib.sha256(wheel).digest()
    assert build_pyz(SOURCE) == build_pyz(SOURCE)
    for info in zipfile.ZipFile(io.BytesIO(wheel)).infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)


def test_the_server_and_the_cli_build_with_the_one_version(monkeypatch):
    """Both pyproject.toml files resolve their version from tokendesk_cli/__init__.py, as
    setuptools would when building them."""
    pyprojecttoml = pytest.importorskip("setuptools.config.pyprojecttoml")
    versions = {}
    for name, project in (("cli", SOURCE), ("server", settings.BASE_DIR)):
        monkeypatch.chdir(project)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # setuptools' "beta" notice for [tool.setuptools]
            config = pyprojecttoml.read_configuration(project / "pyproject.toml")
        versions[name] = config["project"]["version"]
        assert "scripts" not in config["project"] or name == "cli"

    assert versions == {"cli": VERSION, "server": VERSION}


def test_the_cli_imports_no_django():
    script = (
        "import sys; import tokendesk_cli.cli, tokendesk_cli.scan; "
        "assert not any(m.split('.')[0] in ('django', 'tokens', 'config') for m in sys.modules)"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(SOURCE)!r}); {script}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
