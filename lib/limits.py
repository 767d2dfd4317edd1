"""Limits written once, for forms, services, the API schema and templates."""

# The longest lifetime any token may be given, and the highest organization cap on it.
MAX_TOKEN_LIFETIME_DAYS = 3650
