"""Every data table on every page downloads as CSV and Excel (issue 8, part 2): the same rows the
table shows, with the filters and the user's scope applied, raw values under the screen's headers.

Tiny fixture, March 2026 (tests/fixtures/tiny.sql); every expected number is worked out by hand in
the comments. A download's bytes are not reachable through AppTest once a run has ended, so the
tests record what each page hands to widgets.downloads (the frame and the file name) and decode the
CSV that widgets.csv_bytes makes of it, exactly as the button serves it.
"""

import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mktsales import access, board, promotions
from mktsales.accounts import find_user
from mktsales.scope import Scope
from mktsales.ui import board_view, funnel_view, promotion_view, widgets
from tests.app.conftest import app_db, open_app, page_path

Downloads = dict[str, tuple[str, pd.DataFrame]]  # widget key -> (file name, frame)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Downloads:
    """What the pages hand to the download buttons in the latest run, by widget key."""
    seen: Downloads = {}
    original = widgets.downloads

    def record(frame: pd.DataFrame, name: str, lang: str, key: str) -> None:
        seen[key] = (name, frame)
        original(frame, name, lang, key)

    monkeypatch.setattr(widgets, "downloads", record)
    return seen


def csv(seen: Downloads, key: str) -> pd.DataFrame:
    """The CSV file the button ``key`` serves, read back."""
    text = widgets.csv_bytes(seen[key][1])
    assert text.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the Chinese headers right
    return pd.read_csv(io.BytesIO(text), encoding="utf-8-sig")


def keys(at: AppTest) -> list[str]:
    """The download buttons on the page, in order, by key."""
    return [str(b.key) for b in at.get("download_button")]


def both(*tables: str) -> list[str]:
    return [f"{table}.{kind}" for table in tables for kind in ("csv", "xlsx")]


def page(username: str, path: str, view: tuple[str, str] | None = None) -> AppTest:
    at = open_app(username)
    at.switch_page(page_path(path)).run()
    if view is not None:
        at.segmented_control(key=view[0]).set_value(view[1]).run()
    assert not at.exception
    return at


# -- every table has its two buttons -------------------------------------------------------------
FUNNEL_TABLES = ("steps", "handoff", "waiting", "rejections", "by-region", "time-in-stage", "leads")


def test_every_table_of_the_overview_and_the_funnel_has_its_downloads(app_env: Path) -> None:
    assert keys(page("boss", "app_pages/overview.py")) == both("overview.regions")
    at = page("boss", "app_pages/funnel.py")
    assert keys(at) == both(*(f"funnel.{t}" for t in FUNNEL_TABLES))
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels[:2] == ["下载 CSV", "下载 Excel"]
    # the handoff by region needs two regions or more: a head of the east alone has no such table
    at = page("mkthead", "app_pages/funnel.py")
    assert keys(at) == both(*(f"funnel.{t}" for t in FUNNEL_TABLES if t != "handoff"))


def test_every_table_of_the_board_has_its_downloads(app_env: Path) -> None:
    db = app_db()
    rep, head = find_user(db, "rep"), find_user(db, "mkthead")
    board.post(
        db, rep, key="k1", direction="field", category="competitor", title="康师傅降价", body="降价 15%。",
        competitor="康师傅", now=dt.datetime(2026, 3, 20, 9),
    )  # fmt: skip
    plan = board.post(
        db, head, key="p1", direction="plan", category="targets", title="四月目标", body="四月目标。",
        regions=[2], needs_ack=True, now=dt.datetime(2026, 3, 30, 10),
    )  # fmt: skip
    assert keys(page("boss", "app_pages/board.py", ("board.view.zh", "metrics"))) == both(
        "board.response-by-category"
    )
    # heads and admins also see (and download) the response targets
    assert keys(page("mkthead", "app_pages/board.py", ("board.view.zh", "metrics"))) == both(
        "board.response-by-category", "board.response-targets"
    )
    assert keys(page("boss", "app_pages/board.py", ("board.view.zh", "competitors"))) == both(
        "board.competitors"
    )
    at = open_app("boss")
    at.session_state[board_view.OPEN_KEY] = plan.post_id  # the plan opened in full
    at.switch_page(page_path("app_pages/board.py")).run()
    assert not at.exception
    assert keys(at) == both(f"board.post{plan.post_id}-acks")


def report_deviation() -> None:
    """Marketing in the south reports that promotion 3 (live in the south) ran out of stock."""
    db = app_db()
    promotions.report_execution(
        db, find_user(db, "mkt"), key="mkt-1", promotion_id=3, region_id=3, kind="status",
        as_planned=False, deviations=["stock"], note="缺货", now=dt.datetime(2026, 3, 20, 10),
    )  # fmt: skip


