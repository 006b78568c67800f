"""Roles and regions in the running app: pages listed and refused, and exact regional numbers."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from mktsales import display
from mktsales.accounts import find_user
from mktsales.ui import nav
from mktsales.ui.nav import PAGES
from tests.app.conftest import ENTRY, ROOT, app_db, open_app, page_path, signed_in
from tests.conftest import FIXTURES, write_sql

# Which pages each role opens: the table of docs/roles.md, written out by hand.
EXPECTED_PAGES = {
    "boss": ["overview", "funnel", "board", "promotions", "definitions", "account"],
    "admin": [
        "overview",
        "funnel",
        "board",
        "promotions",
        "definitions",
        "users",
        "audit",
        "data",
        "account",
    ],
    "duo": ["overview", "funnel", "entry", "board", "promotions", "definitions", "account"],
    "mkt": ["overview", "funnel", "board", "promotions", "definitions", "account"],
    "mkthead": ["overview", "funnel", "board", "promotions", "definitions", "account"],
    "rep": ["entry", "board", "promotions", "definitions", "account"],
}
PAGE_PATHS = {p.key: p.path for p in PAGES}


def visit(at: AppTest, key: str) -> AppTest:
    """Open a page by its address, as typing /<key> in the browser does.

    A page the role may not open is registered only as a refusal without a script file, so
    AppTest.switch_page cannot name it; the URL's page hash is what a browser sends.
    """
    at._page_hash = calc_hash(key)
    return at.run()


@pytest.mark.parametrize("username", list(EXPECTED_PAGES))
def test_each_role_lists_its_pages_and_is_refused_the_others(app_env: Path, username: str) -> None:
    at = open_app(username)
    user = find_user(app_db(), username)
    assert [p.key for p in nav.allowed(user)] == EXPECTED_PAGES[username]
    for page in PAGES:
        visit(at, page.key)
        assert not at.exception, page.key
        if page.key in EXPECTED_PAGES[username]:
            assert at.title and not at.error, (username, page.key)
        else:
            assert at.error and "无权打开" in at.error[0].value, (username, page.key)
            assert not at.metric and not at.dataframe and not at.table and not at.title


def test_signed_out_every_address_shows_the_sign_in_form(app_env: Path) -> None:
    at = open_app(None)
    for page in PAGES:
        visit(at, page.key)
        assert [t.value for t in at.title] == ["登录"]
        assert not at.metric and not at.dataframe
        assert at.text_input(key="signin_username") and at.text_input(key="signin_password")


def test_a_rep_lands_on_quick_entry_and_sees_no_dashboard(app_env: Path) -> None:
    at = open_app("rep")
    assert [t.value for t in at.title] == ["快速录入"]
    assert not at.metric


def test_first_session_after_start_for_a_rep_refuses_the_overview(app_env: Path) -> None:
    """The first session after a server start runs app.py like every later one (no pages/ folder)."""
    at = open_app("rep", ROOT / "app.py")
    assert not at.exception and not at.metric
    assert [t.value for t in at.title] == ["快速录入"]


# -- region scope: every number a restricted user sees covers exactly their regions ---------------
NORTH_EAST, ALL = [1, 2], [1, 2, 3]


def independent(sql: str, regions: list[int]) -> float:
    """One KPI over March 2026 and ``regions``, straight from the base tables."""
    value = app_db().scalar(sql, {"r": regions})
    return float(value) if value is not None else None


IN_MARCH = "{col} >= DATE '2026-03-01' AND {col} < DATE '2026-04-01' AND list_contains($r, {region})"
KPI_SQL = {
    "reach": "SELECT sum(reach) FROM activities WHERE track = 'marketing' AND "
    + IN_MARCH.format(col="activity_date", region="region_id"),
    "leads": "SELECT count(*) FROM leads WHERE " + IN_MARCH.format(col="created_at", region="region_id"),
    "mql": "SELECT count(*) FROM leads WHERE " + IN_MARCH.format(col="mql_at", region="region_id"),
    "marketing_spend": "SELECT sum(cost) FROM activities WHERE track = 'marketing' AND "
    + IN_MARCH.format(col="activity_date", region="region_id"),
    "brand_awareness": "SELECT sum(awareness_pct * sample_size) / sum(sample_size) FROM brand_surveys s"
    " WHERE list_contains($r, region_id) AND survey_date = (SELECT max(survey_date) FROM brand_surveys l"
    " WHERE l.region_id = s.region_id AND survey_date < DATE '2026-04-01')",
    "revenue": "SELECT sum(amount) FROM orders WHERE "
    + IN_MARCH.format(col="order_date", region="region_id"),
    "collections": "SELECT sum(p.amount) FROM payments p JOIN orders o USING (order_id) WHERE "
    + IN_MARCH.format(col="paid_on", region="o.region_id"),
    "win_rate": "SELECT count(*) FILTER (WHERE outcome = 'won') / count(*) FROM leads WHERE "
    + IN_MARCH.format(col="closed_at", region="region_id"),
    "target_revenue": "SELECT sum(revenue_target) FROM targets WHERE month = DATE '2026-03-01'"
    " AND list_contains($r, region_id)",
    "open_pipeline": "SELECT sum(value) FROM leads WHERE opportunity_at < DATE '2026-04-01'"
    " AND (closed_at IS NULL OR closed_at >= DATE '2026-04-01') AND list_contains($r, region_id)",
}


def expected_kpis(regions: list[int]) -> dict[str, float]:
    found = {name: independent(sql, regions) for name, sql in KPI_SQL.items()}
    found["cost_per_lead"] = found["marketing_spend"] / found["leads"]
    found["attainment"] = found["revenue"] / found.pop("target_revenue")
    return found


@pytest.fixture
def south_march(app_env: Path) -> Path:
    write_sql(app_db(), (FIXTURES / "south_march.sql").read_text(encoding="utf-8"))
    return app_env


def test_a_two_region_user_sees_exactly_their_two_regions_everywhere(south_march: Path) -> None:
    mine, everyone = expected_kpis(NORTH_EAST), expected_kpis(ALL)
    # hand-checked anchors: tiny.sql's per-region numbers for north + east
    assert (mine["revenue"], mine["collections"], mine["attainment"]) == (7000.0, 10700.0, 7000 / 12000)
    for name in mine:
        assert mine[name] != pytest.approx(everyone[name]), f"{name}: the fixture must tell the two apart"

    at = open_app("duo")
    at.segmented_control(key="lang").set_value("en").run()
    tiles = {m.label: m.value for m in at.metric}
    for name, value in mine.items():
        assert tiles[display.t(f"kpi.{name}", "en")] == display.value(name, value, "en"), name

    table = at.dataframe[0].value  # the region table: north, east, then the total of the two
    assert list(table.iloc[:, 0]) == ["North China", "East China", "Total"]
    total = table.iloc[-1]
    assert total.iloc[1] == pytest.approx(mine["revenue"])
    assert total.iloc[3] == pytest.approx(mine["attainment"])
    assert total.iloc[4] == pytest.approx(mine["collections"])

    funnel = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    counts = [x for trace in funnel for x in trace["x"]]
    assert mine["reach"] in counts and mine["leads"] in counts and mine["mql"] in counts
    assert everyone["reach"] not in counts


def test_the_region_filter_offers_only_the_users_regions(app_env: Path) -> None:
    at = open_app("duo")
    assert at.multiselect(key="region.zh").options == ["华北", "华东"]


def test_a_forged_link_region_is_refused_and_left_out(app_env: Path) -> None:
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    at.query_params["region"] = ["south", "north"]
    signed_in(at, "duo")
    assert at.warning and "south" in at.warning[0].value
    assert at.session_state["region"] == ["north"]
    revenue = {m.label: m.value for m in at.metric}["销售收入"]
    assert revenue == display.value("revenue", 6000.0, "zh")  # north alone


def test_a_forged_session_value_is_refused(app_env: Path) -> None:
    at = open_app("duo")
    at.session_state["region"] = ["south"]  # not something the widget can send
    at.run()
    assert at.error and "south" in at.error[0].value
    assert not at.metric
    at.run()  # the forged value is gone; the user's own regions are back
    assert len(at.metric) == 13 and not at.error  # 11 KPI tiles + 2 collaboration counts


def test_overview_page_is_refused_to_a_rep_even_when_its_script_is_run(app_env: Path) -> None:
    at = open_app("rep")
    with pytest.raises(ValueError):  # not registered for a rep: the file cannot even be chosen
        at.switch_page(page_path(PAGE_PATHS["overview"]))
