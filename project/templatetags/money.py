"""`{{ amount|usd }}`: money on every page, by project.money's rule ("$1.23")."""

from __future__ import annotations

from decimal import InvalidOperation

from django import template

from project.money import usd as usd_text

register = template.Library()


@register.filter
def usd(amount) -> str:
    """Empty for a missing or unreadable amount (metadata written by older versions)."""
    if amount is None or amount == "":
        return ""
    try:
        return usd_text(amount)
    except (InvalidOperation, TypeError, ValueError):
        return ""
