"""URL and input helpers for database ids: digits that fit a 64-bit column, so an absurd id
is a 404, not an overflow in the database driver."""

from django import forms
from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


def parse_id(raw: str | None) -> int | None:
    """A positive database id from untrusted text, or None."""
    if not raw or not raw.isascii() or not raw.isdecimal() or len(raw) > 18:
        return None
    value = int(raw)
    return value if value > 0 else None


class ModelIdsField(forms.ModelMultipleChoiceField):
    """A multiple choice of rows by id that refuses ids no database column can hold, before
    they reach the database (SQLite's driver overflows on them)."""

    def _check_values(self, value):
        for raw in value:
            if parse_id(str(raw)) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": raw},
                )
        return super()._check_values(value)
