"""The promotions page as a user limited to some regions sees it (issue 23): one promotion in full
shows and downloads their regions' consultation and reports only; its effect is theirs only and
says so in their language; a link to a promotion they may not see is "not found", as a missing one.

Tiny fixture plus tests/fixtures/promotions.sql (see tests/test_promotions_scope.py for promotion
10's rows); rep is a north sales rep, boss the executive. Today is 31 March 2026.
"""

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mktsales.i18n import t
from mktsales.ui import promotion_view, widgets
from tests.app.conftest import app_db, open_app, page_path
from tests.conftest import FIXTURES, write_sql


@pytest.fixture
def seen(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, pd.DataFrame]:
    """The promotions fixture loaded; what the page hands to each download button, by widget key."""
    write_sql(app_db(), (FIXTURES / "promotions.sql").read_text(encoding="utf-8"))
    frames: dict[str, pd.DataFrame] = {}
    original = widgets.downloads

    def record(frame: pd.DataFrame, name: str, lang: str, key: str) -> None:
        frames[key] = frame
        original(frame, name, lang, key)

    monkeypatch.setattr(widgets, "downloads", record)
    return frames


def opened(username: str, promotion_id: int, lang: str = "zh") -> AppTest:
    at = open_app(username)
    if lang == "en":
        at.segmented_control(key="lang").set_value("en").run()
    at.session_state[promotion_view.OPEN_KEY] = promotion_id
    at.switch_page(page_path("app_pages/promotions.py")).run()
    assert not at.exception
    return at


def test_a_north_rep_sees_and_downloads_only_the_norths_rows(seen: dict[str, pd.DataFrame]) -> None:
    at = opened("rep", 10)
    consultation, reports = seen["promo.10-consultation"], seen["promo.10-reports"]
    assert consultation["区域"].tolist() == ["华北"]
    assert reports["区域"].tolist() == ["华北", "华北"]  # 王芳 28 March, 李强 21 March
    assert reports["反馈人"].tolist() == ["王芳", "李强"]
    shown = " ".join(d.value.to_csv() for d in at.dataframe)
    assert "华东" not in shown and "刘洋" not in shown and "堆头费用偏高" not in shown
    assert f"**{t('promopage.reports', 'zh', n=2)}**" in [m.value for m in at.markdown]


def test_the_executive_sees_both_regions(seen: dict[str, pd.DataFrame]) -> None:
    opened("boss", 10)
    assert seen["promo.10-consultation"]["区域"].tolist() == ["华北", "华东"]
    assert sorted(seen["promo.10-reports"]["区域"]) == ["华东", "华北", "华北"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_north_reps_effect_is_the_norths_and_says_so(seen: dict[str, pd.DataFrame], lang: str) -> None:
    at = opened("rep", 14, lang)  # snacks in the north and the south, 1-14 March
    warnings = [w.value for w in at.warning]
    assert t("effect.note.partial_scope", lang) in warnings
    assert t("effect.note.few_control", lang) in warnings  # only the east is left to compare with
    (chart,) = at.get("plotly_chart")
    lines = [trace.get("name") for trace in json.loads(chart.proto.spec)["data"]]
    assert lines == [t("effect.group.treated", lang)]
    roi = next(m.value for m in at.metric if m.label == t("promopage.roi", lang))
    assert roi == "—"  # the budget also paid for the south


def test_the_executives_effect_has_no_partial_note(seen: dict[str, pd.DataFrame]) -> None:
    at = opened("boss", 14, "en")
    assert t("effect.note.partial_scope", "en") not in [w.value for w in at.warning]


def test_a_link_to_a_promotion_the_user_cannot_see_is_not_found(seen: dict[str, pd.DataFrame]) -> None:
    for promotion_id in (11, 999):  # east and south; no such promotion
        at = opened("rep", promotion_id)
        assert [w.value for w in at.warning] == [t("promopage.not_found", "zh")]
        assert "华东华南零食试吃" not in [h.value for h in at.subheader] and not at.metric
