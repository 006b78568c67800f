"""The one filter object every query takes: period, regions, categories, and what the user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from mktsales.access import User

PeriodKind = Literal["month", "quarter", "year", "last12", "custom"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("month", "quarter", "year", "last12", "custom")


class ScopeError(ValueError):
    """A filter the user may not apply or that makes no sense (from after to, unknown region)."""


@dataclass(frozen=True)
class Scope:
    """A half-open period [start, end) plus region and category filters.

    ``regions`` and ``categories`` are the user's choice (empty = all). ``allowed_regions`` is
    what the user may see (None = everything); a choice outside it is refused, never widened.
    """

    start: dt.date
    end: dt.date
    regions: tuple[int, ...] = ()
    categories: tuple[int, ...] = ()
    allowed_regions: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ScopeError(f"empty period: from {self.start} is not before to {self.end}")
        if self.allowed_regions is not None:
            forbidden = set(self.regions) - set(self.allowed_regions)
            if forbidden:
                raise ScopeError(f"regions outside the user's scope: {sorted(forbidden)}")

    @classmethod
    def for_user(
        cls,
        user: User | None,
        start: dt.date,
        end: dt.date,
        regions: tuple[int, ...] = (),
        categories: tuple[int, ...] = (),
    ) -> Scope:
        """The Scope of ``user``'s choice, bounded by what they may see (no user: everything);
        ScopeError for a chosen region outside their regions."""
        allowed = None if user is None else user.allowed_regions
        return cls(start=start, end=end, regions=regions, categories=categories, allowed_regions=allowed)

    @property
    def days(self) -> int:
        """Length of the period in days."""
        return (self.end - self.start).days

    def previous(self) -> Scope:
        """The period of equal length just before this one, same filters."""
        return replace(self, start=self.start - (self.end - self.start), end=self.start)

    def with_period(self, start: dt.date, end: dt.date) -> Scope:
        """The same filters over another period."""
        return replace(self, start=start, end=end)

    def region_ids(self) -> list[int] | None:
        """The regions a query must stay within; None means no restriction at all."""
        if self.regions:
            return sorted(self.regions)
        if self.allowed_regions is not None:
            return sorted(self.allowed_regions)
        return None

    def params(self) -> dict[str, Any]:
        """Bound parameters for the named queries: $start, $end, $regions, $categories."""
        return {
            "start": self.start,
            "end": self.end,
            "regions": self.region_ids(),
            "categories": sorted(self.categories) or None,
        }


def month_start(day: dt.date) -> dt.date:
    """First day of the month of ``day``."""
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """First day of the month ``months`` after the month of ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def trend_scope(scope: Scope) -> Scope:
    """The trend window: the period, widened to at least the 12 months ending with its last month.

    The overview's, the funnel's and the board's monthly trends all read this window."""
    last_month = month_start(scope.end - dt.timedelta(days=1))
    return scope.with_period(min(scope.start, add_months(last_month, -11)), scope.end)


def period_range(kind: PeriodKind, today: dt.date) -> tuple[dt.date, dt.date]:
    """The [start, end) range of a named period that contains ``today`` (to date, end = tomorrow)."""
    tomorrow = today + dt.timedelta(days=1)
    if kind == "month":
        return month_start(today), tomorrow
    if kind == "quarter":
        return dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), tomorrow
    if kind == "year":
        return dt.date(today.year, 1, 1), tomorrow
    if kind == "last12":
        return add_months(today, -11), tomorrow
    raise ScopeError(f"a custom period needs explicit dates, not {kind!r}")
