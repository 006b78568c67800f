"""mktsales.ui.text.md: a user's text inside the app's markdown reads as typed (issue 23, point 7)."""

from mktsales.ui.text import WORD_JOINER, md


def test_every_punctuation_is_escaped_so_no_markdown_starts() -> None:
    assert md("[a](x.cn)") == r"\[a\]\(x\.cn\)"
    assert md(":red[CEO] $x$ <b>") == r"\:red\[CEO\] \$x\$ \<b\>"
    assert md("华润万家 2026") == "华润万家 2026"  # letters, digits and Chinese as they are


def test_line_breaks_become_spaces_so_no_heading_or_list_starts_a_line() -> None:
    assert md("a\n# b\n- c") == r"a \# b \- c"


def test_emoji_icons_and_arrows_stay_as_typed() -> None:
    # Streamlit replaces these in the parsed text, after escapes are gone: a word joiner breaks them
    assert md(":smile:") == "\\:" + WORD_JOINER + "smile\\:"
    assert md(":material/lock:") == "\\:" + WORD_JOINER + "material\\/lock\\:"
    assert md("a -> b") == "a \\-" + WORD_JOINER + "\\> b"
    assert md("10:30") == r"10\:30"  # a time is no shortcode


def test_bare_addresses_are_not_linked() -> None:
    joiner = WORD_JOINER
    assert md("http://e.cn") == f"http\\:{joiner}\\/\\/e\\.cn"
    assert md("www.e.cn") == f"www{joiner}\\.e\\.cn"
    assert md("a@e.cn") == f"a\\@{joiner}e\\.cn"
