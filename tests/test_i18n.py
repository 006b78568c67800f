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


def _forms(text: str | dict[str, str]) -> list[str]:
    return list(text.values()) if isinstance(text, dict) else [text]


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    for key, texts in table().items():
        assert set(texts) == set(LANGS), key
        assert isinstance(texts["zh"], str), key  # Chinese has no plural: one text
        for lang in LANGS:
            if isinstance(texts[lang], dict):  # plural forms: every form of the language, chosen by n
                assert set(texts[lang]) == set(i18n.PLURAL_FORMS[lang]), key
                assert "n" in _placeholders(texts["zh"]), key
            for form in _forms(texts[lang]):
                assert form.strip(), key
                assert _placeholders(form) == _placeholders(texts["zh"]), key


def test_plural_forms_are_chosen_by_the_count_n() -> None:
    def replies(lang: str) -> list[str]:
        return [i18n.t("boardpage.n_replies", lang, n=n) for n in (0, 1, 2)]

    assert replies("en") == ["0 replies", "1 reply", "2 replies"]  # English says "0 replies"
    assert replies("zh") == ["0 条回复", "1 条回复", "2 条回复"]  # Chinese has no plural
    assert i18n.t("boardpage.acks_missing", "en", n=1) == "1 region not acknowledged"
    assert i18n.t("promopage.consulted_n", "en", answered=0, n=1) == "0 of 1 region answered"
    assert i18n.t("promopage.consulted_n", "zh", answered=2, n=3) == "会商 2/3 个区域已答复"
    shown = i18n.t("data.problems_shown", "en", shown=200, n=12_345)
    assert shown.startswith("The first 200 of 12,345 problems")
    assert i18n.t("promopage.request_help", "en", n=1.0).endswith("within 1 hour.")
    assert i18n.t("promopage.request_help", "en", n=1.5).endswith("within 1.5 hours.")
    assert i18n.t("unit.minutes", "en", n=15) == "15 minutes"


def test_a_plural_message_refuses_a_missing_or_preformatted_count() -> None:
    with pytest.raises(TypeError):
        i18n.t("boardpage.n_replies", "en")
    with pytest.raises(TypeError):
        i18n.t("boardpage.n_replies", "en", n="1")  # "1,234" cannot be counted: pass the number


# An English text with a number placeholder right before a plural noun ("{n} replies", "{n} more
# cell(s)") reads "1 replies" when the number is 1: it needs plural forms, unless the number is
# never 1 (a limit far above it), named here with the reason.
NOT_COUNTING = {
    "board.error.photo_pixels": "a picture's width×height and the 24-megapixel limit, far above 1",
    "import.file.too_many_rows_in": "an import's row limit, in the millions",
    "import.file.too_many_columns": "an import's column limit, in the thousands",
    "import.file.sheet_too_wide": "the same column limit",
    "import.file.sheet_too_large": "an import's cell limit, in the millions",
    "unit.points": "a signed change with one decimal (+1.0 pts), never a bare 1",
}
# A placeholder, perhaps one word ("data", "more", "failed"), then a word ending in s or (s).
_COUNTED_NOUN = re.compile(r"\{(\w+)[^}]*\}\)?\s+(?:[a-z]+\s+)?([a-z]+(?:s|\(s\)))(?![\w(])")
_NOT_NOUNS = {"is", "was", "has", "as", "comes", "holds", "belongs"}  # "{field} is required"


def test_no_english_text_counts_with_a_plural_noun_only() -> None:
    bare = {
        key: text
        for key, texts in table().items()
        for text in [texts["en"]]
        if isinstance(text, str) and any(noun not in _NOT_NOUNS for _, noun in _COUNTED_NOUN.findall(text))
    }
    assert set(bare) == set(NOT_COUNTING), sorted(set(bare) ^ set(NOT_COUNTING))
    assert "boardpage.n_replies" not in bare and _COUNTED_NOUN.search("{n} replies")  # the scan finds them
    assert _COUNTED_NOUN.search("{detail} more cell(s) than")


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
