import pytest
from django.conf import settings

from config.cli_downloads import build_pyz
from tests.cli.fake_api import api  # noqa: F401 (the fake API fixture for every CLI test)


@pytest.fixture(scope="session")
def served_pyz(tmp_path_factory):
    """The zipapp the server serves, built from clients/cli/ as the server builds it."""
    path = tmp_path_factory.mktemp("cli") / "tokendesk.pyz"
    path.write_bytes(build_pyz(settings.BASE_DIR / "clients" / "cli"))
    return path
