"""The translation table and the one number formatter per language."""

from __future__ import annotations

import math
import numbers
import tomllib
from functools import cache
from importlib import resources
from typing import Any, Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"
LANG_NAMES: dict[str, str] = {"zh": "中文", "en": "English"}
CURRENCY = "¥"

# A message that counts something may give a language its plural forms instead of one text:
#   "boardpage.n_replies" = { zh = "{n} 条回复", en = { one = "{n} reply", other = "{n} replies" } }
# The form is chosen by the count passed as ``n``. Chinese has no plural, so it keeps one text;
# English has "one" for exactly 1 and "other" for everything else (0 replies, 2 replies).
PLURAL_FORMS: dict[str, tuple[str, ...]] = {"en": ("one", "other")}
Text = str | dict[str, str]


def plural_form(lang: str, n: object) -> str:
    """Which plural form of ``lang`` the count ``n`` takes: "one" or "other"."""
    if isinstance(n, bool) or not isinstance(n, numbers.Real):
        raise TypeError(f"a plural message needs its count n as a number, not {n!r}")
    return "one" if lang == "en" and n == 1 else "other"


@cache
def table() -> dict[str, dict[str, Text]]:
    """Every message key with its text in each language, from every locales/*.toml file.

    One file per area (messages.toml for the core, board.toml, promotions.toml, ...); a key
    defined in two files is an error, so one file cannot silently override another. A text is
    a string, or a table of plural forms (PLURAL_FORMS) for a message that counts ``n``.
    """
    merged: dict[str, dict[str, Text]] = {}
    files = sorted(
        (f for f in resources.files("mktsales.locales").iterdir() if f.name.endswith(".toml")),
        key=lambda f: f.name,
    )
    for file in files:
        for key, texts in tomllib.loads(file.read_text(encoding="utf-8")).items():
            if key in merged:
                raise ValueError(f"message key {key!r} is defined twice (again in {file.name})")
            merged[key] = texts
    return merged


def t(key: str, lang: str, **values: Any) -> str:
    """The message ``key`` in ``lang``, with ``values`` filled in. Unknown keys fail loudly.

    A message with plural forms takes the form its count ``n`` calls for: "1 reply", "2 replies".
    """
    text = table()[key][lang]
    if isinstance(text, dict):
        if "n" not in values:
            raise TypeError(f"message {key!r} has plural forms: pass its count as n")
        text = text[plural_form(lang, values["n"])]
    return text.format(**values) if values else text


def _scaled(value: float, steps: tuple[tuple[float, float, str], ...]) -> str | None:
    """``value`` in the largest unit whose threshold it reaches, with three significant digits."""
    for threshold, size, suffix in steps:
        if abs(value) >= threshold:
            scaled = value / size
            digits = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0
            text = f"{scaled:,.{digits}f}"
            return (text.rstrip("0").rstrip(".") if "." in text else text) + suffix  # ¥50M, not ¥50.0M
    return None


# Chinese readers count in 万 (10^4) and 亿 (10^8); English readers in K, M, B.
# Steps are (threshold, unit, suffix): ¥8,000 stays exact, ¥10,200 becomes ¥1.02万 / ¥10.2K.
_BIG = {
    "zh": ((1e8, 1e8, "亿"), (1e4, 1e4, "万")),
    "en": ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "K")),
}
_BIG_COUNTS = {"zh": ((1e8, 1e8, "亿"), (1e5, 1e4, "万")), "en": ((1e9, 1e9, "B"), (1e6, 1e6, "M"))}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None, lang: str) -> str:
    """An amount in yuan: ¥8,000 · ¥1.02万 / ¥10.2K · ¥1.23亿 / ¥123M."""
    if _missing(value):
        return t("unit.none", lang)
    assert value is not None
    short = _scaled(float(value), _BIG[lang])
    return f"{CURRENCY}{short}" if short else f"{CURRENCY}{value:,.0f}"


def count(value: float | None, lang: str) -> str:
    """A count: exact below 100,000 (zh) / 1,000,000 (en), then 万/亿 or M/B."""
    if _missing(value):
        return t("unit.none", lang)
    assert value is not None
    return _scaled(float(value), _BIG_COUNTS[lang]) or f"{value:,.0f}"


def percent(value: float | None, lang: str, digits: int = 1) -> str:
    """A share 0..1 as a percentage: 0.6375 -> 63.8%."""
    if _missing(value):
        return t("unit.none", lang)
    return f"{value:.{digits}%}"


def hours(value: float | None, lang: str) -> str:
    """A duration in hours: 36 h / 36 小时; under 10 h with one decimal."""
    if _missing(value):
        return t("unit.none", lang)
    assert value is not None
    return t("unit.hours", lang, n=f"{value:.1f}" if value < 10 else f"{value:,.0f}")


def signed_percent(value: float | None, lang: str) -> str | None:
    """A relative change, signed: +37.2% / -5.0%; None when there is nothing to compare."""
    return None if _missing(value) else f"{value:+.1%}"


def signed_points(value: float | None, lang: str) -> str | None:
    """A change of a share in percentage points, signed: +2.5 pts / -2.5 个百分点."""
    return None if _missing(value) else t("unit.points", lang, n=f"{value * 100:+.1f}")


def day(value: Any, lang: str) -> str:
    """A date: 2026年3月1日 / 1 Mar 2026."""
    return f"{value.year}年{value.month}月{value.day}日" if lang == "zh" else f"{value.day} {value:%b %Y}"
