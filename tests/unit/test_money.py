"""project.money: the one rule for money as text (whole cents with two decimals, fractions
of a cent kept), and the `usd` template filter every page uses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template

from project.money import usd, usd_figure


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("0.27"), "$0.27"),
        (Decimal("0.2700"), "$0.27"),  # trailing zeros of a DecimalField
        (Decimal("1.4"), "$1.40"),
        (Decimal("20"), "$20.00"),
        (Decimal("1E+1"), "$10.00"),
        (0, "$0.00"),
        (Decimal("-0"), "$0.00"),
        # Fractions of a cent are charged, so they are shown, not rounded away.
        (Decimal("0.045"), "$0.045"),
        (Decimal("0.0315"), "$0.0315"),
        (Decimal("19.9685"), "$19.9685"),
        (1.25, "$1.25"),
        (0.1, "$0.10"),  # a float's short form, not its binary expansion
        ("0.00", "$0.00"),
        (Decimal("-0.5"), "-$0.50"),
    ],
)
def test_usd(amount, text):
    assert usd(amount) == text
    assert usd_figure(amount) == text.replace("$", "")


@pytest.mark.parametrize(
    ("value", "html"),
    [
        (Decimal("2.8"), "$2.80"),
        (Decimal("0.045"), "$0.045"),
        ("0.27", "$0.27"),
        (None, ""),
        ("", ""),
        ("n/a", ""),  # unreadable metadata shows nothing rather than failing the page
        ("NaN", ""),
    ],
)
def test_usd_template_filter(value, html):
    template = Template("{% load money %}{{ value|usd }}")
    assert template.render(Context({"value": value})) == html
