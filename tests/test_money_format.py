"""CHF amounts are written by Python's format() on the hot path: the digits must stay exactly those
babel writes for the same pattern (the commune's CHF 1'234.50), rounding included."""

from decimal import Decimal

from babel import Locale
from babel.numbers import parse_pattern
from hypothesis import given, strategies as st

from plume.documents.formatting import format_chf

EN_US = Locale.parse("en_US")


@given(st.decimals(min_value=Decimal("-1e14"), max_value=Decimal("1e14"), allow_nan=False, allow_infinity=False,
                   places=4))
def test_money_digits_match_babel(value):
    expected = "CHF " + parse_pattern("#,##0.00").apply(value, EN_US).replace(",", "'")
    assert format_chf(value) == expected


def test_swiss_grouping_and_half_even_rounding():
    assert format_chf(Decimal("1234.5")) == "CHF 1'234.50"
    assert format_chf(Decimal("2.675")) == format_chf(Decimal("2.68"))
    assert format_chf(1234567) == "CHF 1'234'567.00"
