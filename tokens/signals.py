"""Signals the tokens app sends, for whoever listens (it imports no listener).

token_verified(outcome, seconds), sender Credential: after every verification of a presented
token, `outcome` being "valid" or the reason it was refused (InvalidToken.reason), `seconds`
the time it took. /metrics counts them (config/metrics.py)."""

from django.dispatch import Signal

token_verified = Signal(use_caching=True)
