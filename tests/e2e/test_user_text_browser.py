"""A board post full of markdown reads, in a real browser, exactly as it was typed (issue 23, point 7):
no remote image is loaded, no link points away, no banner or heading is drawn."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mktsales.db import Database
from mktsales.ui.text import WORD_JOINER
from tests.app.conftest import accounts_template  # noqa: F401 (a fixture, used below)
from tests.app.test_user_text import BODY, EVIL, seed
from tests.e2e.conftest import DESKTOP, TIMEOUT, serving, sign_in

pytestmark = pytest.mark.browser


def test_a_post_full_of_markdown_reads_as_typed(
    accounts_template: Path,  # noqa: F811 (the fixture)
    tmp_path: Path,
    browser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    template = tmp_path / "seeded.duckdb"
    shutil.copy(accounts_template, template)
    with Database(template) as db:
        monkeypatch.setattr("tests.app.test_user_text.app_db", lambda: db)
        post_id = seed()
    (tmp_path / "served").mkdir()
    with serving(template, tmp_path / "served") as url:
        page = browser.new_context(viewport=DESKTOP).new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        sign_in(page, url, "duo")
        page.goto(f"{url}/board?post={post_id}")
        title = page.get_by_test_id("stHeading").filter(has_text="heading").first
        title.wait_for(timeout=TIMEOUT)
        # as typed, but for the invisible word joiners that keep GFM from linking http:// itself
        assert title.inner_text().strip().replace(WORD_JOINER, "") == EVIL
        bodies = page.get_by_test_id("stText")
        bodies.nth(1).wait_for(timeout=TIMEOUT)  # the body and the reply
        assert [b.strip() for b in bodies.all_inner_texts()] == [BODY, BODY]
        hrefs = page.locator("a[href*='evil']").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert [h for h in hrefs if not h.startswith("#")] == []  # a heading's own anchor aside
        assert page.locator("img[src*='evil']").count() == 0
        assert page.locator(".stMarkdownColoredBackground").count() == 0  # no red banner
        assert page.locator("h1:has-text('heading')").count() == 0
        assert page.locator(".katex").count() == 0  # no LaTeX
        assert not [r for r in requested if "evil" in r]
