"""The Scope object: named periods, the previous period, and refusing regions outside a user's scope."""

import datetime as dt

import pytest

from mktsales.scope import Scope, ScopeError, add_months, period_range

TODAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        ("month", dt.date(2026, 11, 1), dt.date(2026, 11, 26)),
        ("quarter", dt.date(2026, 10, 1), dt.date(2026, 11, 26)),
        ("year", dt.date(2026, 1, 1), dt.date(2026, 11, 26)),
        ("last12", dt.date(2025, 12, 1), dt.date(2026, 11, 26)),
    ],
)
def test_named_periods_run_to_today_inclusive(kind: str, start: dt.date, end: dt.date) -> None:
    assert period_range(kind, TODAY) == (start, end)  # type: ignore[arg-type]


def test_previous_period_has_equal_length_and_ends_where_this_starts() -> None:
    this = Scope(dt.date(2026, 11, 1), dt.date(2026, 11, 26))
    assert this.previous() == Scope(dt.date(2026, 10, 7), dt.date(2026, 11, 1))
    assert this.previous().days == this.days == 25


def test_empty_or_reversed_period_is_refused() -> None:
    with pytest.raises(ScopeError, match="not before"):
        Scope(dt.date(2026, 3, 1), dt.date(2026, 3, 1))


def test_regions_outside_the_allowed_set_are_refused_not_widened() -> None:
    with pytest.raises(ScopeError, match=r"\[3\]"):
        Scope(dt.date(2026, 3, 1), dt.date(2026, 4, 1), regions=(1, 3), allowed_regions=(1, 2))


def test_params_restrict_to_allowed_regions_when_none_chosen() -> None:
    restricted = Scope(dt.date(2026, 3, 1), dt.date(2026, 4, 1), allowed_regions=(2, 1))
    assert restricted.params()["regions"] == [1, 2]
    assert Scope(dt.date(2026, 3, 1), dt.date(2026, 4, 1)).params()["regions"] is None
    assert Scope(dt.date(2026, 3, 1), dt.date(2026, 4, 1), categories=(2,)).params()["categories"] == [2]


def test_add_months_crosses_years() -> None:
    assert add_months(dt.date(2026, 1, 31), -1) == dt.date(2025, 12, 1)
    assert add_months(dt.date(2026, 11, 5), 3) == dt.date(2027, 2, 1)
