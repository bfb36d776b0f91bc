"""Database ids read from form and query input.

Every id column is a PostgreSQL bigint; a larger number reaches the driver as an
OverflowError (a 500) instead of "not found". Every id the HTML routes read from a form
or a query string goes through `parse_id` / `IdField` / `IdListField`, so an absurd id is
a 400 with a sentence (or a form field error), never a 5xx.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

ID_MIN = 1
ID_MAX = 2**63 - 1  # PostgreSQL bigint
MAX_ID_DIGITS = len(str(ID_MAX))
NOT_AN_ID = "must be a whole number from 1 to 9223372036854775807."


class InvalidId(ValueError):
    """The value is not a database id; views answer 400 (or 404 where ids are hidden)."""


def parse_id(value) -> int:
    """A positive bigint from a string (or int); InvalidId otherwise."""
    if isinstance(value, bool):
        raise InvalidId(NOT_AN_ID)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip() if value is not None else ""
        # isdecimal() alone would accept other scripts' digits ("٣"); ids are ASCII.
        if not (text.isascii() and text.isdigit()) or len(text) > MAX_ID_DIGITS:
            raise InvalidId(NOT_AN_ID)
        number = int(text)
    if not ID_MIN <= number <= ID_MAX:
        raise InvalidId(NOT_AN_ID)
    return number


def parse_optional_id(value) -> int | None:
    """None for a missing or empty value, else `parse_id`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_id(value)


class IdField(forms.IntegerField):
    """A form field for one id: bounded to the database's positive bigint range."""

    default_error_messages = {"invalid": f"Enter a number that {NOT_AN_ID}"}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", ID_MIN)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_id(value)
        except InvalidId as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


class IdListField(forms.CharField):
    """Comma-separated ids ("4,9,12") -> [4, 9, 12], each bounded, duplicates dropped."""

    def __init__(self, *, max_ids: int = 500, noun: str = "id", **kwargs):
        self.max_ids = max_ids
        self.noun = noun
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return []
        parts = text.split(",")
        # Count before parsing: a million commas must not be a million int() calls.
        if len(parts) > self.max_ids:
            raise ValidationError(f"At most {self.max_ids} {self.noun}s at once.", code="too_many")
        ids = []
        for part in parts:
            try:
                ids.append(parse_id(part))
            except InvalidId as exc:
                raise ValidationError(
                    f"{self.noun.capitalize()} ids must be whole numbers from 1 to {ID_MAX},"
                    " separated by commas.",
                    code="invalid",
                ) from exc
        return list(dict.fromkeys(ids))
