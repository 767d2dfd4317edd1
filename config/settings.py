"""Tokendesk settings. Production differs from development only by environment variables."""

import os
import tempfile
from pathlib import Path

import dj_database_url
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured

from accounts import oidc_settings
from config.env import env_bool, env_int, env_list, env_networks, env_str, load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent

# Off unless asked for (`make run` and the tests set DEBUG=1): a forgotten variable must never
# serve tracebacks.
DEBUG = env_bool("DEBUG", default=False)
if DEBUG:
    load_dotenv(BASE_DIR / ".env", create=env_bool("TOKENDESK_CREATE_DOTENV", default=True))

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set it in the environment (e.g. `python -c "
        "'import secrets; print(secrets.token_urlsafe(50))'`)."
    )

# HMAC key for token digests. Deliberately not validated here: a missing or short salt must
# not stop the site; token generation shows a configuration error and `check` reports it.
TOKEN_HASH_SALT = env_str("TOKEN_HASH_SALT")
# Salts being rotated out, newest first: tokens digested under them still verify and are
# re-digested under TOKEN_HASH_SALT on first use.
TOKEN_HASH_SALT_PREVIOUS = env_list("TOKEN_HASH_SALT_PREVIOUS", [])
TOKEN_PREFIX = env_str("TOKEN_PREFIX", "tdk")
# On PostgreSQL the token lookup is a server-side prepared statement, planned once per
# connection (tokens/lookup.py). Off behind a pooler that cannot keep them (PgBouncer in
# transaction mode before 1.21).
TOKEN_LOOKUP_PREPARED = env_bool("TOKEN_LOOKUP_PREPARED", default=True)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials.apps.SimpleAppConfig",
    "ninja",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_tasks",
    "django_tasks_db",
    "ops",
    "lib",
    "accounts",
    "orgs",
    "tokens",
    "events",
    "trust",
]

MIDDLEWARE = [
    # Outermost, so it times and counts every answer; absent unless metrics or JSON logs are on.
    "config.metrics.RequestObservability",
    "django.middleware.security.SecurityMiddleware",
    "ops.middleware.ContentSecurityPolicy",
    "ops.middleware.PermissionsPolicy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "orgs.middleware.SignInRequirementRedirect",
    # Outside JsonApiErrors, so it counts the status the client gets.
    "tokens.middleware.TokenUsageRecorder",
    "tokens.middleware.LegacyCredentialHeaders",
    "tokens.middleware.TokenExpiryHeader",
    "tokens.middleware.JsonApiErrors",
    "config.unavailable.DatabaseUnavailable",
    # Inside DatabaseUnavailable: it reads the session and the user from the database.
    "accounts.middleware.SessionActivity",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "orgs.context_processors.navigation",
                "accounts.context_processors.sign_in",
            ],
            # Partials as a builtin (no {% load %}), so Django 6's built-in partials is a
            # settings-only change.
            "builtins": ["template_partials.templatetags.partials", "lib.templatetags.ui"],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            # Explicit loaders turn off Django's default caching: put it back.
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue for the lock up front instead of failing mid-transaction, and readers
    # do not block the writer (WAL). The test database is a file so threads can share it.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"tokendesk-test-{os.getpid()}.sqlite3")
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and TOKEN_LOOKUP_PREPARED:
    # Django turns psycopg's statement preparation off (threshold None); the token lookup
    # asks for it by name (prepare=True), and nothing else is ever prepared automatically.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 2**31)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Sign-in, two-factor authentication and sessions: django-allauth (docs/security.md).
# E-mail is the login; there are no usernames. Nobody signs up unless TOKENDESK_OPEN_SIGNUP.
TOKENDESK_OPEN_SIGNUP = env_bool("TOKENDESK_OPEN_SIGNUP", default=False)
# Creating, resetting or rotating tokens, revoking all, changing roles, the deploy-auth
# switch and the 2FA settings need a sign-in (password or 2FA) within this many minutes.
REAUTHENTICATION_MINUTES = env_int("REAUTHENTICATION_MINUTES", 10)
# Wrong passwords (or 2FA codes) allowed per account and per client address in a window of
# SIGN_IN_LOCKOUT_MINUTES; the next attempt is refused until the window has passed.
SIGN_IN_ATTEMPTS = env_int("SIGN_IN_ATTEMPTS", 10)
SIGN_IN_LOCKOUT_MINUTES = env_int("SIGN_IN_LOCKOUT_MINUTES", 15)
# A session nobody used for this long is signed out.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 60 * 12)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60