def test_every_table_of_the_promotions_page_has_its_downloads(app_env: Path) -> None:
    report_deviation()
    assert keys(page("boss", "app_pages/promotions.py", ("promo.view.zh", "effects"))) == both(
        "promo.effects"
    )
    assert keys(page("boss", "app_pages/promotions.py", ("promo.view.zh", "execution"))) == both(
        "promo.deviations"
    )
    at = open_app("boss")
    at.session_state[promotion_view.OPEN_KEY] = 3  # promotion 3 in full
    at.switch_page(page_path("app_pages/promotions.py")).run()
    assert not at.exception
    assert keys(at) == both("promo.3-consultation", "promo.3-reports")  # one promotion in full


def test_the_admin_pages_have_their_downloads(app_env: Path) -> None:
    assert keys(page("admin", "app_pages/users.py")) == both("users")
    assert keys(page("admin", "app_pages/audit.py")) == both("audit")


def test_without_the_export_permission_there_are_no_buttons(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(access.PERMISSIONS, "data.export", frozenset({"admin"}))
    at = page("boss", "app_pages/funnel.py")
    assert not at.get("download_button") and len(at.dataframe) == 7  # the tables are still there
    assert not page("boss", "app_pages/overview.py").get("download_button")
    assert keys(page("admin", "app_pages/users.py")) == both("users")


# -- what the files hold ------------------------------------------------------------------------
def test_the_region_table_of_a_two_region_head_has_their_regions_and_the_total(
    app_env: Path, downloads: Downloads
) -> None:
    page("duo", "app_pages/overview.py")
    name, _ = downloads["overview.regions"]
    assert name == "mktsales-overview-regions-2026-03-01-2026-03-31-east-north"
    table = csv(downloads, "overview.regions")
    assert list(table["区域"]) == ["华北", "华东", "合计"]  # no south
    # revenue: north orders 1 (1,000) + 11 (5,000); east order 2 (1,000)
    assert list(table["收入"]) == [6000.0, 1000.0, 7000.0]
    # targets of March: north 5,000 + 3,000; east 2,000 + 2,000
    assert list(table["目标"]) == [8000.0, 4000.0, 12000.0]
    assert list(table["达成率"]) == pytest.approx([0.75, 0.25, 7000 / 12000])  # raw shares, not "75.0%"
    # collections: north payments 1 (1,000) and 6 (5,000); east payments 2 (400), 4 (300), 9 (4,000)
    assert list(table["回款"]) == [6000.0, 4700.0, 10700.0]
    # leads created in March: north 1, 2, 5, 8; east 3, 4, 10
    assert list(table["线索"]) == [4, 3, 7]


def test_a_narrow_region_filter_narrows_the_download_and_names_the_region(
    app_env: Path, downloads: Downloads
) -> None:
    at = page("boss", "app_pages/overview.py")
    assert downloads["overview.regions"][0] == "mktsales-overview-regions-2026-03-01-2026-03-31"  # all
    assert len(csv(downloads, "overview.regions")) == 4  # north, east, south, total
    at.multiselect(key="region.zh").set_value(["east"]).run()
    assert not at.exception
    assert downloads["overview.regions"][0] == "mktsales-overview-regions-2026-03-01-2026-03-31-east"
    table = csv(downloads, "overview.regions")
    assert list(table["区域"]) == ["华东", "合计"] and list(table["收入"]) == [1000.0, 1000.0]

    at.switch_page(page_path("app_pages/funnel.py")).run()
    assert not at.exception
    split = csv(downloads, "funnel.by-region")
    # East's March: leads 3, 4, 10 (all MQL), lead 4 accepted; lead 7's order paid 5 March
    assert list(split["区域"]) == ["华东", "合计"]
    assert list(split["线索"]) == [3, 3] and list(split["MQL"]) == [3, 3] and list(split["已回款"]) == [1, 1]
    leads = csv(downloads, "funnel.leads")
    assert list(leads["线索编号"]) == [3, 4, 10]  # east's MQLs of March


def test_the_funnel_downloads_hold_raw_numbers_and_every_lead_past_the_screen_cap(
    app_env: Path, downloads: Downloads, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(funnel_view, "SHOWN", 2)
    at = page("boss", "app_pages/funnel.py")
    split = csv(downloads, "funnel.by-region")
    assert list(split["区域"]) == ["华北", "华东", "华南", "合计"]
    assert list(split["线索"]) == [4, 3, 0, 7] and list(split["赢单"]) == [1, 0, 1, 2]
    assert list(split["线索→赢单"])[:2] == [0.25, 0.0]  # 1 of 4, 0 of 3: fractions, not "25.0%"
    handoff = csv(downloads, "funnel.handoff")
    # March decisions: accepted 1 (12 h), 2 (48 h), 4 (24 h), 6 (96 h); rejected 3 (24 h)
    assert handoff.iloc[-1]["区域"] == "合计" and handoff.iloc[-1]["接受率"] == pytest.approx(0.8)
    waiting = csv(downloads, "funnel.waiting")
    assert list(waiting["线索编号"]) == [10] and list(waiting["已等待"]) == [264]  # hours, a number
    # the MQLs of March are leads 1, 2, 3, 4 and 10: 2 on screen, all 5 in the file
    screen = next(
        d.value for d in at.dataframe if d.value.columns[0] == "线索编号" and "市场活动" in d.value.columns
    )
    assert len(screen) == 2
    assert list(csv(downloads, "funnel.leads")["线索编号"]) == [1, 2, 3, 4, 10]
    assert "共 5 条线索，显示前 2 条；下载包含全部。" in [c.value for c in at.caption]
    name = downloads["funnel.leads"][0]
    assert name == "mktsales-funnel-period-leads-mql-2026-03-01-2026-03-31" and name.isascii()


def test_the_board_and_promotion_downloads(app_env: Path, downloads: Downloads) -> None:
    db = app_db()
    board.post(
        db, find_user(db, "rep"), key="k1", direction="field", category="competitor", title="康师傅降价",
        body="降价 15%。", competitor="康师傅", now=dt.datetime(2026, 3, 20, 9),
    )  # fmt: skip
    report_deviation()
    page("boss", "app_pages/board.py", ("board.view.zh", "competitors"))
    intel = csv(downloads, "board.competitors")
    assert intel[["竞品", "帖子数", "区域"]].values.tolist() == [["康师傅", 1, "华北"]]
    assert pd.Timestamp(intel["最近上报"].iloc[0]).replace(tzinfo=None) == pd.Timestamp("2026-03-20 09:00")
    assert downloads["board.competitors"][0] == "mktsales-board-competitors-2026-03-01-2026-03-31"

    page("boss", "app_pages/promotions.py", ("promo.view.zh", "execution"))
    deviations = csv(downloads, "promo.deviations")
    assert deviations[["促销", "区域"]].values.tolist() == [["华南饮料陈列", "华南"]]
    assert deviations["执行情况"].iloc[0].startswith("✗")


def test_the_audit_download_keeps_secrets_masked(app_env: Path, downloads: Downloads) -> None:
    page("admin", "app_pages/audit.py")
    log = csv(downloads, "audit")
    # the six persona accounts were created with passwords today, inside the default last 7 days
    created = log[(log["对象"] == "users") & (log["操作"] == "create")]
    assert sorted(json.loads(v)["username"] for v in created["变更后"]) == [
        "admin", "boss", "duo", "mkt", "mkthead", "rep"
    ]  # fmt: skip
    assert {json.loads(v)["password_hash"] for v in created["变更后"]} == {"***"}
    hashes = [h for (h,) in app_db().rows("SELECT password_hash FROM users")]
    text = widgets.csv_bytes(downloads["audit"][1]).decode("utf-8-sig")
    assert len(hashes) == 6 and not any(h in text for h in hashes)
    today = dt.date.today()
    assert downloads["audit"][0] == f"mktsales-audit-{today - dt.timedelta(days=6)}-{today}"


def test_the_users_download_has_no_password_hash_or_token(app_env: Path, downloads: Downloads) -> None:
    page("admin", "app_pages/users.py")
    users = csv(downloads, "users")
    assert list(users.columns) == ["用户名", "姓名", "角色", "区域", "邮箱", "启用", "锁定至", "演示"]
    assert sorted(users["用户名"]) == ["admin", "boss", "duo", "mkt", "mkthead", "rep"]
    secrets = [v for row in app_db().rows("SELECT password_hash FROM users") for v in row]
    secrets += [v for (v,) in app_db().rows("SELECT token_hash FROM sessions")]
    text = widgets.csv_bytes(downloads["users"][1]).decode("utf-8-sig")
    assert secrets and not any(s in text for s in secrets)
    assert downloads["users"][0] == "mktsales-users"


# -- file names and the Excel file --------------------------------------------------------------
def test_file_names_are_ascii_and_say_what_when_and_where() -> None:
    march = Scope(dt.date(2026, 3, 1), dt.date(2026, 4, 1))
    assert widgets.file_name("funnel-steps", march) == "mktsales-funnel-steps-2026-03-01-2026-03-31"
    codes = {1: "north", 2: "华东", 3: "south", 4: "west", 5: "central"}
    two = Scope(march.start, march.end, regions=(2, 1))
    assert widgets.file_name("x", two, codes) == "mktsales-x-2026-03-01-2026-03-31-north-r2"  # 华东: by id
    mine = Scope(march.start, march.end, allowed_regions=(1, 2, 3, 4, 5))
    assert widgets.file_name("x", mine, codes) == "mktsales-x-2026-03-01-2026-03-31-5regions"
    assert widgets.file_name("users") == "mktsales-users"
    assert widgets.file_name("a b/c") == "mktsales-a_b_c"


def test_the_excel_file_takes_times_with_a_zone_and_lists() -> None:
    frame = pd.DataFrame(
        {
            "时间": pd.to_datetime(["2026-03-20 09:00"]).tz_localize("Asia/Shanghai"),
            "区域": [["华北", "华东"]],
            "值": [1.5],
        }
    )
    back = pd.read_excel(io.BytesIO(widgets.excel_bytes(frame)), engine="openpyxl")
    assert back.to_dict("records") == [
        {"时间": pd.Timestamp("2026-03-20 09:00"), "区域": "华北, 华东", "值": 1.5}
    ]
