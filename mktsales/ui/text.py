"""What a user typed, shown as typed (issue 23, point 7: stored markdown injection).

Streamlit renders markdown in st.markdown, st.caption, headers, alerts, expander and tab labels,
widget labels and help. A post titled ``![x](http://evil.example/b.png)`` would load a remote image
(a beacon that tells its owner who read the post), ``[Session expired](http://…)`` would be a link
the app never made, ``:red-background[CEO ORDER]`` a red banner. So every text a user typed (titles,
bodies, replies, names, promotion fields, file names) goes into the app's markdown through ``md``:
each ASCII punctuation character gets a backslash (CommonMark renders ``\\x`` as ``x``, for every
punctuation ``x``), so no link, image, heading, list, table, colour directive, LaTeX or HTML starts
inside it. Streamlit also rewrites some plain text after parsing (``:smile:`` emoji, ``:material/…:``
icons, ``:streamlit:``, ``->`` arrows, and GFM's links from bare ``http://``, ``www.`` and e-mail
addresses); a word joiner (U+2060, invisible) keeps those as typed.

A text that stands alone (a post's body, a reply) is shown with ``st.text``, which parses nothing.
"""

from __future__ import annotations

import re
from typing import Any

WORD_JOINER = "\u2060"
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
# After parsing, Streamlit turns ":name:" into an emoji or icon and "a -> b" into an arrow.
_SHORTCODE = re.compile(r":(?=[\w+\-][\w+\-/]*:)")
_ARROW = re.compile(r"(?<!\S)(<|-|>|~)(?=(?:->|-|>|=)(?!\S))")
# GFM turns http://…, www.… and a@b.c in the parsed text into links, escapes or not.
_AUTOLINK = re.compile(r"(?:(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@))", re.IGNORECASE)


def md(value: Any) -> str:
    """``value`` as a literal piece of the app's markdown: it reads exactly as typed, on one line."""
    text = " ".join(str(value).split())  # a line break or run of spaces reads as one space anyway
    text = _SHORTCODE.sub(":" + WORD_JOINER, text)
    text = _ARROW.sub(r"\1" + WORD_JOINER, text)
    text = _AUTOLINK.sub(WORD_JOINER, text)
    return _PUNCTUATION.sub(r"\\\1", text)
