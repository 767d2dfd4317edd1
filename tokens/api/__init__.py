"""The JSON API at /api/v1/. `core` holds authentication and errors; `routes` the endpoints."""

from tokens.api import routes  # noqa: F401  (registers the endpoints)
from tokens.api.core import api

__all__ = ["api"]
