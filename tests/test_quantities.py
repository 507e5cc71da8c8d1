"""The arithmetic of derived figures: a sum claims no more than its operands say."""

import pytest

from app.models.common import Quantity
from app.services.quantities import Sum, add, in_words


def troops(text: str, **numbers: int | bool) -> Quantity:
    return Quantity(unit="troops", text=text, **numbers)


ROUGHLY_2200 = troops("roughly 2,200", value=2200, approximate=True)
AROUND_1500 = troops("around 1,500", value=1500, approximate=True)
UP_TO_10000 = troops("up to 10,000", max=10000)
THOUSANDS = troops("thousands", min=2000, approximate=True)


def total(*operands: Quantity | None, unknown_is_zero_or_more: bool = False) -> Sum:
    result = add(operands, unknown_is_zero_or_more=unknown_is_zero_or_more)
    assert result is not None
    return result


def bounds(result: Sum) -> tuple[int | None, int | None, int | None, bool]:
    return result.value, result.min, result.max, result.approximate


def test_exact_plus_exact_is_exact() -> None:
    result = total(troops("500 troops", value=500), troops("1,000 troops", value=1000))
    assert bounds(result) == (1500, None, None, False)
    assert result.bounds_rule == "exact, because every figure is exact"
    assert in_words(result) == "1,500 troops"


def test_approximate_plus_exact_is_approximate() -> None:
    result = total(ROUGHLY_2200, troops("500 troops", value=500))
    assert bounds(result) == (2700, None, None, True)
    assert result.bounds_rule == "approximate, because roughly 2,200 is approximate"


def test_approximate_plus_approximate_is_approximate() -> None:
    result = total(ROUGHLY_2200, AROUND_1500)
    assert bounds(result) == (3700, None, None, True)
    assert result.text == "roughly 2,200 + around 1,500"
    assert result.bounds_rule == (
        "approximate, because roughly 2,200 and around 1,500 are approximate"
    )
    assert in_words(result) == "roughly 3,700 troops"


def test_a_value_plus_a_max_only_figure_keeps_only_a_max() -> None:
    result = total(troops("500 troops", value=500), UP_TO_10000)
    assert bounds(result) == (None, None, 10500, False)
    assert result.bounds_rule == "no minimum, because up to 10,000 gives none"
    assert in_words(result) == "up to 10,500 troops"


def test_a_value_plus_a_min_only_figure_keeps_only_a_min() -> None:
    result = total(ROUGHLY_2200, THOUSANDS)
    assert bounds(result) == (None, 4200, None, True)
    assert "no maximum, because thousands gives none" in result.bounds_rule
    assert in_words(result) == "at least roughly 4,200 troops"


def test_range_plus_range_is_a_range() -> None:
    daily = Quantity(min=1100, max=1300, unit="migrants", per="day", text="1,100 to 1,300")
    other = Quantity(min=200, max=300, unit="migrants", per="day", text="200 to 300")
    result = total(daily, other)
    assert bounds(result) == (None, 1300, 1600, False)
    assert result.per == "day"
    assert result.bounds_rule.startswith("a range")
    assert in_words(result) == "1,300 to 1,600 migrants per day"


def test_a_value_plus_a_range_is_a_range() -> None:
    result = total(troops("500 troops", value=500), troops("100 to 200", min=100, max=200))
    assert bounds(result) == (None, 600, 700, False)


def test_bounds_beside_a_value_are_kept() -> None:
    about = troops("about 1,500 (1,400 to 1,600)", value=1500, min=1400, max=1600)
    result = total(about, troops("200 troops", value=200))
    assert bounds(result) == (1700, 1600, 1800, False)


def test_an_unknown_figure_makes_the_sum_unknown() -> None:
    assert add([ROUGHLY_2200, None]) is None


def test_an_unknown_figure_counted_as_zero_or_more_leaves_a_lower_bound() -> None:
    result = total(ROUGHLY_2200, AROUND_1500, None, unknown_is_zero_or_more=True)
    assert bounds(result) == (None, 3700, None, True)
    assert result.text == "roughly 2,200 + around 1,500 + an unknown number"
    assert "no maximum, because an unknown number gives none" in result.bounds_rule
    assert in_words(result) == "at least roughly 3,700 troops"


def test_nothing_known_is_unknown_even_as_a_lower_bound() -> None:
    assert add([None, None], unknown_is_zero_or_more=True) is None
    assert add([UP_TO_10000, None], unknown_is_zero_or_more=True) is None


def test_different_units_are_not_added() -> None:
    marines = Quantity(value=500, unit="Marines", text="500 Marines")
    with pytest.raises(ValueError, match="different units"):
        add([AROUND_1500, marines])


def test_nothing_to_add_is_an_error() -> None:
    with pytest.raises(ValueError, match="nothing to add"):
        add([])


def test_words_shown_bounds_the_words_but_not_the_arithmetic() -> None:
    operands = [ROUGHLY_2200, AROUND_1500, THOUSANDS, None]
    every = add(operands, unknown_is_zero_or_more=True)
    shown = add(operands, unknown_is_zero_or_more=True, words_shown=2)
    assert every is not None
    assert shown is not None
    assert bounds(shown) == bounds(every) == (None, 5700, None, True)
    assert shown.text == "roughly 2,200 + around 1,500 + 2 more"
    assert shown.bounds_rule == (
        "approximate, because roughly 2,200, around 1,500 and 1 more are approximate; "
        "no maximum, because thousands and an unknown number gives none"
    )
    assert add(operands, unknown_is_zero_or_more=True, words_shown=4) == every
