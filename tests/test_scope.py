"""The Scope object: named periods, the previous period, and refusing regions outside a user's scope."""

import datetime as dt

import pytest

from mktsales.access import User, visible, visible_any, visible_regions
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


def _user(role: str, regions: tuple[int, ...], all_regions: bool = False) -> User:
    return User(1, "u", "U", role, regions, all_regions)  # type: ignore[arg-type]


def test_visibility_is_decided_in_one_place() -> None:
    rep, head, exe = (
        _user("sales_rep", (3, 1)),
        _user("sales_head", (), all_regions=True),
        _user("executive", (2,)),
    )
    assert visible(rep, 1) and visible(rep, 3) and not visible(rep, 2)
    assert visible(head, 2) and visible(exe, 7)
    assert visible_any(rep, [2, 3]) and not visible_any(rep, [2]) and visible_any(exe, [])
    assert not visible_any(rep, [])
    assert visible_regions(rep) == [1, 3] and visible_regions(exe) is None and visible_regions(None) is None
    assert visible_regions(rep, [3, 2]) == [3] and visible_regions(exe, [5, 4]) == [4, 5]
    assert visible_regions(rep, None) == [1, 3] and visible_regions(None, [2]) == [2]


def test_a_scope_for_a_user_is_bounded_by_their_regions() -> None:
    start, end = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
    rep = _user("sales_rep", (1, 3))
    assert Scope.for_user(rep, start, end).region_ids() == [1, 3]
    assert Scope.for_user(rep, start, end, (3,), (5,)).params()["categories"] == [5]
    assert Scope.for_user(None, start, end).region_ids() is None
    assert Scope.for_user(_user("admin", ()), start, end, (9,)).region_ids() == [9]
    with pytest.raises(ScopeError):
        Scope.for_user(rep, start, end, (2,))
