"""Money as text: the one rule every page, message, formula and metadata field uses.

Whole cents are shown with two decimals ("$1.40", "$0.27"). Fractions of a cent are kept,
never rounded away: a per-second rate of $0.045 or a provider's actual cost of $0.0315 is
what is charged, and a rounded figure would disagree with the sum it explains. Estimates
are rounded up to the cent by generation.pricing before they get here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def usd_figure(amount) -> str:
    """The plain decimal: 0.27 -> "0.27", 1.4 -> "1.40", 0.0315 -> "0.0315", 3 -> "3.00"."""
    value = _decimal(amount)
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def usd(amount) -> str:
    """The amount in dollars: "$1.23" ("-$0.50" below zero; see the module for cents)."""
    figure = usd_figure(amount)
    return f"-${figure[1:]}" if figure.startswith("-") else f"${figure}"


def _decimal(amount) -> Decimal:
    if isinstance(amount, Decimal):
        value = amount
    elif isinstance(amount, float):
        value = Decimal(repr(amount))  # 0.1 -> 0.1, not its binary expansion
    else:
        value = Decimal(str(amount).strip())
    if not value.is_finite():
        raise InvalidOperation(f"not an amount: {amount!r}")
    return value + 0  # -0 -> 0


__all__ = ["usd", "usd_figure"]
