"""Quantity parsing mirrors k8s.io/apimachinery resource.ParseQuantity."""

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from podc.kube.quantity import (
    QUANTITY_EXPECTED,
    compare_quantities,
    format_quantity,
    is_quantity,
    parse_quantity,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0", 0),
        ("2", 2),
        ("500m", Decimal("0.5")),
        ("100n", Decimal("0.0000001")),
        ("5u", Decimal("0.000005")),
        ("1k", 1000),
        ("1M", 10**6),
        ("1G", 10**9),
        ("1T", 10**12),
        ("1P", 10**15),
        ("1E", 10**18),  # capital E alone is exa, not an exponent
        ("1Ki", 1024),
        ("512Mi", 512 * 2**20),
        ("1.5Gi", 3 * 2**29),
        ("1Ti", 2**40),
        ("1Pi", 2**50),
        ("2Ei", 2 * 2**60),
        ("1e3", 1000),
        ("1E3", 1000),
        ("1e+3", 1000),
        ("25e-2", Decimal("0.25")),
        ("1.", 1),  # Go allows a bare trailing dot
        (".5", Decimal("0.5")),
        ("+1", 1),
        ("-1m", Decimal("-0.001")),
        ("0.1", Decimal("0.1")),  # exact, no float rounding
        ("007", 7),
        (3, 3),
        (0.25, Decimal("0.25")),
    ],
)
def test_parse_valid(text, expected):
    assert parse_quantity(text) == Decimal(expected)
    assert is_quantity(text)


@pytest.mark.parametrize(
    "text",
    ["", " 1", "1 ", "1K", "1ki", "1kb", "1e", "1e+", "1Ki3", "1.5.5", "abc", "-", ".", "1m1", "Mi",
     "1,5", "1_000", "0x10", "1mi", "1gi", "1e3.5", "١"],
)
def test_parse_invalid(text):
    with pytest.raises(ValueError) as info:
        parse_quantity(text)
    assert QUANTITY_EXPECTED in str(info.value)
    assert repr(text) in str(info.value)
    assert not is_quantity(text)


@pytest.mark.parametrize("value", [True, None, [1], {"a": 1}, float("nan"), float("inf")])
def test_non_quantities(value):
    assert not is_quantity(value)
    with pytest.raises(ValueError):
        parse_quantity(value)


def test_error_mentions_spaces():
    with pytest.raises(ValueError, match="leading or trailing spaces"):
        parse_quantity(" 1Gi")


def test_compare():
    assert compare_quantities("1Gi", "1G") == 1
    assert compare_quantities("1000m", "1") == 0
    assert compare_quantities("250m", "0.5") == -1


@pytest.mark.parametrize(
    "value, binary, expected",
    [(Decimal("0.5"), False, "500m"), (1000, False, "1k"), (0, False, "0"), (2**30, True, "1Gi"),
     (1536, True, "1536"), (1536 * 1024, True, "1536Ki"), (Decimal("1.5"), False, "1500m"),
     (Decimal("0.0000000001"), False, "1n")],
)
def test_format(value, binary, expected):
    assert format_quantity(value, binary=binary) == expected


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["n", "u", "m", "", "k", "M", "G"]))
def test_format_round_trips(n, suffix):
    value = parse_quantity(f"{n}{suffix}")
    assert parse_quantity(format_quantity(value)) == value


@given(st.integers(min_value=0, max_value=2**62))
def test_binary_format_round_trips(n):
    assert parse_quantity(format_quantity(n, binary=True)) == n
