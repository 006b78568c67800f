"""A promotion's effect as a user limited to some regions may see it (issue 23).

The executive's effect (mktsales/effect.py) compares the promotion's regions with every comparable
region and shows both series. Shown as is to a regional user, that is other regions' revenue: the
promotion's other regions inside "treated", the comparable regions in "control" and "expected".
So a limited user (``allowed_regions`` not None) gets:

* **treated**: the promotion's regions within theirs only (revenue, orders, series, margin);
* **control**: the comparable regions *outside* theirs, used only through their combined
  window/baseline ratio (inside the uplift, the incremental revenue and their intervals), never as
  a series, a total or a list of region ids (``n_control`` counts them). Every number shown is
  then unchanged when the hidden regions' sales are all scaled alike, so no hidden region's revenue
  or order count can be derived. A region the user can see is left out of the control, else the
  known part would pin the hidden part's level;
* at least ``MIN_HIDDEN_CONTROL`` such regions selling in both window and baseline, so the ratio is
  never one region's own growth; with fewer the estimate falls back to before/after on their
  regions (note "few_control");
* no ROI when the promotion also ran outside their regions: its cost is not split by region;
* the note "partial_scope" on every such result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any, Protocol

import numpy as np

MIN_HIDDEN_CONTROL = 2  # a limited user's control: at least this many selling regions outside theirs


class _Series(Protocol):
    def series(
        self, regions: Sequence[int], items: Sequence[int], start: dt.date, days: int
    ) -> np.ndarray: ...


def selling(
    cube: _Series,
    regions: Sequence[int],
    items: Sequence[int],
    first: dt.date,
    span: int,
    window: np.ndarray,
    baseline: np.ndarray,
) -> int:
    """How many of ``regions`` sold in the window and (when it has usable days) in the baseline."""
    count = 0
    for region in regions:
        revenue = cube.series([region], items, first, span)[0]
        count += bool(revenue[window].sum() > 0 and (not len(baseline) or revenue[baseline].sum() > 0))
    return count


def limited(
    result: dict[str, Any], regions: Collection[int], allowed: frozenset[int] | None, n_control: int
) -> dict[str, Any]:
    """A limited user's result (see the module docstring); ``regions`` are all the promotion's.
    Returned unchanged when ``allowed`` is None."""
    if allowed is None:
        return result
    result["notes"] = ["partial_scope", *result["notes"]]
    result["control_regions"] = []
    result["n_control"] = n_control
    if not set(regions) <= allowed:  # the budget also pays for regions they cannot see
        result.update(roi=None, roi_low=None, roi_high=None)
    return result
