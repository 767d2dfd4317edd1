"""Settings for `make bench` only: the project's settings, production-like where it matters
for speed (DEBUG off, no query log), runnable on a laptop (plain HTTP, fixed bench-only
secrets, a throwaway SQLite file), plus the comparison libraries and their endpoints."""

import os
from pathlib import Path

# config.settings reads the environment when imported. Import it in its development shape
# (plain static storage, no HTTPS redirect) with fixed bench secrets, and without creating a
# .env in the checkout; then switch DEBUG off below.
_saved = {name: os.environ.get(name) for name in ("DEBUG", "TOKENDESK_CREATE_DOTENV")}
os.environ["DEBUG"] = "1"
os.environ["TOKENDESK_CREATE_DOTENV"] = "0"
# Bench-only values, never used outside this throwaway database.
os.environ["SECRET_KEY"] = "bench-only-secret-key-not-for-any-real-deployment-0123456789"  # noqa: S105
os.environ["TOKEN_HASH_SALT"] = "bench-only-token-hash-salt-0123456789abcdef"  # noqa: S105
os.environ["TOKEN_PREFIX"] = "tdk"  # noqa: S105

from config.settings import *  # noqa: E402, F403
from config.settings import BASE_DIR, DATABASES, INSTALLED_APPS  # noqa: E402

for _name, _value in _saved.items():
    if _value is None:
        os.environ.pop(_name, None)
    else:
        os.environ[_name] = _value

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

BENCH_DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", BASE_DIR / "bench" / ".data"))
# SQLite in bench/.data/ unless BENCH_DATABASE_URL names the throwaway PostgreSQL database
# bench/run.py started (bench/pgcluster.py); never the project's own DATABASE_URL.
if os.environ.get("BENCH_DATABASE_URL"):
    import dj_database_url

    DATABASES["default"] = dj_database_url.parse(os.environ["BENCH_DATABASE_URL"])
    DATABASES["default"]["OPTIONS"] = {"prepare_threshold": 2**31}
else:
    DATABASES["default"]["NAME"] = str(BENCH_DATA_DIR / "bench.sqlite3")
DATABASES["default"]["CONN_MAX_AGE"] = 600

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "rest_framework",
    "rest_framework.authtoken",
    "knox",
    "rest_framework_api_key",
]
ROOT_URLCONF = "bench.urls"

# Static files are served from the finders without rescanning per request.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

# Tokens are never logged; 401s of the invalid-token measurements would only add noise.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "ERROR"},
}

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": [],
}

# WhiteNoise wants STATIC_ROOT to exist; the bench never collects static files into it.
STATIC_ROOT = BENCH_DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
