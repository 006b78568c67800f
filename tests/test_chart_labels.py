"""Names from the data read as typed in every chart (issue 23, point 7): Plotly.js draws a small HTML
subset (<a href>, <b>, <br>, <span style>) and entities in axis labels, bar text and hover text, so
each chart builder hands it a data name with &, < and > as entities (which Plotly shows as the
characters). The app's own markup (<br> between lines, <extra></extra>) stays markup."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest

from mktsales import charts

# a link, bold text, and a typed entity that must read as typed too (not as "<i>")
HOSTILE = '<a href="http://evil.example/x">bad</a><b>bold</b> &lt;i&gt;'
# written out by hand: what Plotly receives, and shows as HOSTILE
ESCAPED = '&lt;a href="http://evil.example/x"&gt;bad&lt;/a&gt;&lt;b&gt;bold&lt;/b&gt; &amp;lt;i&amp;gt;'


def strings(value: Any) -> list[str]:
    """Every string in a figure's JSON-ready dict."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    if hasattr(value, "tolist"):  # numpy arrays
        return strings(value.tolist())
    return []


def assert_nothing_live(fig: go.Figure) -> None:
    """No markup from the data anywhere in the figure: the hostile name appears only escaped."""
    texts = strings(fig.to_plotly_json())
    assert [s for s in texts if "<a" in s or "<b>" in s or 'evil.example/x">' in s] == []
    assert any(ESCAPED in s for s in texts)


def test_breakdown_rates_escapes_group_names_and_keeps_the_click_keys() -> None:
    fig = charts.breakdown_rates(
        ["华北", HOSTILE, "华南"],
        [0.25, 0.5, None],
        [4, 2, 0],
        "转化率",
        "zh",
        keys=["north", "east", "south"],
    )
    bar = fig.data[0]
    assert list(bar.y) == [ESCAPED, "华北", "华南"]  # highest rate first
    assert list(bar.customdata) == ["east", "north", "south"]  # a click still narrows by the code
    assert list(fig.layout.yaxis.categoryarray) == ["华南", "华北", ESCAPED]  # the same labels
    assert bar.hovertemplate == "%{y}: %{text}<extra></extra>"  # the app's markup kept
    assert_nothing_live(fig)


def test_execution_by_region_escapes_region_names() -> None:
    summary = pd.DataFrame(
        {
            "region_id": [1, 2],
            "name_en": [HOSTILE, "East"],
            "reports": [3, 2],
            "share_as_planned": [1 / 3, 0.5],
        }
    )
    fig = charts.execution_by_region(summary, "en")
    assert list(fig.data[0].y) == ["East", ESCAPED]
    assert list(fig.layout.yaxis.categoryarray) == [ESCAPED, "East"]
    assert_nothing_live(fig)


def test_time_in_stage_escapes_region_names() -> None:
    frame = pd.DataFrame(
        {step: [1.0, 2.0] for step, _ in charts.TIME_STEPS},
    )
    fig = charts.time_in_stage([HOSTILE, "合计"], frame, "zh")
    assert all(list(trace.y) == [ESCAPED, "合计"] for trace in fig.data)
    assert list(fig.layout.yaxis.categoryarray) == ["合计", ESCAPED]
    assert fig.data[0].hovertemplate.startswith("%{y} · ")
    assert_nothing_live(fig)


def test_response_by_region_escapes_region_names() -> None:
    frame = pd.DataFrame(
        {
            "name_zh": [HOSTILE, HOSTILE, "华东"],
            "direction": ["field", "plan", "field"],
            "median_hours": [5.0, 2.0, 1.0],
            "within_target": [0.5, 1.0, 1.0],
        }
    )
    fig = charts.response_by_region(frame, "zh")
    assert [list(trace.y) for trace in fig.data] == [[ESCAPED, "华东"], [ESCAPED]]
    assert list(fig.layout.yaxis.categoryarray) == ["华东", ESCAPED]  # slowest (5 h) on top
    assert_nothing_live(fig)


def test_field_volume_escapes_region_names() -> None:
    frame = pd.DataFrame(
        {"name_zh": [HOSTILE, "华东"], "category": ["stocking", "stocking"], "reports": [2, 1]}
    )
    fig = charts.field_volume(frame, "zh")
    assert list(fig.data[0].y) == [ESCAPED, "华东"]
    assert list(fig.data[0].x) == ["理货"]  # the app's own category names as they are
    assert fig.data[0].hovertemplate == "%{y} · %{x}: %{z}<extra></extra>"
    assert_nothing_live(fig)


def test_promotion_timeline_escapes_region_names_and_titles() -> None:
    frame = pd.DataFrame(
        {
            "title_zh": [HOSTILE, "乙"],
            "status": ["live", "live"],
            "start_date": [dt.date(2026, 3, 1), dt.date(2026, 3, 10)],
            "end_date": [dt.date(2026, 3, 15), dt.date(2026, 3, 25)],
            "region_names_zh": [[HOSTILE], [HOSTILE]],
        }
    )
    fig = charts.promotion_timeline(frame, "zh", today=dt.date(2026, 3, 12))
    bar = fig.data[0]
    assert list(bar.y) == [ESCAPED, ESCAPED + " ②"]  # overlapping: a row each
    assert list(fig.layout.yaxis.categoryarray) == [ESCAPED + " ②", ESCAPED]
    assert list(bar.text) == [ESCAPED, "乙"]
    assert [row[0] for row in bar.customdata] == [ESCAPED, "乙"]
    assert "<br>" in bar.hovertemplate  # the app's line break stays one
    assert_nothing_live(fig)


def _effect(groups: tuple[str, ...], notes: list[str]) -> dict:
    days = ("2026-03-01", "2026-03-02")
    series = [{"day": d, "group": g, "revenue": 10.0, "orders": 1.0} for g in groups for d in days]
    return {"series": series, "window": {"start": days[1], "end": days[1]}, "notes": notes}


@pytest.mark.parametrize(
    ("groups", "notes", "zh", "en"),
    [
        (("treated", "control", "expected"), [], "促销区域的销售额与无促销时的预期", "expected without"),
        (("treated",), ["no_control"], "促销区域的销售额（绿色为促销期）", "Sales in the promoted regions ("),
        (("treated",), ["partial_scope"], "您负责区域的销售额（绿色为促销期）", "Sales in your regions"),
    ],
)
def test_the_effect_charts_title_names_the_lines_it_draws(groups, notes, zh, en) -> None:
    """A region-limited user's chart has their regions' line only: its title must not promise an
    'expected' line (issue 23: the title read 'vs expected' over a single line)."""
    assert charts.promotion_effect(_effect(groups, notes), "zh").layout.title.text == zh
    assert en in charts.promotion_effect(_effect(groups, notes), "en").layout.title.text
