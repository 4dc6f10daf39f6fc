"""Points from a purchase: the program's earn rule applied to an amount, with the input checks.

Points programs earn `points_per_unit` per *whole* currency unit, rounded down (12.99 EUR at 10
per unit is 120, not 129): the contract's EarnRule says so and it matches what customers read on a
counter sign. A stamps program earns `points_per_unit` stamps per qualifying visit, whatever the
amount. Below the minimum spend nothing is earned, and the request is refused rather than posting a
zero-point transaction the customer would see.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Literal

from nujoomy_ledger.domain.errors import (
    BelowMinimumSpend,
    CurrencyMismatch,
    InvalidAmount,
    InvalidPoints,
    UnknownCurrency,
)

# One purchase above this is a typo or an attack, not a sale at a loyalty counter.
MAX_AMOUNT = Decimal("1000000")
MAX_POINTS = 1_000_000

# ISO 4217 codes in circulation (the list a tenant can pick from; minor units do not matter here).
# fmt: off
CURRENCIES = frozenset((
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN",
    "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF",
    "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
    "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG",
    "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF",
    "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA",
    "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO",
    "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD",
    "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN",
    "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD",
    "UYU", "UZS", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWL",
))
# fmt: on


def parse_amount(value: str) -> Decimal:
    """A positive decimal string with at most 4 decimals and not absurdly large."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        raise InvalidAmount(f"{value!r} is not a decimal number", field="amount.value") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidAmount("The amount must be a positive number", field="amount.value")
    if amount > MAX_AMOUNT:
        raise InvalidAmount(f"The amount must be at most {MAX_AMOUNT}", field="amount.value")
    if -amount.as_tuple().exponent > 4:  # type: ignore[operator]
        raise InvalidAmount("The amount has more than 4 decimals", field="amount.value")
    return amount


def check_currency(currency: str, program_currency: str) -> None:
    if currency not in CURRENCIES:
        raise UnknownCurrency(f"{currency!r} is not an ISO 4217 currency code", field="amount.currency")
    if currency != program_currency:
        raise CurrencyMismatch(
            f"The program earns in {program_currency}, not {currency}", field="amount.currency"
        )


# Above this one earn needs a manager's approval when a staff member posts it, unless the program
# sets its own maximum: a latte is a few points or one stamp, so these leave room for a big order.
DEFAULT_TRANSACTION_MAXIMUM = {"points": 1000, "stamps": 10}


def transaction_maximum(program_type: Literal["points", "stamps"], configured: int | None) -> int:
    return configured if configured is not None else DEFAULT_TRANSACTION_MAXIMUM[program_type]


def check_points(points: int) -> int:
    if points <= 0 or points > MAX_POINTS:
        raise InvalidPoints(f"Points must be between 1 and {MAX_POINTS}", field="points")
    return points


def points_for_amount(
    amount: Decimal,
    *,
    program_type: Literal["points", "stamps"],
    points_per_unit: int,
    minimum_spend: str | None,
) -> int:
    if minimum_spend is not None and amount < Decimal(minimum_spend):
        raise BelowMinimumSpend(f"The minimum spend is {minimum_spend}", minimum_spend=minimum_spend)
    if program_type == "stamps":
        return points_per_unit
    whole_units = int(amount.to_integral_value(rounding=ROUND_FLOOR))
    points = whole_units * points_per_unit
    if points <= 0:
        raise BelowMinimumSpend("This amount earns no points", minimum_spend="1")
    return min(points, MAX_POINTS)