ACCOUNT_ADAPTER = "config.allauth.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = REAUTHENTICATION_MINUTES * 60
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
_sign_in_window = f"{SIGN_IN_ATTEMPTS}/{SIGN_IN_LOCKOUT_MINUTES * 60}s"
ACCOUNT_RATE_LIMITS = {
    # Wrong passwords and wrong 2FA codes, per client address and per account.
    "login_failed": f"{_sign_in_window}/ip,{_sign_in_window}/key",
    "reauthenticate": f"{_sign_in_window}/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Tokendesk")
# WebAuthn needs HTTPS, except on http://localhost in development and tests.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env_bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=DEBUG)
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_RECOVERY_CODES_SHOW_ONCE = True
# Changes to 2FA go through Tokendesk's re-authentication (accounts/reauthentication.py).
MFA_REAUTHENTICATION_REQUIRED = False
# Sessions are listed from the login on; accounts.middleware.SessionActivity records when
# each was last seen (at most once a minute), so allauth's per-request write stays off.
USERSESSIONS_TRACK_ACTIVITY = False

# Single sign-on with one OpenID Connect provider (README "Single sign-on"). Off unless the
# issuer, client id and secret are all set; a partial set is a `check` warning (accounts.W001).
OIDC_SETTINGS = {
    name: env_str(name).strip() for name in (*oidc_settings.REQUIRED, "OIDC_PROVIDER_NAME")
}
OIDC_PROVIDER_ID = env_str("OIDC_PROVIDER_ID", "sso").strip() or "sso"
OIDC_PROVIDER_NAME = OIDC_SETTINGS["OIDC_PROVIDER_NAME"] or "single sign-on"
# New people may join through SSO only with an e-mail in one of these domains (or a pending
# invitation); the provider must say the address is verified.
OIDC_ALLOWED_EMAIL_DOMAINS = [
    d.lower().lstrip("@") for d in env_list("OIDC_ALLOWED_EMAIL_DOMAINS", [])
]
SOCIALACCOUNT_PROVIDERS = oidc_settings.providers(
    OIDC_SETTINGS, provider_id=OIDC_PROVIDER_ID, name=OIDC_PROVIDER_NAME
)
SOCIALACCOUNT_ADAPTER = "config.allauth.SocialAccountAdapter"
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_REQUIRED = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
# An existing account whose e-mail the provider has verified is signed in and connected.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# The database by default (a table created by `migrate`), so every app process shares one
# cache (the leak-report rate limit); Redis through CACHE_URL when there is one.
CACHES = {"default": {"BACKEND": "ops.cache.DatabaseCache", "LOCATION": "tokendesk_cache"}}
if env_str("CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("CACHE_URL"),
        }
    }

# Absolute links in e-mails.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Trusted publishing (docs/trusted-publishing.md): the OIDC issuers whose ID tokens a project's
# trust policy may accept, as issuer URL -> claim set ("github" or "gitlab"). More (a
# self-hosted GitLab) through TRUSTED_PUBLISHER_ISSUERS="gitlab=https://gitlab.example.com,…".
TRUSTED_PUBLISHER_ISSUERS = {
    "https://token.actions.githubusercontent.com": "github",
    "https://gitlab.com": "gitlab",
}
for _entry in env_list("TRUSTED_PUBLISHER_ISSUERS", []):
    _kind, _, _url = _entry.partition("=")
    if _kind.strip() not in ("github", "gitlab") or not _url.strip().startswith("https://"):
        raise ImproperlyConfigured(
            f"TRUSTED_PUBLISHER_ISSUERS: expected github=https://… or gitlab=https://…: {_entry}"
        )
    TRUSTED_PUBLISHER_ISSUERS[_url.strip().rstrip("/")] = _kind.strip()
# The audience a policy expects by default: this server's address.
TRUSTED_PUBLISHER_AUDIENCE = env_str("TRUSTED_PUBLISHER_AUDIENCE", SITE_URL)
# Tests only: lets a loopback http:// issuer serve its discovery document and keys.
TRUSTED_PUBLISHER_ALLOW_INSECURE_ISSUERS = False
TRUSTED_PUBLISHER_JWKS_TTL = env_int("TRUSTED_PUBLISHER_JWKS_TTL", 3600)
TRUSTED_PUBLISHER_JWKS_REFRESH_SECONDS = 60
TRUSTED_PUBLISHER_HTTP_TIMEOUT = 5
# Exchanges per client address per minute (POST /api/v1/oidc/token); more answer 429.
TRUSTED_PUBLISHER_EXCHANGES_PER_MINUTE = env_int("TRUSTED_PUBLISHER_EXCHANGES_PER_MINUTE", 60)
# Days an exchange's token is kept after it expired, then deleted with its exchange record
# (the audit log keeps the exchange).
TRUSTED_PUBLISHER_TOKENS_KEPT_DAYS = env_int("TRUSTED_PUBLISHER_TOKENS_KEPT_DAYS", 30)
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "tokendesk@localhost")

