"""The translation table is complete, every key the code uses exists, and numbers read right."""

import re
import string
from pathlib import Path

import pytest

from mktsales import display, i18n, kpis
from mktsales.i18n import LANGS, table

ROOT = Path(__file__).parent.parent


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    for key, texts in table().items():
        assert set(texts) == set(LANGS), key
        assert all(texts[lang].strip() for lang in LANGS), key
        assert _placeholders(texts["zh"]) == _placeholders(texts["en"]), key


def test_every_literal_key_in_the_code_exists() -> None:
    sources = [*ROOT.glob("mktsales/**/*.py"), *ROOT.glob("app_pages/*.py"), ROOT / "app.py"]
    used = {
        key
        for path in sources
        for key in re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_0-9]+)["']""", path.read_text())
    }
    assert used, "the scan found no keys: the pattern is wrong"
    assert used - set(table()) == set()


def test_every_kpi_and_stage_has_a_name_and_a_definition() -> None:
    names = (*kpis.MARKETING_KPIS, *kpis.SALES_KPIS, *kpis.HANDOFF_KPIS, "collected")
    for name in names:
        assert f"kpi.{name}" in table() and f"def.{name}" in table(), name
        assert name in display.KIND, name
    for stage, track, _ in kpis.FUNNEL_STAGES:
        assert f"stage.{stage}" in table() and f"track.{track}" in table()


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (8000, "¥8,000", "¥8,000"),
        (10200, "¥1.02万", "¥10.2K"),
        (123456, "¥12.3万", "¥123K"),
        (12_345_678, "¥1,235万", "¥12.3M"),
        (123_456_789, "¥1.23亿", "¥123M"),
        (None, "—", "—"),
    ],
)
def test_money_reads_in_wan_and_yi_for_chinese_and_k_m_for_english(value, zh, en) -> None:
    assert (i18n.money(value, "zh"), i18n.money(value, "en")) == (zh, en)


def test_counts_percentages_hours_and_changes() -> None:
    assert (i18n.count(1500, "zh"), i18n.count(123_456, "zh"), i18n.count(123_456, "en")) == (
        "1,500",
        "12.3万",
        "123,456",
    )
    assert i18n.percent(0.6375, "en") == "63.7%"  # 0.6375 is stored just below, rounds down
    assert (i18n.hours(36, "zh"), i18n.hours(2.5, "en")) == ("36 小时", "2.5 h")
    assert display.delta("mql_rate", -0.2857, "zh") == "-28.6 个百分点"
    assert display.delta("revenue", 1.372, "en") == "+137.2%"
    assert display.delta("brand_awareness", 3.45, "en") == "+3.5 pts"
    assert display.value("brand_awareness", 38.0, "zh") == "38.0%"


def test_period_and_handoff_captions_in_both_languages() -> None:
    import datetime as dt

    from mktsales.scope import Scope

    march = Scope(dt.date(2026, 3, 1), dt.date(2026, 4, 1))
    assert display.period_caption(march, "en") == (
        "1 Mar 2026 to 31 Mar 2026 (31 days) · compared with 29 Jan 2026 to 28 Feb 2026"
    )
    assert display.period_caption(march, "zh").startswith("2026年3月1日 至 2026年3月31日（31 天）")
    assert display.handoff_caption({"sal_rate": 0.8, "accept_hours": 36.0}, "zh") == (
        "交接：MQL 接受率 80.0%，接受用时中位数 36 小时"
    )
