"""Small rules of the pages: the promotions timeline gives overlapping promotions a row each; the
board's cached "now"."""

import datetime as dt

import pandas as pd

from mktsales import charts


def test_overlapping_promotions_in_a_region_get_their_own_rows() -> None:
    frame = pd.DataFrame(
        {
            "title_zh": ["甲", "乙", "丙"],
            "status": ["live", "consulting", "approved"],
            "start_date": [dt.date(2026, 3, 1), dt.date(2026, 3, 10), dt.date(2026, 3, 20)],
            "end_date": [dt.date(2026, 3, 15), dt.date(2026, 3, 25), dt.date(2026, 3, 30)],
            "region_names_zh": [["华东"], ["华东", "华北"], ["华东"]],
        }
    )
    fig = charts.promotion_timeline(frame, "zh", today=dt.date(2026, 3, 12))
    rows = {trace.name: list(trace.y) for trace in fig.data}
    # 甲 (1-15) and 乙 (10-25) overlap in 华东: 乙 takes a second row; 丙 (20-30) overlaps 乙 but not 甲
    assert rows == {"执行中": ["华东"], "征询意见中": ["华东 ②", "华北"], "已批准": ["华东"]}
    # top to bottom 华东, 华东 ②, 华北 (Plotly lists the bottom row first)
    assert list(fig.layout.yaxis.categoryarray) == ["华北", "华东 ②", "华东"]


def test_the_boards_cached_now_runs_to_the_end_of_its_minute() -> None:
    from mktsales.ui import data

    # a reply made at 10:05:20 must count at once: the cached board is computed as of 10:06:00
    assert data.minute(dt.datetime(2026, 3, 31, 10, 5, 20)) == dt.datetime(2026, 3, 31, 10, 6)
    assert data.minute(dt.datetime(2026, 4, 1)) == dt.datetime(2026, 4, 1)  # a whole minute stays
