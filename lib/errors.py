"""The one error a domain rule raises when a person can fix the input."""


class RuleError(ValueError):
    """Input a person can fix; `field` says which form field it belongs next to. The API
    answers it with 422 `validation_error` (tokens/api/core.py)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
