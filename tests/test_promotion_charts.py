"""The promotions timeline: overlapping promotions in one region get a row each."""

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