# Background jobs (django-tasks, the backport of Django 6's django.tasks): e-mails and webhook
# deliveries are queued in the database and run by `manage.py worker`, which also runs the
# scheduled work. TASKS_BACKEND=immediate runs each job inline instead (no worker needed).
TASKS_BACKEND = env_str("TASKS_BACKEND", "database")
if TASKS_BACKEND not in {"database", "immediate"}:
    raise ImproperlyConfigured("TASKS_BACKEND must be 'database' or 'immediate'.")
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend"
        if TASKS_BACKEND == "database"
        else "django_tasks.backends.immediate.ImmediateBackend"
    }
}
# How often a worker runs the scheduled work (expiry notices, webhook retries).
SCHEDULER_INTERVAL_SECONDS = env_int("SCHEDULER_INTERVAL_SECONDS", 60)

# Per-token usage counters (tokens/usage.py): how many days of them the scheduled purge keeps.
TOKENDESK_USAGE_RETENTION_DAYS = env_int("TOKENDESK_USAGE_RETENTION_DAYS", 90)
if TOKENDESK_USAGE_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("TOKENDESK_USAGE_RETENTION_DAYS must be at least 1 (days).")

# Organization webhooks (docs/webhooks.md). Signing secrets are encrypted at rest with a key
# derived from WEBHOOK_SECRET_KEY, or from SECRET_KEY when it is unset.
WEBHOOK_SECRET_KEY = env_str("WEBHOOK_SECRET_KEY")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_RETRY_HOURS = env_int("WEBHOOK_RETRY_HOURS", 24)
WEBHOOKS_REQUIRE_HTTPS = env_bool("WEBHOOKS_REQUIRE_HTTPS", default=True)
# Only for tests and closed networks: let endpoints resolve to loopback or private addresses.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe, and Prometheus scrapes, instances over plain HTTP.
    SECURE_SSL_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

# Proxies whose X-Forwarded-For is believed (addresses or CIDRs, comma-separated): the client
# address is the rightmost hop that is not one of them (ops/client_address.py,
# docs/security.md). Empty: REMOTE_ADDR is the client, whatever the headers say.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
# Which request header tells that the proxy in front received HTTPS, e.g. X-Forwarded-Proto.
# Only set it when a proxy always sets (or strips) that header: a client could send it too.
if _proxy_ssl_header := env_str("SECURE_PROXY_SSL_HEADER").strip():
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _proxy_ssl_header.upper().replace("-", "_").removeprefix("HTTP_"),
        "https",
    )

# No inline script or style anywhere (htmx's indicator styles and eval are switched off in
# base.html's htmx-config); data: images are the CSS icons of Pico and Swagger UI.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:"],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}
# Browser features no page uses are off; the clipboard is written by "Copy to clipboard".
PERMISSIONS_POLICY = {
    "camera": [],
    "microphone": [],
    "geolocation": [],
    "payment": [],
    "usb": [],
    "clipboard-write": ["self"],
}

# Prometheus metrics at /metrics (config/metrics.py): off unless METRICS_ENABLED. With
# METRICS_TOKEN set, a scrape must send `Authorization: Bearer <METRICS_TOKEN>`; without it
# /metrics is open, for a network where only the scraper reaches the app. Under gunicorn
# with several workers, set PROMETHEUS_MULTIPROC_DIR to an empty directory (docs/production.md).
METRICS_ENABLED = env_bool("METRICS_ENABLED", default=False)
METRICS_TOKEN = env_str("METRICS_TOKEN")
# One JSON line per request on the `tokendesk.requests` logger: route template, status,
# duration and the calling token's id (never a token, a path or a query string).
LOG_REQUESTS_JSON = env_bool("LOG_REQUESTS_JSON", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"bare": {"format": "%(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "requests": {"class": "logging.StreamHandler", "formatter": "bare"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "tokendesk.requests": {"handlers": ["requests"], "level": "INFO", "propagate": False}
    },
}

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 100
