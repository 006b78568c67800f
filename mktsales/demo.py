"""Demo data: two years of a Chinese FMCG company's marketing and sales, built reproducibly.

Everything is drawn from one ``numpy.random.default_rng(seed)`` and vectorised: loops run over
days, regions, promotions or chunks, never over rows. The big tables (activities, leads, orders,
payments) are generated and inserted in chunks so that memory stays bounded at millions of rows.

Day numbers count from the first day of the history (day 0); timestamps are seconds from its
midnight. Region and category indexes are 0-based positions in ``REGIONS`` / ``CATEGORIES``.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mktsales import accounts, config, summaries, vocabulary
from mktsales.audit import Actor, Tx
from mktsales.db import Database

DEFAULT_ACTIVITIES = 200_000
ALREADY_FILLED = "the database already has data (regions exist); build the demo into an empty one"
MIN_ACTIVITIES = 2_000

REGIONS: list[tuple[int, str, str, str]] = [
    (1, "north", "华北", "North China"),
    (2, "east", "华东", "East China"),
    (3, "south", "华南", "South China"),
    (4, "central", "华中", "Central China"),
    (5, "southwest", "西南", "Southwest China"),
    (6, "northwest", "西北", "Northwest China"),
    (7, "northeast", "东北", "Northeast China"),
]
CATEGORIES: list[tuple[int, str, str, str]] = [
    (1, "beverages", "饮料", "Beverages"),
    (2, "snacks", "休闲食品", "Snacks"),
    (3, "dairy", "乳制品", "Dairy"),
    (4, "personal_care", "个人护理", "Personal care"),
    (5, "household", "家居清洁", "Household cleaning"),
]
N_REGIONS = len(REGIONS)
N_CATEGORIES = len(CATEGORIES)
TABLES = (
    "regions", "categories", "products", "people", "customers", "promotions", "promotion_regions",
    "campaigns", "activities", "leads", "orders", "payments", "targets", "brand_surveys",
    "demo_promotion_truth",
)  # fmt: skip

# Feature modules that add their own demo data once the core is built. Each one has
#   TABLES: the tables it fills (emptied again if a build is interrupted),
#   build(db, *, seed, as_of, activities): fill them through db.write (by=DEMO), and
#   missing(db) -> bool: True for a finished demo built before the module existed,
# so an older demo database gets the feature's data the next time the app starts.
EXTENSIONS: tuple[str, ...] = ("mktsales.demo_board", "mktsales.demo_promotions")


def _extensions() -> list[Any]:
    return [importlib.import_module(name) for name in EXTENSIONS]


def all_tables() -> tuple[str, ...]:
    """The core's tables and the extensions', in the order they are filled."""
    return TABLES + tuple(t for module in _extensions() for t in module.TABLES)


# -- calendar ------------------------------------------------------------------------------------
HISTORY_YEARS = 2
SECONDS_PER_DAY = 86_400
SPRING_FESTIVALS = tuple(
    dt.date.fromisoformat(d)
    for d in (
        "2020-01-25", "2021-02-12", "2022-02-01", "2023-01-22", "2024-02-10", "2025-01-29",
        "2026-02-17", "2027-02-06", "2028-01-26", "2029-02-13", "2030-02-03", "2031-01-23", "2032-02-11",
    )
)  # fmt: skip
PRE_FESTIVAL_DAYS = 28  # the stocking-up rush before Spring Festival
PRE_FESTIVAL_LOW, PRE_FESTIVAL_HIGH = 1.25, 1.85  # order factor rising through the rush
FESTIVAL_WEEK_FACTOR = 0.4  # the holiday week itself
RECOVERY_WEEK_FACTOR = 0.8  # the week after
SHOPPING_FESTIVALS = ((6, 18, 17, 0.5), (11, 11, 21, 0.75))  # (month, day, ramp days, peak extra): 618, 双11
AFTER_SHOPPING_FESTIVAL_DAYS, AFTER_SHOPPING_FESTIVAL_FACTOR = 3, 0.88
WEEKDAY_ORDER_FACTOR = np.array([1.1, 1.05, 1.0, 1.0, 1.05, 0.85, 0.7])  # Monday first
WEEKDAY_MARKETING_FACTOR = np.array([1.0, 1.0, 1.0, 1.0, 1.05, 0.85, 0.65])
WEEKDAY_VISIT_FACTOR = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.25, 0.08])
MARKETING_SEASON_DAMPING = 0.35  # marketing follows the sales calendar, more gently
CATEGORY_SUMMER_AMPLITUDE = np.array([0.35, 0.0, -0.08, 0.05, 0.0])  # beverages sell in summer
SUMMER_PEAK_DAY_OF_YEAR = 196

# -- regions and categories (index order as REGIONS / CATEGORIES) --------------------------------
REGION_SIZE = np.array([0.16, 0.30, 0.20, 0.12, 0.10, 0.04, 0.08])  # share of order volume
REGION_GROWTH = np.array([0.06, 0.12, 0.10, 0.14, 0.15, 0.05, 0.01])  # yearly order growth
REGION_MARKETING = np.array([0.16, 0.26, 0.19, 0.13, 0.11, 0.07, 0.08])  # share of marketing work
CATEGORY_SIZE = np.array([0.30, 0.25, 0.20, 0.13, 0.12])

# -- people ----------------------------------------------------------------------------------------
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤"
)
GIVEN_NAMES = (
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "志强", "晓东", "雪", "婷",
    "宇", "浩", "鹏", "倩", "佳", "欣怡", "子涵", "思远", "俊杰", "海燕", "丹", "慧", "琳", "波", "斌",
    "辉", "颖", "晨", "博", "晓燕", "建国", "玉兰", "立新", "梦瑶", "雨欣", "嘉怡", "志远", "国强",
    "春梅",
)  # fmt: skip
MARKETING_STAFF_RANGE = (1, 3)
REPS_RANGE = (5, 40)
REPS_BASE, REPS_EXPONENT, REPS_REFERENCE = 4.0, 0.4, 100_000  # reps scale mildly with size
ROLE_MARKETING, ROLE_SALES, ROLE_REPS, ROLE_MARKETING_STAFF = range(4)  # pools per region
N_ROLES = 4

# -- products: (category index, name_zh, name_en, price per case, cost per case) ------------------
PRODUCTS = (
    (0, "冰红茶 500ml×15", "Iced black tea 500ml×15", 45.0, 31.0),
    (0, "茉莉蜜茶 500ml×15", "Jasmine honey tea 500ml×15", 48.0, 33.0),
    (0, "纯净水 550ml×24", "Purified water 550ml×24", 28.0, 18.5),
    (0, "橙汁饮料 450ml×15", "Orange juice drink 450ml×15", 52.0, 35.0),
    (0, "柠檬气泡水 330ml×24", "Lemon sparkling water 330ml×24", 72.0, 46.0),
    (0, "无糖乌龙茶 500ml×15", "Sugar-free oolong tea 500ml×15", 66.0, 42.0),
    (1, "原味薯片 70g×24", "Original potato chips 70g×24", 120.0, 78.0),
    (1, "麻辣牛肉干 100g×20", "Spicy beef jerky 100g×20", 380.0, 250.0),
    (1, "海苔夹心脆 40g×30", "Seaweed sandwich crisps 40g×30", 210.0, 132.0),
    (1, "每日坚果 25g×60", "Daily mixed nuts 25g×60", 330.0, 215.0),
    (1, "苏打饼干 400g×12", "Soda crackers 400g×12", 96.0, 60.0),
    (2, "纯牛奶 250ml×24", "Whole milk 250ml×24", 62.0, 45.0),
    (2, "原味酸奶 200g×16", "Plain yogurt 200g×16", 68.0, 47.0),
    (2, "低脂高钙奶 250ml×24", "Low-fat high-calcium milk 250ml×24", 70.0, 50.0),
    (2, "儿童成长奶 190ml×20", "Kids' growth milk 190ml×20", 85.0, 57.0),
    (2, "乳酸菌饮品 100ml×40", "Lactic acid bacteria drink 100ml×40", 58.0, 38.0),
    (3, "去屑洗发水 400ml×12", "Anti-dandruff shampoo 400ml×12", 420.0, 250.0),
    (3, "沐浴露 750ml×12", "Shower gel 750ml×12", 360.0, 215.0),
    (3, "美白牙膏 120g×36", "Whitening toothpaste 120g×36", 300.0, 175.0),
    (3, "抑菌洗手液 500ml×20", "Antibacterial hand wash 500ml×20", 260.0, 160.0),
    (4, "洗衣液 2kg×6", "Laundry liquid 2kg×6", 180.0, 115.0),
    (4, "洗洁精 1.5kg×8", "Dish soap 1.5kg×8", 110.0, 70.0),
    (4, "厨房油污净 500g×12", "Kitchen degreaser 500g×12", 150.0, 92.0),
    (4, "卫生纸 10卷×10提", "Toilet paper 10 rolls×10", 260.0, 190.0),
    (4, "消毒液 1L×12", "Disinfectant 1L×12", 140.0, 86.0),
)
PRODUCT_WEIGHT_RANGE = (0.5, 1.5)

# -- customers ---------------------------------------------------------------------------------------
CHANNELS = vocabulary.CHANNELS
KEY_ACCOUNT, SUPERMARKET, CONVENIENCE, DISTRIBUTOR = range(4)
CHANNEL_SHARE = np.array([0.03, 0.22, 0.50, 0.25])
CHANNEL_ORDER_WEIGHT = np.array([12.0, 2.5, 0.6, 6.0])  # how often a customer orders
CUSTOMER_WEIGHT_SIGMA = 0.7
QUANTITY_MEDIAN = np.array([180.0, 25.0, 4.0, 250.0])  # cases per order line
QUANTITY_SIGMA = 0.6
CREDIT_DAYS = np.array([60, 45, 30, 30])
DISTRIBUTOR_LONG_CREDIT = (0.5, 45)  # share of distributors on 45 days, and the days
BAD_PAYER_SHARE = 0.05
CUSTOMERS_PER_ACTIVITY, MIN_CUSTOMERS, MIN_CUSTOMERS_PER_REGION = 1 / 200, 200, 10
CITIES = (  # by region
    ("北京", "天津", "石家庄", "太原", "呼和浩特", "唐山", "保定"),
    ("上海", "杭州", "南京", "苏州", "宁波", "合肥", "济南", "青岛", "福州", "厦门"),
    ("广州", "深圳", "东莞", "佛山", "南宁", "海口"),
    ("武汉", "长沙", "郑州", "南昌", "洛阳", "襄阳"),
    ("成都", "重庆", "昆明", "贵阳", "绵阳"),
    ("西安", "兰州", "银川", "西宁", "乌鲁木齐"),
    ("沈阳", "大连", "长春", "哈尔滨", "吉林"),
)
KEY_ACCOUNT_CHAINS = (
    "华润万家", "永辉超市", "沃尔玛", "大润发", "家乐福", "物美", "步步高", "盒马鲜生", "联华超市",
    "天虹", "麦德龙", "人人乐",
)  # fmt: skip
SHOP_BRANDS = (
    "佳和", "惠民", "新百", "家家福", "联润", "万佳", "好又多", "利群", "乐购", "华联", "百佳", "金鹰",
    "信达", "福满", "东方", "美宜", "邻里", "优选", "鲜达", "乐家",
)  # fmt: skip
TRADER_BRANDS = (
    "鑫源", "恒泰", "通达", "宏发", "瑞丰", "兴隆", "金盛", "广源", "德润", "永信", "华通", "隆昌",
)  # fmt: skip
CHANNEL_SUFFIXES = (
    (),
    ("超市", "生活超市", "购物广场"),
    ("便利店", "便利", "24小时便利店"),
    ("商贸有限公司", "食品有限公司", "副食品批发部"),
)

# -- promotions ------------------------------------------------------------------------------------
PROMO_BASE, PROMO_PER_ACTIVITIES, PROMO_CAP = 12, 20_000, 400
PROMO_MAJOR_SHARE = 0.3
PROMO_SALES_ORIGIN_SHARE = 0.6  # of tactical promotions, requested by sales
PROMO_REJECT_SHARE = 0.15  # of sales requests
PROMO_CANCEL_SHARE = 0.04
MAJOR_DAYS, TACTICAL_DAYS = (21, 28), (7, 14)
MAJOR_REGIONS, TACTICAL_REGIONS = (2, 3), (1, 2)
PROMO_FIRST_DAY = 35  # leave a baseline before the first promotion
PROMO_FUTURE_DAYS = 45  # plans reach this far past as_of
PROMO_GAP_DAYS = 7  # clean days between promotions on one region x category
PROMO_GRID_EXTRA_DAYS = PROMO_FUTURE_DAYS + MAJOR_DAYS[1] + PROMO_GAP_DAYS + 1
REJECTED_START_HORIZON = 10  # rejected requests asked for a start at most this far past as_of
UPLIFT_RANGE = (0.10, 0.40)
SPEND_RATIO_RANGE = (0.04, 0.12)  # budget as a share of baseline revenue in the window
BUDGET_ROUNDING, MIN_BUDGET = 1_000, 5_000
REQUEST_LEAD_DAYS = (3.0, 10.0)  # sales asks this long before the start
DECISION_MEDIAN_HOURS, DECISION_SIGMA, DECISION_MAX_SHARE = 20.0, 1.0, 0.8
REVIEWED_AFTER_DAYS, REVIEWED_SHARE = 14, 0.7
APPROVED_WITHIN_DAYS, CONSULTING_WITHIN_DAYS = 10, 25
MECHANICS = (
    ("买赠", "gift-with-purchase"),
    ("特价", "price-off"),
    ("堆头陈列", "end-cap display"),
    ("品鉴试用", "sampling"),
    ("满减", "spend-and-save"),
    ("会员积分", "loyalty points"),
)

# -- activities ----------------------------------------------------------------------------------
AD, EVENT, CONTENT, PROMOTION, VISIT = range(5)
KINDS = vocabulary.ACTIVITY_KINDS  # AD ... VISIT above are positions in it
SALES_ACTIVITY_SHARE = 0.30
PROMOTION_ACTIVITY_SHARE = 0.06  # of marketing activities, in-store promotion support
OTHER_KIND_SHARE = np.array([0.35, 0.15, 0.50])  # ad, event, content
REACH_MEDIAN = np.array([15_000.0, 300.0, 2_500.0, 800.0, 0.0])
REACH_SIGMA = np.array([0.9, 0.6, 1.0, 0.6, 0.0])
ENGAGE_RATE = np.array([0.012, 0.45, 0.05, 0.15, 0.0])
ENGAGE_SIGMA = 0.4
COST_MEDIAN = np.array([40.0, 12_000.0, 600.0, 0.0, 0.0])  # ads: CNY per thousand reached
COST_SIGMA = np.array([0.3, 0.5, 0.7, 0.0, 0.0])
ADVISOR_SHARE = 0.30
CHUNK_ROWS = 500_000  # rows generated and committed at a time

# -- campaigns -------------------------------------------------------------------------------------
CAMPAIGN_KINDS = (AD, EVENT, CONTENT)  # one national campaign per quarter x category x kind
CAMPAIGN_KIND_WORDS = (("广告投放", "ads"), ("线下活动", "events"), ("内容营销", "content marketing"))
QUARTER_WORDS = ("一季度", "二季度", "三季度", "四季度")
# A day (month, day) whose selling season names each quarter's campaigns: Spring Festival, 618,
# Mid-Autumn, Double 11.
QUARTER_THEME_DAYS = ((1, 20), (6, 1), (9, 1), (11, 1))
CAMPAIGN_QUALITY_RANGE = (0.6, 1.4)  # multiplies the lead → MQL share of a campaign's leads

# -- leads -----------------------------------------------------------------------------------------
LEADS_PER_ACTIVITY = 1 / 4
SOURCES = vocabulary.LEAD_SOURCES
WEBSITE, REFERRAL, TRADE_SHOW = 3, 4, 5  # ad, event, content share the activity kind codes
SOURCE_SHARE = np.array([0.24, 0.14, 0.20, 0.22, 0.12, 0.08])
TRADE_SHOW_MONTHS, TRADE_SHOW_BOOST = (3, 10), 5.0  # the spring and autumn food fairs
LEAD_LAG_MEAN_DAYS = 3.0  # from activity to lead
WORK_DAY_START_H, WORK_DAY_HOURS = 8, 13
MQL_SHARE = np.array([0.38, 0.55, 0.42, 0.45, 0.60, 0.50])  # by source
MQL_MEDIAN_HOURS, MQL_SIGMA = 18.0, 1.1
ACCEPT_SHARE = np.array([0.72, 0.78, 0.75, 0.70, 0.68, 0.60, 0.62])  # by region
ACCEPT_MEDIAN_HOURS, ACCEPT_SIGMA = 24.0, 0.9
ACCEPT_SLOWNESS = np.array([0.9, 0.7, 0.8, 1.1, 1.3, 3.5, 3.0])  # 西北 and 东北 are slow
REJECT_REASONS = vocabulary.REJECT_REASONS
REJECT_REASON_SHARE = np.array([0.30, 0.20, 0.15, 0.15, 0.20])
OPPORTUNITY_SHARE = np.array([0.60, 0.65, 0.62, 0.58, 0.56, 0.50, 0.52])
OPPORTUNITY_MEDIAN_DAYS, OPPORTUNITY_SIGMA = 4.0, 0.8
WIN_SHARE = np.array([0.33, 0.38, 0.36, 0.30, 0.30, 0.25, 0.27])
CLOSE_MEDIAN_DAYS, CLOSE_SIGMA = (28.0, 35.0), 0.5  # won, lost
LOST_REASONS = vocabulary.LOST_REASONS
LOST_REASON_SHARE = np.array([0.35, 0.30, 0.20, 0.15])
VALUE_MEDIAN = np.array([40_000.0, 35_000.0, 45_000.0, 60_000.0, 50_000.0])  # CNY, by category
VALUE_SIGMA, VALUE_ROUNDING = 0.7, 100

# -- orders and payments ---------------------------------------------------------------------------
ORDERS_PER_ACTIVITY = 1 / 2
MAX_DISCOUNT = 0.04
CREDIT_NOISE_DAYS = 4.0
LATE_SHARE = np.array([0.12, 0.10, 0.12, 0.14, 0.15, 0.18, 0.35])  # 东北 pays late
LATE_SHARE_BAD, LATE_MEAN_DAYS = 0.7, 25.0
NEVER_PAID_SHARE, NEVER_PAID_SHARE_BAD = 0.02, 0.25
INSTALLMENT_SHARE = 0.20
FIRST_INSTALLMENT_SHARE = (0.3, 0.7)
FIRST_INSTALLMENT_DELAY = (0.4, 0.85)  # of the full delay
PAYMENT_METHODS = ("transfer", "bank_acceptance", "cash")  # draw order; vocabulary.PAYMENT_METHODS codes
BANK_ACCEPTANCE_SHARE_KA, CASH_SHARE_CONVENIENCE = 0.25, 0.5

# -- targets and surveys ---------------------------------------------------------------------------
TARGET_MONTHS_AHEAD = 3
TARGET_GOAL_RANGE = (0.95, 1.22)  # growth goal over expected revenue, spread across regions
TARGET_NOISE, TARGET_ROUNDING = 0.05, 100
SURVEY_MONTHS, SURVEY_DAY = (3, 6, 9, 12), 20
AWARENESS_BASE = np.array([55.0, 63.0, 58.0, 48.0, 44.0, 33.0, 40.0])
AWARENESS_TREND_PER_YEAR, AWARENESS_NOISE = 2.0, 1.2
SURVEY_SAMPLE_RANGE = (300, 1000)


# ---------------------------------------------------------------------------------------------------
@dataclass
class _Pool:
    """Members grouped by a key, for vectorised random picks within a group (optionally weighted)."""

    members: np.ndarray  # member values sorted by group
    start: np.ndarray  # first position of each group
    size: np.ndarray
    cum: np.ndarray | None = None  # cumulative weights in member order
    low: np.ndarray | None = None  # cumulative weight before each group

    @classmethod
    def build(
        cls, groups: np.ndarray, members: np.ndarray, n_groups: int, weights: np.ndarray | None = None
    ) -> _Pool:
        """Group members by key; every group must be non-empty."""
        order = np.argsort(groups, kind="stable")
        size = np.bincount(groups, minlength=n_groups)
        if (size == 0).any():
            raise ValueError("demo: an empty group in a pool")
        start = np.cumsum(size) - size
        if weights is None:
            return cls(members[order], start, size)
        cum = np.cumsum(weights[order])
        low = np.concatenate([[0.0], cum])[start]
        return cls(members[order], start, size, cum, low)

    def pick(self, rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
        """One member per entry of ``group``, uniformly or by weight within the group."""
        u = rng.random(len(group))
        if self.cum is None:
            pos = self.start[group] + (u * self.size[group]).astype(np.int64)
        else:
            total = self.cum[self.start[group] + self.size[group] - 1] - self.low[group]
            pos = np.searchsorted(self.cum, self.low[group] + u * total, side="right")
            pos = np.clip(pos, self.start[group], self.start[group] + self.size[group] - 1)
        return self.members[pos]


@dataclass
class _Ctx:
    """What every table generator needs: the generator, the calendar and the shared plans."""

    rng: np.random.Generator
    as_of: dt.date
    start: dt.date
    n_days: int
    activities: int
    order_scale: float = 0.0
    mean_amount: np.ndarray | None = None  # expected CNY per order, (region, category)
    people: _Pool | None = None  # person ids by region * N_ROLES + role
    national_head: int = 0
    heads: dict[tuple[int, str], int] | None = None  # (region index, department) -> person id
    customers: pd.DataFrame | None = None
    customer_pool: _Pool | None = None  # customer positions by region, weighted by order frequency
    products: pd.DataFrame | None = None
    product_pool: _Pool | None = None  # product positions by category, weighted
    promo_grid: np.ndarray | None = None  # promotion id per (day, region, category), 0 = none
    uplift_grid: np.ndarray | None = None
    promo_cell_budget: np.ndarray | None = None  # budget per (region, day) cell, by promotion id
    won: dict[str, np.ndarray] | None = None  # won leads, for their orders
    campaign_quality: np.ndarray | None = None  # lead → MQL multiplier by campaign id, 1.0 at 0 (none)

    @property
    def dates(self) -> np.ndarray:
        """Every day of the history as datetime64[D]."""
        return _date_range(self.start, self.n_days)

    @property
    def bound(self) -> int:
        """First second after as_of: every timestamp is below it."""
        return self.n_days * SECONDS_PER_DAY


def _date_range(first: dt.date, n: int) -> np.ndarray:
    """n consecutive days from first, as datetime64[D]."""
    return np.datetime64(first, "D") + np.arange(n)


def _quarter(dates: np.ndarray) -> np.ndarray:
    """Calendar quarters since 1970 for datetime64[D] values."""
    return dates.astype("datetime64[M]").astype(np.int64) // 3


def _weekday(dates: np.ndarray) -> np.ndarray:
    """Monday = 0 for datetime64[D] values (1970-01-01 was a Thursday)."""
    return (dates.astype(np.int64) + 3) % 7


def _delta_days(dates: np.ndarray, day: dt.date) -> np.ndarray:
    """Days from ``day`` to each date."""
    return (dates - np.datetime64(day, "D")).astype(np.int64)


def _sales_season(dates: np.ndarray) -> np.ndarray:
    """Order-volume factor per day: Spring Festival rush and dip, 618, Double 11, weekdays."""
    factor = WEEKDAY_ORDER_FACTOR[_weekday(dates)].astype(float)
    for festival in SPRING_FESTIVALS:
        delta = _delta_days(dates, festival)
        rush = (delta >= -PRE_FESTIVAL_DAYS) & (delta < 0)
        ramp = (delta[rush] + PRE_FESTIVAL_DAYS) / (PRE_FESTIVAL_DAYS - 1)
        factor[rush] *= PRE_FESTIVAL_LOW + (PRE_FESTIVAL_HIGH - PRE_FESTIVAL_LOW) * ramp
        factor[(delta >= 0) & (delta < 7)] *= FESTIVAL_WEEK_FACTOR
        factor[(delta >= 7) & (delta < 14)] *= RECOVERY_WEEK_FACTOR
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    for year in range(int(years.min()), int(years.max()) + 1):
        for month, day, ramp_days, extra in SHOPPING_FESTIVALS:
            delta = _delta_days(dates, dt.date(year, month, day))
            build_up = (delta >= -ramp_days) & (delta <= 0)
            factor[build_up] *= 1 + extra * ((delta[build_up] + ramp_days) / ramp_days) ** 2
            factor[(delta > 0) & (delta <= AFTER_SHOPPING_FESTIVAL_DAYS)] *= AFTER_SHOPPING_FESTIVAL_FACTOR
    return factor


def _category_season(dates: np.ndarray) -> np.ndarray:
    """Per-category yearly cycle, shape (days, categories)."""
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    wave = np.cos(2 * np.pi * (day_of_year - SUMMER_PEAK_DAY_OF_YEAR) / 365.25)
    return 1 + CATEGORY_SUMMER_AMPLITUDE[None, :] * wave[:, None]


def _order_intensity(dates: np.ndarray, as_of: dt.date) -> np.ndarray:
    """Relative expected orders per (day, region, category), before scaling and promotions."""
    season = _sales_season(dates)
    years = _delta_days(dates, as_of) / 365.25
    region = REGION_SIZE[None, :] * (1 + REGION_GROWTH[None, :]) ** years[:, None]
    category = CATEGORY_SIZE[None, :] * _category_season(dates)
    return season[:, None, None] * region[:, :, None] * category[:, None, :]


def _marketing_intensity(dates: np.ndarray) -> np.ndarray:
    """Relative marketing activity per (day, region, category)."""
    season = 1 + MARKETING_SEASON_DAMPING * (_sales_season(dates) / WEEKDAY_ORDER_FACTOR[_weekday(dates)] - 1)
    day = season * WEEKDAY_MARKETING_FACTOR[_weekday(dates)]
    return day[:, None, None] * REGION_MARKETING[None, :, None] * CATEGORY_SIZE[None, None, :]


def _insert(tx: Tx, frame: pd.DataFrame, sql: str, params: list | None = None) -> None:
    """Run one INSERT ... SELECT ... FROM frame, and note it in the audit trail."""
    tx.register("demo_frame", frame)
    try:
        tx.execute(sql, params)
    finally:
        tx.unregister("demo_frame")
    table = sql.split()[2]  # INSERT INTO <table> ...
    tx.audit(table, None, "demo_build", after={"rows": len(frame)})


def _commit(db: Database, *inserts: tuple[pd.DataFrame, str, list | None]) -> None:
    """Insert frames in a transaction of their own: big tables commit chunk by chunk to bound memory."""

    def work(tx: Tx) -> None:
        for frame, sql, params in inserts:
            _insert(tx, frame, sql, params)

    db.write(work, by=DEMO, maintained=True)  # the summaries are built once, at the end (_finish)


def _timestamps(ctx: _Ctx, seconds: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Seconds from the history start to datetime64[us], NaT where not present."""
    stamps = np.datetime64(ctx.start, "us") + (seconds * 1_000_000).astype("timedelta64[us]")
    stamps[~present] = np.datetime64("NaT")
    return stamps


def _chunks(sizes: np.ndarray, limit: int) -> Iterator[tuple[int, int]]:
    """Consecutive index ranges [a, b) whose sizes add up to about ``limit`` each."""
    cum = np.cumsum(sizes)
    a = 0
    while a < len(sizes):
        before = cum[a - 1] if a else 0
        b = max(a + 1, int(np.searchsorted(cum, before + limit, side="right")))
        yield a, min(b, len(sizes))
        a = b


# -- reference data ----------------------------------------------------------------------------------
def _write_reference(cur: Tx) -> None:
    """Regions and categories."""
    cur.executemany("INSERT INTO regions VALUES (?, ?, ?, ?)", REGIONS)
    cur.executemany("INSERT INTO categories VALUES (?, ?, ?, ?)", CATEGORIES)


def _write_products(ctx: _Ctx, cur: Tx) -> None:
    """4–6 products per category, with a sales weight within their category."""
    frame = pd.DataFrame(PRODUCTS, columns=["category", "name_zh", "name_en", "unit_price", "unit_cost"])
    frame.insert(0, "product_id", np.arange(1, len(frame) + 1))
    frame["category_id"] = frame["category"] + 1
    frame["weight"] = ctx.rng.uniform(*PRODUCT_WEIGHT_RANGE, len(frame))
    ctx.products = frame
    ctx.product_pool = _Pool.build(
        frame["category"].to_numpy(), np.arange(len(frame)), N_CATEGORIES, frame["weight"].to_numpy()
    )
    _insert(
        cur,
        frame,
        "INSERT INTO products SELECT product_id, category_id, name_zh, name_en, "
        "CAST(unit_price AS DECIMAL(18, 2)), CAST(unit_cost AS DECIMAL(18, 2)) FROM demo_frame",
    )


def _write_people(ctx: _Ctx, cur: Tx) -> None:
    """Per region a marketing head and staff, a sales head and reps; plus national marketing."""
    rng = ctx.rng
    scale = REPS_BASE * (ctx.activities / REPS_REFERENCE) ** REPS_EXPONENT
    reps = np.clip(np.round(scale * REGION_SIZE / REGION_SIZE.mean()), *REPS_RANGE).astype(int)
    staff = rng.integers(MARKETING_STAFF_RANGE[0], MARKETING_STAFF_RANGE[1] + 1, N_REGIONS)
    region, department, title = [-1, -1], ["marketing", "marketing"], ["head", "staff"]
    for r in range(N_REGIONS):
        n = 1 + staff[r] + 1 + reps[r]
        region += [r] * n
        department += ["marketing"] * (1 + staff[r]) + ["sales"] * (1 + reps[r])
        title += ["head"] + ["staff"] * staff[r] + ["head"] + ["rep"] * reps[r]
    n = len(region)
    names = rng.choice(len(SURNAMES) * len(GIVEN_NAMES), n, replace=False)
    frame = pd.DataFrame(
        {
            "person_id": np.arange(1, n + 1),
            "name": [SURNAMES[i // len(GIVEN_NAMES)] + GIVEN_NAMES[i % len(GIVEN_NAMES)] for i in names],
            "department": department,
            "title": title,
            "region": np.array(region),
        }
    )
    ctx.national_head = 1
    ctx.heads = {
        (int(row.region), str(row.department)): int(row.person_id)
        for row in frame[(frame["title"] == "head") & (frame["region"] >= 0)].itertuples()
    }
    groups, members = [], []
    regional = frame[frame["region"] >= 0]
    roles = {
        ROLE_MARKETING: regional["department"] == "marketing",
        ROLE_SALES: regional["department"] == "sales",
        ROLE_REPS: regional["title"] == "rep",
        ROLE_MARKETING_STAFF: (regional["department"] == "marketing") & (regional["title"] == "staff"),
    }
    for role, mask in roles.items():
        groups.append(regional.loc[mask, "region"].to_numpy() * N_ROLES + role)
        members.append(regional.loc[mask, "person_id"].to_numpy())
    ctx.people = _Pool.build(np.concatenate(groups), np.concatenate(members), N_REGIONS * N_ROLES)
    _insert(
        cur,
        frame,
        "INSERT INTO people SELECT person_id, name, department, title, "
        "CASE WHEN region >= 0 THEN region + 1 END FROM demo_frame",
    )


def _pick_words(rng: np.random.Generator, words: tuple[str, ...] | list[str], n: int) -> np.ndarray:
    """n random words as an object array."""
    return np.array(words, dtype=object)[rng.integers(len(words), size=n)]


def _customer_names(rng: np.random.Generator, region: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Plausible Chinese names: chain(city) for key accounts, city + brand + channel word otherwise."""
    n = len(region)
    city_region = np.concatenate([[r] * len(c) for r, c in enumerate(CITIES)])
    cities = _Pool.build(city_region, np.array([c for cs in CITIES for c in cs], dtype=object), N_REGIONS)
    city = cities.pick(rng, region)
    chain = _pick_words(rng, KEY_ACCOUNT_CHAINS, n)
    shop = _pick_words(rng, SHOP_BRANDS, n)
    trader = _pick_words(rng, TRADER_BRANDS, n)
    suffix = np.empty(n, dtype=object)
    for ch, words in enumerate(CHANNEL_SUFFIXES):
        mask = channel == ch
        suffix[mask] = _pick_words(rng, words or ("",), int(mask.sum()))
    names = np.where(
        channel == KEY_ACCOUNT,
        chain + "(" + city + ")",
        city + np.where(channel == DISTRIBUTOR, trader, shop) + suffix,
    )
    series = pd.Series(names)
    repeat = series.groupby(series).cumcount().to_numpy()
    extra = np.where(
        channel == DISTRIBUTOR, "第" + (repeat + 1).astype(str) + "分公司", (repeat + 1).astype(str) + "号店"
    )
    return np.where(repeat > 0, names + extra.astype(object), names)


def _write_customers(ctx: _Ctx, cur: Tx) -> None:
    """Customers of the four channels in every region, each with an account manager and terms."""
    rng = ctx.rng
    total = max(MIN_CUSTOMERS, int(ctx.activities * CUSTOMERS_PER_ACTIVITY))
    per_region = np.maximum(MIN_CUSTOMERS_PER_REGION, np.round(total * REGION_SIZE)).astype(int)
    region = np.repeat(np.arange(N_REGIONS), per_region)
    n = len(region)
    channel = rng.choice(len(CHANNELS), n, p=CHANNEL_SHARE)
    credit = CREDIT_DAYS[channel].copy()
    long_terms = (channel == DISTRIBUTOR) & (rng.random(n) < DISTRIBUTOR_LONG_CREDIT[0])
    credit[long_terms] = DISTRIBUTOR_LONG_CREDIT[1]
    bad = (channel != KEY_ACCOUNT) & (rng.random(n) < BAD_PAYER_SHARE)
    weight = CHANNEL_ORDER_WEIGHT[channel] * rng.lognormal(0.0, CUSTOMER_WEIGHT_SIGMA, n)
    manager = ctx.people.pick(rng, region * N_ROLES + ROLE_REPS)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "name": _customer_names(rng, region, channel),
            "channel": channel,
            "region": region,
            "manager": manager,
            "credit_days": credit,
            "bad": bad,
            "weight": weight,
        }
    )
    ctx.customers = frame
    ctx.customer_pool = _Pool.build(region, np.arange(n), N_REGIONS, weight)
    _insert(
        cur,
        frame,
        f"INSERT INTO customers SELECT customer_id, name, ({list(CHANNELS)})[channel + 1], region + 1, "
        "manager, credit_days FROM demo_frame",
    )


def _expected_amount(ctx: _Ctx) -> np.ndarray:
    """Expected CNY per order line by (region, category), from the customer and product mix."""
    customers, products = ctx.customers, ctx.products
    mean_qty = QUANTITY_MEDIAN * np.exp(QUANTITY_SIGMA**2 / 2)
    w = customers["weight"].to_numpy()
    region = customers["region"].to_numpy()
    qty = np.bincount(region, w * mean_qty[customers["channel"].to_numpy()], N_REGIONS) / np.bincount(
        region, w, N_REGIONS
    )
    pw = products["weight"].to_numpy()
    category = products["category"].to_numpy()
    price = np.bincount(category, pw * products["unit_price"].to_numpy(), N_CATEGORIES) / np.bincount(
        category, pw, N_CATEGORIES
    )
    return qty[:, None] * price[None, :] * (1 - MAX_DISCOUNT / 2)


# -- promotions ----------------------------------------------------------------------------------------
def _season_words(day: dt.date) -> tuple[str, str]:
    """The selling season a promotion is named after."""
    if any(0 <= (festival - day).days <= PRE_FESTIVAL_DAYS + 7 for festival in SPRING_FESTIVALS):
        return "春节", "Spring Festival"
    return {
        1: ("冬季", "winter"), 2: ("开春", "early spring"), 3: ("春季", "spring"), 4: ("春季", "spring"),
        5: ("五一", "May Day"), 6: ("618", "618"), 7: ("夏季", "summer"), 8: ("夏季", "summer"),
        9: ("中秋", "Mid-Autumn"), 10: ("国庆", "National Day"), 11: ("双11", "Double 11"),
        12: ("年终", "year-end"),
    }[day.month]  # fmt: skip


def _free_starts(busy: np.ndarray, length: int, last_start: int) -> np.ndarray:
    """Start days in [PROMO_FIRST_DAY, last_start) whose window and gaps have no busy day."""
    padded = np.concatenate([[0], np.cumsum(busy)])
    starts = np.arange(PROMO_FIRST_DAY, last_start)
    lo, hi = starts - PROMO_GAP_DAYS, starts + length + PROMO_GAP_DAYS
    return starts[padded[hi] == padded[lo]]


def _promotion_status(
    ctx: _Ctx, start: np.ndarray, end: np.ndarray, placed: np.ndarray, sales: np.ndarray, rejected: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Status, requested_at and decided_at (seconds, -1 = none) consistent with the dates and as_of."""
    rng = ctx.rng
    n = len(start)
    last = ctx.n_days - 1
    lead_days = rng.uniform(*REQUEST_LEAD_DAYS, n)
    requested = np.round((start - lead_days) * SECONDS_PER_DAY).astype(np.int64)
    late_request = requested >= ctx.bound
    requested[late_request] = (
        ctx.bound - np.round(rng.uniform(1, 72, n) * 3600).astype(np.int64)[late_request]
    )
    hours = np.minimum(
        rng.lognormal(np.log(DECISION_MEDIAN_HOURS), DECISION_SIGMA, n), DECISION_MAX_SHARE * lead_days * 24
    )
    decided = requested + np.round(hours * 3600).astype(np.int64)
    undecided = decided >= ctx.bound
    status = np.full(n, "cancelled", dtype=object)
    ran = placed & (start <= last)
    status[ran & (end >= last)] = "live"
    past = ran & (end < last)
    reviewed = past & (end < last - REVIEWED_AFTER_DAYS) & (rng.random(n) < REVIEWED_SHARE)
    status[past] = np.where(reviewed[past], "reviewed", "finished")
    future = placed & (start > last)
    ahead = start - last
    planned = np.where(
        ahead <= APPROVED_WITHIN_DAYS,
        "approved",
        np.where(ahead <= CONSULTING_WITHIN_DAYS, "consulting", "drafting"),
    )
    status[future] = np.where(sales, np.where(undecided, "requested", "approved"), planned)[future]
    status[rejected] = np.where(undecided, "requested", "rejected")[rejected]
    requested = np.where(sales, requested, -1)
    decided = np.where(sales & ~undecided, decided, -1)
    return status, requested, decided


def _write_promotions(ctx: _Ctx, cur: Tx) -> None:
    """Promotions placed without overlap per region x category, with a real, recorded uplift."""
    rng = ctx.rng
    n = min(PROMO_CAP, PROMO_BASE + ctx.activities // PROMO_PER_ACTIVITIES)
    major = rng.random(n) < PROMO_MAJOR_SHARE
    sales = ~major & (rng.random(n) < PROMO_SALES_ORIGIN_SHARE)
    rejected = sales & (rng.random(n) < PROMO_REJECT_SHARE)
    cancelled = ~rejected & (rng.random(n) < PROMO_CANCEL_SHARE)
    category = rng.choice(N_CATEGORIES, n, p=CATEGORY_SIZE / CATEGORY_SIZE.sum())
    length = np.where(
        major, rng.integers(MAJOR_DAYS[0], MAJOR_DAYS[1] + 1, n), rng.integers(*TACTICAL_DAYS, n) + 1
    )
    n_regions = np.where(
        major, rng.integers(MAJOR_REGIONS[0], MAJOR_REGIONS[1] + 1, n), rng.integers(*TACTICAL_REGIONS, n) + 1
    )
    mechanic = rng.integers(len(MECHANICS), size=n)
    uplift = np.round(rng.uniform(*UPLIFT_RANGE, n), 4)
    spend = rng.uniform(*SPEND_RATIO_RANGE, n)
    region_p = np.sqrt(REGION_SIZE) / np.sqrt(REGION_SIZE).sum()  # small regions get promotions too

    n_grid = ctx.n_days + PROMO_GRID_EXTRA_DAYS
    grid_dates = _date_range(ctx.start, n_grid)
    expected = _order_intensity(grid_dates, ctx.as_of) * ctx.order_scale * ctx.mean_amount[None, :, :]
    grid = np.zeros((n_grid, N_REGIONS, N_CATEGORIES), dtype=np.int32)
    start = np.zeros(n, dtype=np.int64)
    placed = np.zeros(n, dtype=bool)
    budget = np.zeros(n)
    regions: list[np.ndarray] = []
    titles_zh, titles_en = [], []
    for i in range(n):
        chosen = np.sort(rng.choice(N_REGIONS, n_regions[i], replace=False, p=region_p))
        regions.append(chosen)
        c = category[i]
        free = _free_starts(grid[:, chosen, c].any(axis=1), int(length[i]), ctx.n_days + PROMO_FUTURE_DAYS)
        if rejected[i] or cancelled[i] or len(free) == 0:  # no room left: the plan is cancelled
            start[i] = rng.integers(PROMO_FIRST_DAY, ctx.n_days + REJECTED_START_HORIZON)
        else:
            start[i] = free[rng.integers(len(free))]
            grid[start[i] : start[i] + length[i], chosen, c] = i + 1
            placed[i] = True
        window = expected[start[i] : start[i] + length[i], chosen, c].sum()
        budget[i] = max(MIN_BUDGET, np.round(window * spend[i] / BUDGET_ROUNDING) * BUDGET_ROUNDING)
        day = ctx.start + dt.timedelta(days=int(start[i]))
        season_zh, season_en = _season_words(day)
        mech_zh, mech_en = MECHANICS[mechanic[i]]
        zh = "·".join(REGIONS[r][2] for r in chosen) + CATEGORIES[c][2] + season_zh + mech_zh
        en = " & ".join(REGIONS[r][3] for r in chosen) + f" {CATEGORIES[c][3].lower()} {season_en} {mech_en}"
        titles_zh.append(zh + ("主题促销" if major[i] else ""))
        titles_en.append(en + (" campaign" if major[i] else ""))

    end = start + length - 1
    status, requested, decided = _promotion_status(ctx, start, end, placed, sales, rejected)
    ran = placed & (start < ctx.n_days)
    first_region = np.array([r[0] for r in regions])
    owner = np.where(
        sales,
        [ctx.heads[(r, "sales")] for r in first_region],
        np.where(major, ctx.national_head, [ctx.heads[(r, "marketing")] for r in first_region]),
    )
    promo_id = np.arange(1, n + 1)
    ctx.promo_grid = grid[: ctx.n_days]
    ctx.uplift_grid = np.concatenate([[0.0], uplift])[ctx.promo_grid]
    ctx.promo_cell_budget = np.concatenate([[0.0], np.where(ran, budget / (length * n_regions), 0.0)])
    frame = pd.DataFrame(
        {
            "promotion_id": promo_id,
            "title_zh": titles_zh,
            "title_en": titles_en,
            "major": major,
            "sales": sales,
            "status": status,
            "category": category,
            "start": start.astype(np.int32),
            "end": end.astype(np.int32),
            "budget": budget,
            "owner": owner,
            "requested": _timestamps(ctx, requested, requested >= 0),
            "decided": _timestamps(ctx, decided, decided >= 0),
        }
    )
    _insert(
        cur,
        frame,
        "INSERT INTO promotions SELECT promotion_id, title_zh, title_en, "
        "CASE WHEN major THEN 'major' ELSE 'tactical' END, "
        "CASE WHEN sales THEN 'sales' ELSE 'marketing' END, "
        'status, category + 1, ?::DATE + start, ?::DATE + "end", CAST(budget AS DECIMAL(18, 2)), owner, '
        "requested, decided FROM demo_frame",
        [ctx.start, ctx.start],
    )
    links = pd.DataFrame(
        {"promotion_id": np.repeat(promo_id, n_regions), "region_id": np.concatenate(regions) + 1}
    )
    _insert(cur, links, "INSERT INTO promotion_regions SELECT promotion_id, region_id FROM demo_frame")
    truth = pd.DataFrame({"promotion_id": promo_id[ran], "uplift": uplift[ran]})
    _insert(cur, truth, "INSERT INTO demo_promotion_truth SELECT promotion_id, uplift FROM demo_frame")


# -- campaigns -----------------------------------------------------------------------------------------
CAMPAIGNS_SQL = (
    "INSERT INTO campaigns SELECT campaign_id, name_zh, name_en, kind, category + 1, ?::DATE + first_day, "
    "?::DATE + last_day FROM demo_frame"
)


def _campaign_ids(start: dt.date, day: np.ndarray, category: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """The campaign of marketing work of ``kind`` on history day ``day``; 0 for promotions and visits.

    The one formula for a campaign id: quarters of the history (from the first), then categories,
    then kinds, numbered from 1.
    """
    quarter = _quarter(np.datetime64(start, "D") + day) - _quarter(np.datetime64(start, "D"))
    ids = (quarter * N_CATEGORIES + category) * len(CAMPAIGN_KINDS) + kind + 1
    return np.where(kind < len(CAMPAIGN_KINDS), ids, 0)


def _campaign_name(first: dt.date, category: int, kind: int) -> tuple[str, str]:
    """E.g. 2026年一季度 饮料 春节广告投放 / Q1 2026 Beverages Spring Festival ads."""
    quarter = (first.month - 1) // 3
    season_zh, season_en = _season_words(dt.date(first.year, *QUARTER_THEME_DAYS[quarter]))
    kind_zh, kind_en = CAMPAIGN_KIND_WORDS[kind]
    _, _, category_zh, category_en = CATEGORIES[category]
    return (
        f"{first.year}年{QUARTER_WORDS[quarter]} {category_zh} {season_zh}{kind_zh}",
        f"Q{quarter + 1} {first.year} {category_en} {season_en} {kind_en}",
    )


def _campaign_plan(start: dt.date, as_of: dt.date) -> pd.DataFrame:
    """Every campaign of the history, ids 1..n in order: quarter (clipped to history) x category x kind."""
    n_days = (as_of - start).days + 1
    quarter = _quarter(_date_range(start, n_days))
    first_day = np.flatnonzero(np.diff(quarter, prepend=quarter[0] - 1))
    last_day = np.append(first_day[1:] - 1, n_days - 1)
    q, category, kind = np.indices((len(first_day), N_CATEGORIES, len(CAMPAIGN_KINDS))).reshape(3, -1)
    names = [
        _campaign_name(start + dt.timedelta(days=int(first_day[i])), c, k)
        for i, c, k in zip(q, category, kind, strict=True)
    ]
    return pd.DataFrame(
        {
            "campaign_id": _campaign_ids(start, first_day[q], category, kind),
            "name_zh": [zh for zh, _ in names],
            "name_en": [en for _, en in names],
            "kind": np.array(KINDS)[kind],
            "category": category,
            "first_day": first_day[q].astype(np.int32),
            "last_day": last_day[q].astype(np.int32),
        }
    )


def _write_campaigns(ctx: _Ctx, cur: Tx) -> None:
    """The national campaigns, each with a lead quality of its own (unknown to the app)."""
    frame = _campaign_plan(ctx.start, ctx.as_of)
    quality = ctx.rng.uniform(*CAMPAIGN_QUALITY_RANGE, len(frame))
    ctx.campaign_quality = np.concatenate([[1.0], quality])
    _insert(cur, frame, CAMPAIGNS_SQL, [ctx.start, ctx.start])


# -- activities ------------------------------------------------------------------------------------
@dataclass
class _Slots:
    """Activities grouped by (day, region, category, kind): counts and the first activity id."""

    day: np.ndarray
    region: np.ndarray
    category: np.ndarray
    kind: np.ndarray
    count: np.ndarray
    promotion: np.ndarray
    cost_each: np.ndarray
    first_id: np.ndarray
    campaign: np.ndarray  # 0: none


def _plan_activities(ctx: _Ctx) -> _Slots:
    """How many activities of each kind fall on each (day, region, category)."""
    rng = ctx.rng
    n_sales = round(ctx.activities * SALES_ACTIVITY_SHARE)
    n_marketing = ctx.activities - n_sales
    cell_shape = (ctx.n_days, N_REGIONS, N_CATEGORIES)
    promo_cells = np.nonzero(ctx.promo_grid.ravel())[0]
    per_cell = max(0.0, PROMOTION_ACTIVITY_SHARE * n_marketing / max(1, len(promo_cells)) - 1)
    promo_count = 1 + rng.poisson(per_cell, len(promo_cells))
    n_other = n_marketing - int(promo_count.sum())
    if n_other < 0:
        raise ValueError("demo: too few activities for the promotions; use a larger size")
    mkt = _marketing_intensity(ctx.dates)[..., None] * OTHER_KIND_SHARE
    other_count = rng.multinomial(n_other, (mkt / mkt.sum()).ravel())
    visit_weight = (
        WEEKDAY_VISIT_FACTOR[_weekday(ctx.dates)][:, None, None]
        * REGION_SIZE[None, :, None]
        * CATEGORY_SIZE[None, None, :]
    ).ravel()
    visit_count = rng.multinomial(n_sales, visit_weight / visit_weight.sum())

    other_nz = np.nonzero(other_count)[0]
    visit_nz = np.nonzero(visit_count)[0]
    cells = np.concatenate([other_nz // len(OTHER_KIND_SHARE), promo_cells, visit_nz])
    kind = np.concatenate(
        [
            other_nz % len(OTHER_KIND_SHARE),
            np.full(len(promo_cells), PROMOTION),
            np.full(len(visit_nz), VISIT),
        ]
    )
    count = np.concatenate([other_count[other_nz], promo_count, visit_count[visit_nz]])
    promotion = np.zeros(len(cells), dtype=np.int64)
    promotion[kind == PROMOTION] = ctx.promo_grid.ravel()[promo_cells]
    day, region, category = np.unravel_index(cells, cell_shape)
    order = np.lexsort((kind, category, region, day))
    day, region, category, kind, count, promotion = (
        a[order] for a in (day, region, category, kind, count, promotion)
    )
    cost_each = ctx.promo_cell_budget[promotion] / count
    first_id = 1 + np.cumsum(count) - count
    campaign = _campaign_ids(ctx.start, day, category, kind)
    return _Slots(day, region, category, kind, count, promotion, cost_each, first_id, campaign)


def _write_activities(ctx: _Ctx, db: Database, slots: _Slots) -> None:
    """Expand the slots into activity rows, one transaction per chunk."""
    rng = ctx.rng
    sql = (
        "INSERT INTO activities SELECT activity_id, ?::DATE + day, "
        "CASE WHEN kind = 4 THEN 'sales' ELSE 'marketing' END, "
        f"({list(KINDS)})[kind + 1], region + 1, category + 1, owner, NULLIF(advisor, 0), "
        "NULLIF(promotion, 0), reach, engaged, CAST(cost AS DECIMAL(18, 2)), NULLIF(campaign, 0) "
        "FROM demo_frame"
    )
    for a, b in _chunks(slots.count, CHUNK_ROWS):
        idx = np.repeat(np.arange(a, b), slots.count[a:b])
        n = len(idx)
        kind = slots.kind[idx]
        region = slots.region[idx]
        reach = np.round(REACH_MEDIAN[kind] * np.exp(REACH_SIGMA[kind] * rng.standard_normal(n)))
        reach = np.where(kind == VISIT, 0, np.maximum(reach, 1)).astype(np.int64)
        rate = np.clip(ENGAGE_RATE[kind] * np.exp(ENGAGE_SIGMA * rng.standard_normal(n)), 0.0, 1.0)
        engaged = rng.binomial(reach, rate)
        base = COST_MEDIAN[kind] * np.exp(COST_SIGMA[kind] * rng.standard_normal(n))
        cost = np.where(kind == AD, reach / 1000 * base, base)
        cost = np.where(kind == PROMOTION, slots.cost_each[idx], cost)
        visit = kind == VISIT
        owner = ctx.people.pick(rng, region * N_ROLES + np.where(visit, ROLE_REPS, ROLE_MARKETING))
        advisor = ctx.people.pick(rng, region * N_ROLES + np.where(visit, ROLE_MARKETING, ROLE_SALES))
        advisor = np.where(rng.random(n) < ADVISOR_SHARE, advisor, 0)
        frame = pd.DataFrame(
            {
                "activity_id": np.arange(slots.first_id[a], slots.first_id[a] + n, dtype=np.int64),
                "day": slots.day[idx].astype(np.int32),
                "kind": kind.astype(np.int8),
                "region": region.astype(np.int8),
                "category": slots.category[idx].astype(np.int8),
                "owner": owner.astype(np.int32),
                "advisor": advisor.astype(np.int32),
                "promotion": slots.promotion[idx].astype(np.int32),
                "reach": reach.astype(np.int32),
                "engaged": engaged.astype(np.int32),
                "cost": np.round(cost, 2),
                "campaign": slots.campaign[idx].astype(np.int32),
            },
            copy=False,
        )
        _commit(db, (frame, sql, [ctx.start]))


# -- leads ---------------------------------------------------------------------------------------------
def _lead_origins(ctx: _Ctx, slots: _Slots) -> dict[str, np.ndarray]:
    """Source, region, category, activity, campaign and creation second of every lead, by creation."""
    rng = ctx.rng
    n = int(ctx.activities * LEADS_PER_ACTIVITY)
    source = np.sort(rng.choice(len(SOURCES), n, p=SOURCE_SHARE))
    day = np.zeros(n, dtype=np.int64)
    region = np.zeros(n, dtype=np.int64)
    category = np.zeros(n, dtype=np.int64)
    activity = np.zeros(n, dtype=np.int64)
    campaign = np.zeros(n, dtype=np.int32)
    bounds = np.searchsorted(source, np.arange(len(SOURCES) + 1))
    for kind in (AD, EVENT, CONTENT):
        a, b = bounds[kind], bounds[kind + 1]
        of_kind = np.nonzero(slots.kind == kind)[0]
        weight = slots.count[of_kind].astype(float)
        slot = of_kind[rng.choice(len(of_kind), b - a, p=weight / weight.sum())]
        activity[a:b] = slots.first_id[slot] + (rng.random(b - a) * slots.count[slot]).astype(np.int64)
        campaign[a:b] = slots.campaign[slot]
        lag = np.floor(rng.exponential(LEAD_LAG_MEAN_DAYS, b - a)).astype(np.int64)
        room = ctx.n_days - 1 - slots.day[slot]
        lag = np.where(lag > room, (rng.random(b - a) * (room + 1)).astype(np.int64), lag)
        day[a:b], region[a:b], category[a:b] = slots.day[slot] + lag, slots.region[slot], slots.category[slot]
    dates = ctx.dates
    weight = _marketing_intensity(dates)
    a, b = bounds[WEBSITE], bounds[len(SOURCES)]
    cells = rng.choice(weight.size, b - a, p=(weight / weight.sum()).ravel())
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    fair = 1 + TRADE_SHOW_BOOST * np.isin(months, TRADE_SHOW_MONTHS)
    fair_weight = weight * fair[:, None, None]
    trade = source[a:b] == TRADE_SHOW
    cells[trade] = rng.choice(weight.size, int(trade.sum()), p=(fair_weight / fair_weight.sum()).ravel())
    day[a:b], region[a:b], category[a:b] = np.unravel_index(cells, weight.shape)
    created = day * SECONDS_PER_DAY + (
        WORK_DAY_START_H * 3600 + rng.random(n) * WORK_DAY_HOURS * 3600
    ).astype(np.int64)
    order = np.argsort(created, kind="stable")
    return {
        "source": source[order],
        "region": region[order],
        "category": category[order],
        "activity": activity[order],
        "campaign": campaign[order],
        "created": created[order],
    }


def _lognormal_seconds(
    rng: np.random.Generator, median: np.ndarray | float, sigma: float, unit: int, n: int
) -> np.ndarray:
    """Lognormal durations in whole seconds (median given in ``unit`` seconds)."""
    return np.round(rng.lognormal(np.log(median), sigma, n) * unit).astype(np.int64)


def _write_leads(ctx: _Ctx, db: Database, slots: _Slots) -> None:
    """The lead journey across both tracks, stage by stage; stages after as_of are not reached."""
    rng = ctx.rng
    origin = _lead_origins(ctx, slots)
    bound = ctx.bound
    won_parts: list[dict[str, np.ndarray]] = []
    sql = (
        "INSERT INTO leads SELECT lead_id, region + 1, category + 1, "
        f"({list(SOURCES)})[source + 1], NULLIF(activity, 0), owner, created, mql, sal, rejected, "
        f"CASE WHEN reject_reason >= 0 THEN ({list(REJECT_REASONS)})[reject_reason + 1] END, opportunity, "
        "closed, CASE WHEN closed IS NOT NULL THEN (CASE WHEN won THEN 'won' ELSE 'lost' END) END, "
        f"CASE WHEN lost_reason >= 0 THEN ({list(LOST_REASONS)})[lost_reason + 1] END, "
        "CASE WHEN value >= 0 THEN CAST(value AS DECIMAL(18, 2)) END, NULLIF(campaign, 0) FROM demo_frame"
    )
    n_all = len(origin["created"])
    for a, b in _chunks(np.ones(n_all, dtype=np.int64), CHUNK_ROWS):
        n = b - a
        src, region, category = origin["source"][a:b], origin["region"][a:b], origin["category"][a:b]
        created, campaign = origin["created"][a:b], origin["campaign"][a:b]
        mql = created + _lognormal_seconds(rng, MQL_MEDIAN_HOURS, MQL_SIGMA, 3600, n)
        mql_share = MQL_SHARE[src] * ctx.campaign_quality[campaign]
        has_mql = (rng.random(n) < mql_share) & (mql < bound)
        decision = mql + _lognormal_seconds(
            rng, ACCEPT_MEDIAN_HOURS * ACCEPT_SLOWNESS[region], ACCEPT_SIGMA, 3600, n
        )
        accepted = rng.random(n) < ACCEPT_SHARE[region]
        decided = has_mql & (decision < bound)
        has_sal, has_rejected = decided & accepted, decided & ~accepted
        opportunity = decision + _lognormal_seconds(
            rng, OPPORTUNITY_MEDIAN_DAYS, OPPORTUNITY_SIGMA, SECONDS_PER_DAY, n
        )
        has_opportunity = has_sal & (rng.random(n) < OPPORTUNITY_SHARE[region]) & (opportunity < bound)
        won = rng.random(n) < WIN_SHARE[region]
        closed = opportunity + _lognormal_seconds(
            rng, np.where(won, CLOSE_MEDIAN_DAYS[0], CLOSE_MEDIAN_DAYS[1]), CLOSE_SIGMA, SECONDS_PER_DAY, n
        )
        has_closed = has_opportunity & (closed < bound)
        value = np.round(rng.lognormal(np.log(VALUE_MEDIAN[category]), VALUE_SIGMA, n) / VALUE_ROUNDING)
        value = np.where(has_opportunity, np.maximum(value, 1) * VALUE_ROUNDING, -1.0)
        reject_reason = np.where(has_rejected, rng.choice(len(REJECT_REASONS), n, p=REJECT_REASON_SHARE), -1)
        lost_reason = np.where(has_closed & ~won, rng.choice(len(LOST_REASONS), n, p=LOST_REASON_SHARE), -1)
        owner = np.where(
            has_sal,
            ctx.people.pick(rng, region * N_ROLES + ROLE_REPS),
            ctx.people.pick(rng, region * N_ROLES + ROLE_MARKETING_STAFF),
        )
        lead_id = np.arange(a + 1, b + 1, dtype=np.int64)
        frame = pd.DataFrame(
            {
                "lead_id": lead_id,
                "region": region.astype(np.int8),
                "category": category.astype(np.int8),
                "source": src.astype(np.int8),
                "activity": origin["activity"][a:b],
                "owner": owner.astype(np.int32),
                "created": _timestamps(ctx, created, np.ones(n, dtype=bool)),
                "mql": _timestamps(ctx, mql, has_mql),
                "sal": _timestamps(ctx, decision, has_sal),
                "rejected": _timestamps(ctx, decision, has_rejected),
                "reject_reason": reject_reason.astype(np.int8),
                "opportunity": _timestamps(ctx, opportunity, has_opportunity),
                "closed": _timestamps(ctx, closed, has_closed),
                "won": won,
                "lost_reason": lost_reason.astype(np.int8),
                "value": value,
                "campaign": campaign,
            },
            copy=False,
        )
        _commit(db, (frame, sql, None))
        is_won = has_closed & won
        won_parts.append(
            {
                "lead_id": lead_id[is_won],
                "day": closed[is_won] // SECONDS_PER_DAY,
                "region": region[is_won],
                "category": category[is_won],
                "cents": np.round(value[is_won] * 100).astype(np.int64),
            }
        )
    won = {k: np.concatenate([p[k] for p in won_parts]) for k in won_parts[0]}
    order = np.argsort(won["day"], kind="stable")
    ctx.won = {k: v[order] for k, v in won.items()}


# -- orders and payments -----------------------------------------------------------------------------
def _repeat_orders(ctx: _Ctx, counts: np.ndarray, d0: int) -> dict[str, np.ndarray]:
    """Order lines for the (day, region, category) counts of days d0..: customer, product, amount."""
    rng = ctx.rng
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    day, region, category = np.unravel_index(cell, counts.shape)
    customer = ctx.customer_pool.pick(rng, region)
    product = ctx.product_pool.pick(rng, category)
    channel = ctx.customers["channel"].to_numpy()[customer]
    quantity = np.maximum(
        1, np.round(QUANTITY_MEDIAN[channel] * np.exp(QUANTITY_SIGMA * rng.standard_normal(len(cell))))
    ).astype(np.int64)
    price_cents = np.round(ctx.products["unit_price"].to_numpy() * 100)[product]
    discount = 1 - rng.uniform(0, MAX_DISCOUNT, len(cell))
    cents = np.round(quantity * price_cents * discount).astype(np.int64)
    zeros = np.zeros(len(cell), dtype=np.int64)
    return {
        "day": day + d0, "region": region, "category": category, "customer": customer,
        "product": product, "quantity": quantity, "cents": cents, "lead": zeros,
    }  # fmt: skip


def _won_orders(ctx: _Ctx, d0: int, d1: int) -> dict[str, np.ndarray]:
    """One order per won lead closed on days d0..d1-1, worth the lead's value."""
    rng = ctx.rng
    a, b = np.searchsorted(ctx.won["day"], [d0, d1])
    region, category = ctx.won["region"][a:b], ctx.won["category"][a:b]
    customer = ctx.customer_pool.pick(rng, region)
    product = ctx.product_pool.pick(rng, category)
    cents = ctx.won["cents"][a:b]
    price = ctx.products["unit_price"].to_numpy()[product]
    quantity = np.maximum(1, np.round(cents / 100 / price)).astype(np.int64)
    return {
        "day": ctx.won["day"][a:b], "region": region, "category": category, "customer": customer,
        "product": product, "quantity": quantity, "cents": cents, "lead": ctx.won["lead_id"][a:b],
    }  # fmt: skip


def _payments(ctx: _Ctx, order_id: np.ndarray, orders: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Payments after the customer's credit days: some late, some in two parts, a few never."""
    rng = ctx.rng
    n = len(order_id)
    customers = ctx.customers
    pos = orders["customer"]
    bad = customers["bad"].to_numpy()[pos]
    channel = customers["channel"].to_numpy()[pos]
    never = rng.random(n) < np.where(bad, NEVER_PAID_SHARE_BAD, NEVER_PAID_SHARE)
    late = rng.random(n) < np.where(bad, LATE_SHARE_BAD, LATE_SHARE[orders["region"]])
    delay = customers["credit_days"].to_numpy()[pos] + np.round(rng.normal(0, CREDIT_NOISE_DAYS, n))
    delay = np.maximum(0, delay + np.where(late, np.ceil(rng.exponential(LATE_MEAN_DAYS, n)), 0)).astype(
        np.int64
    )
    split = rng.random(n) < INSTALLMENT_SHARE
    first_cents = np.where(
        split, np.round(orders["cents"] * rng.uniform(*FIRST_INSTALLMENT_SHARE, n)), orders["cents"]
    )
    first_cents = first_cents.astype(np.int64)
    first_day = orders["day"] + np.where(
        split, np.floor(delay * rng.uniform(*FIRST_INSTALLMENT_DELAY, n)), delay
    )
    method_draw = rng.random(n)
    method = np.where(
        (channel == KEY_ACCOUNT) & (method_draw < BANK_ACCEPTANCE_SHARE_KA),
        1,
        np.where((channel == CONVENIENCE) & (method_draw < CASH_SHARE_CONVENIENCE), 2, 0),
    )
    part = np.concatenate([np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)])
    rows = {
        "order_id": np.concatenate([order_id, order_id]),
        "day": np.concatenate([first_day, orders["day"] + delay]).astype(np.int64),
        "cents": np.concatenate([first_cents, orders["cents"] - first_cents]),
        "method": np.concatenate([method, method]),
    }
    keep = np.concatenate([~never, ~never & split]) & (rows["cents"] > 0) & (rows["day"] < ctx.n_days)
    order = np.lexsort((part[keep], rows["order_id"][keep]))
    return {k: v[keep][order] for k, v in rows.items()}


def _write_orders(ctx: _Ctx, db: Database) -> None:
    """Repeat orders with seasonality and promotion uplift, won-lead orders, and their payments."""
    rng = ctx.rng
    lam = _order_intensity(ctx.dates, ctx.as_of) * ctx.order_scale * (1 + ctx.uplift_grid)
    counts = rng.poisson(lam)
    per_day = counts.sum(axis=(1, 2)) + np.bincount(ctx.won["day"], minlength=ctx.n_days)
    customer_ids = ctx.customers["customer_id"].to_numpy()
    managers = ctx.customers["manager"].to_numpy()
    product_ids = ctx.products["product_id"].to_numpy()
    order_sql = (
        "INSERT INTO orders SELECT order_id, ?::DATE + day, customer_id, product_id, region + 1, "
        "category + 1, quantity, CAST(amount AS DECIMAL(18, 2)), NULLIF(lead, 0), NULLIF(promotion, 0), "
        "rep FROM demo_frame"
    )
    payment_sql = (
        "INSERT INTO payments SELECT payment_id, order_id, ?::DATE + day, CAST(amount AS DECIMAL(18, 2)), "
        f"({list(PAYMENT_METHODS)})[method + 1] FROM demo_frame"
    )
    next_order, next_payment = 1, 1
    for d0, d1 in _chunks(per_day, CHUNK_ROWS):
        parts = [_repeat_orders(ctx, counts[d0:d1], d0), _won_orders(ctx, d0, d1)]
        rows = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        order = np.argsort(rows["day"], kind="stable")
        rows = {k: v[order] for k, v in rows.items()}
        n = len(order)
        order_id = np.arange(next_order, next_order + n, dtype=np.int64)
        next_order += n
        frame = pd.DataFrame(
            {
                "order_id": order_id,
                "day": rows["day"].astype(np.int32),
                "customer_id": customer_ids[rows["customer"]].astype(np.int32),
                "product_id": product_ids[rows["product"]].astype(np.int32),
                "region": rows["region"].astype(np.int8),
                "category": rows["category"].astype(np.int8),
                "quantity": rows["quantity"].astype(np.int32),
                "amount": rows["cents"] / 100,
                "lead": rows["lead"],
                "promotion": ctx.promo_grid[rows["day"], rows["region"], rows["category"]],
                "rep": managers[rows["customer"]].astype(np.int32),
            },
            copy=False,
        )
        orders = frame
        paid = _payments(ctx, order_id, rows)
        m = len(paid["order_id"])
        frame = pd.DataFrame(
            {
                "payment_id": np.arange(next_payment, next_payment + m, dtype=np.int64),
                "order_id": paid["order_id"],
                "day": paid["day"].astype(np.int32),
                "amount": paid["cents"] / 100,
                "method": paid["method"].astype(np.int8),
            },
            copy=False,
        )
        next_payment += m
        _commit(db, (orders, order_sql, [ctx.start]), (frame, payment_sql, [ctx.start]))


# -- targets and surveys -------------------------------------------------------------------------------
def _add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after day's month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _write_targets(ctx: _Ctx, cur: Tx) -> None:
    """Monthly revenue targets per region x category: expected revenue x a regional growth goal."""
    rng = ctx.rng
    first = _add_months(ctx.start, 0)
    months = [_add_months(first, i) for i in range(_month_count(first, ctx.as_of) + TARGET_MONTHS_AHEAD)]
    end = _add_months(months[-1], 1)
    dates = _date_range(first, (end - first).days)
    revenue = _order_intensity(dates, ctx.as_of) * ctx.order_scale * ctx.mean_amount[None, :, :]
    starts = np.array([(m - first).days for m in months])
    monthly = np.add.reduceat(revenue, starts, axis=0)
    goal = rng.permutation(np.linspace(*TARGET_GOAL_RANGE, N_REGIONS))
    noise = 1 + rng.normal(0, TARGET_NOISE, monthly.shape)
    target = np.round(monthly * goal[None, :, None] * noise / TARGET_ROUNDING) * TARGET_ROUNDING
    m, r, c = np.indices(monthly.shape).reshape(3, -1)
    frame = pd.DataFrame(
        {
            "month": np.array(months, dtype="datetime64[D]")[m],
            "region": r + 1,
            "category": c + 1,
            "target": np.maximum(target.ravel(), 0),
        }
    )
    _insert(
        cur,
        frame,
        "INSERT INTO targets SELECT CAST(month AS DATE), region, category, CAST(target AS DECIMAL(18, 2)) "
        "FROM demo_frame",
    )


def _month_count(first: dt.date, last: dt.date) -> int:
    """Months from first's month through last's month, inclusive."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _write_surveys(ctx: _Ctx, cur: Tx) -> None:
    """Quarterly brand-awareness surveys per region, trending slowly upward."""
    rng = ctx.rng
    days = [
        dt.date(y, m, SURVEY_DAY)
        for y in range(ctx.start.year, ctx.as_of.year + 1)
        for m in SURVEY_MONTHS
        if ctx.start <= dt.date(y, m, SURVEY_DAY) <= ctx.as_of
    ]
    dates = np.array(days, dtype="datetime64[D]")
    years = _delta_days(dates, ctx.start) / 365.25
    awareness = AWARENESS_BASE[None, :] + AWARENESS_TREND_PER_YEAR * years[:, None]
    awareness = np.clip(awareness + rng.normal(0, AWARENESS_NOISE, awareness.shape), 0, 100)
    d, r = np.indices(awareness.shape).reshape(2, -1)
    frame = pd.DataFrame(
        {
            "survey_date": dates[d],
            "region": r + 1,
            "awareness": np.round(awareness.ravel(), 1),
            "sample": rng.integers(SURVEY_SAMPLE_RANGE[0], SURVEY_SAMPLE_RANGE[1] + 1, d.size),
        }
    )
    _insert(
        cur,
        frame,
        "INSERT INTO brand_surveys SELECT CAST(survey_date AS DATE), region, awareness, sample "
        "FROM demo_frame",
    )


# -- the build -------------------------------------------------------------------------------------------
def _history_start(as_of: dt.date) -> dt.date:
    """First day of the two years ending on as_of."""
    try:
        earlier = as_of.replace(year=as_of.year - HISTORY_YEARS)
    except ValueError:  # 29 February
        earlier = as_of.replace(year=as_of.year - HISTORY_YEARS, day=28)
    return earlier + dt.timedelta(days=1)


def _write_small_tables(ctx: _Ctx, cur: Tx) -> None:
    """Reference data, people, customers, promotions, targets and surveys, in one transaction."""
    if cur.execute("SELECT count(*) FROM regions").fetchone()[0]:
        raise ValueError(ALREADY_FILLED)
    cur.execute("INSERT INTO meta VALUES (?, '1')", [BUILDING])
    _write_reference(cur)
    _write_products(ctx, cur)
    _write_people(ctx, cur)
    _write_customers(ctx, cur)
    ctx.mean_amount = _expected_amount(ctx)
    ctx.order_scale = ctx.activities * ORDERS_PER_ACTIVITY / _order_intensity(ctx.dates, ctx.as_of).sum()
    _write_promotions(ctx, cur)
    _write_targets(ctx, cur)
    _write_surveys(ctx, cur)
    _write_campaigns(ctx, cur)


def _finish(ctx: _Ctx, cur: Tx, seed: int) -> dict[str, int]:
    """Build the summary tables, write the meta rows (last, so a complete build is recognisable)
    and count every table."""
    summaries.rebuild(cur)
    cur.execute("DELETE FROM meta WHERE key = ?", [BUILDING])
    cur.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [
            ("demo_seed", str(seed)),
            ("demo_as_of", ctx.as_of.isoformat()),
            ("demo_activities", str(ctx.activities)),
        ],
    )
    counts = {t: int(cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in all_tables()}
    cur.audit("demo", seed, "demo_finished", after={"as_of": ctx.as_of, "rows": counts})
    return counts


OWN_DATA = "own_data"  # meta key: a company's own database (made by ``init``), never filled with demo data


def is_own(db: Database) -> bool:
    """True for a database made for a company's own data: the app never builds the demo into it."""
    return bool(db.scalar("SELECT count(*) FROM meta WHERE key = ?", [OWN_DATA]))


def mark_own(db: Database, by: Actor) -> None:
    """Mark ``db`` as a company's own database (``python -m mktsales init``)."""
    if is_own(db):
        return
    db.write(
        lambda tx: (
            tx.execute("INSERT INTO meta VALUES (?, ?)", [OWN_DATA, dt.datetime.now().isoformat()]),
            tx.audit("database", None, "init"),
        ),
        by=by,
        data=False,
    )


def is_demo(db: Database) -> bool:
    """True when the file holds a complete demo build."""
    return bool(db.scalar("SELECT count(*) FROM meta WHERE key = 'demo_seed'"))


def lacks_campaigns(db: Database) -> bool:
    """True for a demo built before campaigns existed (migration 003): activities, no campaigns."""
    return is_demo(db) and bool(db.scalar("SELECT NOT EXISTS (FROM campaigns) AND EXISTS (FROM activities)"))


def add_campaigns(db: Database) -> None:
    """Give a demo built before migration 003 the build's campaigns, in one set-based write.

    Each ad, event and content activity joins the campaign of its kind, category and quarter, and
    each lead takes its activity's. The ids are the build's; the campaigns' lead quality is not.
    """
    as_of = dt.date.fromisoformat(db.scalar("SELECT value FROM meta WHERE key = 'demo_as_of'"))
    start = _history_start(as_of)
    frame = _campaign_plan(start, as_of)

    def work(tx: Tx) -> None:
        _insert(tx, frame, CAMPAIGNS_SQL, [start, start])
        _backfill(
            tx,
            "UPDATE activities a SET campaign_id = c.campaign_id FROM campaigns c "
            "WHERE c.kind = a.kind AND c.category_id = a.category_id "
            "AND a.activity_date BETWEEN c.start_date AND c.end_date",
        )
        _backfill(
            tx,
            "UPDATE leads l SET campaign_id = a.campaign_id FROM activities a "
            "WHERE a.activity_id = l.activity_id AND a.campaign_id IS NOT NULL",
        )

    db.write(work, by=DEMO)


def add_missing_features(db: Database) -> list[str]:
    """Give a finished demo built before a feature module existed that module's demo data."""
    if not is_demo(db):
        return []
    added = []
    for module in _extensions():
        if module.missing(db):
            seed = int(db.scalar("SELECT value FROM meta WHERE key = 'demo_seed'"))
            as_of = dt.date.fromisoformat(db.scalar("SELECT value FROM meta WHERE key = 'demo_as_of'"))
            activities = int(db.scalar("SELECT value FROM meta WHERE key = 'demo_activities'"))
            module.build(db, seed=seed, as_of=as_of, activities=activities)
            added.append(module.__name__)
    return added


def _backfill(tx: Tx, sql: str) -> None:
    """Run one UPDATE <table> ... and note the rows it set in the audit trail."""
    updated = tx.execute(sql).fetchone()[0]
    tx.audit(sql.split()[1], None, "demo_campaigns", after={"rows": updated})


def interrupted(db: Database) -> bool:
    """True when a demo build was stopped half way (killed): its tables hold partial data."""
    return bool(db.scalar("SELECT count(*) FROM meta WHERE key = ?", [BUILDING]))


def clear(db: Database) -> None:
    """Empty every demo table again, e.g. after an interrupted build."""
    _clear(db)


def _clear(db: Database) -> None:
    """Remove a partly built demo (the database was empty before the build)."""
    demo_users = "user_id IN (SELECT user_id FROM users WHERE demo)"
    for table in ("sessions", "user_regions"):
        db.write(lambda tx, table=table: _delete_all(tx, table, demo_users), by=DEMO)
    db.write(lambda tx: _delete_all(tx, "users", "demo"), by=DEMO)
    # one transaction per table: DuckDB checks a foreign key against rows deleted in the same transaction
    for table in reversed(all_tables()):
        db.write(lambda tx, table=table: _delete_all(tx, table), by=DEMO)
    db.write(lambda tx: _delete_all(tx, "meta", "key LIKE 'demo_%'"), by=DEMO)


def _delete_all(tx: Tx, table: str, where: str = "true") -> None:
    removed = tx.execute(f"DELETE FROM {table} WHERE {where}").fetchone()[0]
    tx.audit(table, None, "demo_clear", before={"rows": removed})


# Who the audit trail names for the demo's writes.
DEMO = Actor("system:demo")

# Set by a build's first write and removed by its last, so an interrupted build can be detected.
BUILDING = "demo_building"


def build_demo(
    db: Database, *, seed: int = 7, as_of: dt.date | None = None, activities: int = DEFAULT_ACTIVITIES
) -> dict[str, int]:
    """Fill an empty, migrated database with demo data; return row counts per table."""
    if activities < MIN_ACTIVITIES:
        raise ValueError(f"demo: activities must be at least {MIN_ACTIVITIES}, got {activities}")
    if not db.is_empty():
        raise ValueError(f"{db.path}: {ALREADY_FILLED}")
    as_of = as_of or dt.date.today()
    start = _history_start(as_of)
    ctx = _Ctx(np.random.default_rng(seed), as_of, start, (as_of - start).days + 1, activities)
    db.write(lambda tx: _write_small_tables(ctx, tx), by=DEMO)
    try:
        slots = _plan_activities(ctx)
        _write_activities(ctx, db, slots)
        _write_leads(ctx, db, slots)
        _write_orders(ctx, db)
        for module in _extensions():
            module.build(db, seed=seed, as_of=ctx.as_of, activities=ctx.activities)
        counts = db.write(lambda tx: _finish(ctx, tx, seed), by=DEMO, maintained=True)
    except BaseException:
        _clear(db)
        raise
    accounts.add_demo_accounts(db)
    accounts_added(db)
    return counts


def accounts_added(db: Database) -> None:
    """Let each feature module give the new demo accounts their state (e.g. what they have read)."""
    for module in _extensions():
        hook = getattr(module, "after_accounts", None)
        if hook is not None:
            hook(db)


def upgrade(db: Database) -> None:
    """The demo's own step when the app opens its database (ui/data.database), all in one place.

    A build killed half way is cleared and started again; an empty file is given the demo, unless it
    was made for a company's own data (``init``); a demo built by an older version gets what it
    lacks: its accounts, its campaigns (migration 003), the feature modules' data (board, promotions).
    """
    if interrupted(db):
        clear(db)
    if db.is_empty() and not is_own(db):
        build_demo(db, as_of=config.today())
    elif is_demo(db) and not accounts.has_accounts(db):
        accounts.add_demo_accounts(db)
        accounts_added(db)
    if lacks_campaigns(db):
        add_campaigns(db)
    add_missing_features(db)


# -- helpers for the feature modules' demo data (EXTENSIONS) -------------------------------------------
def sequence_ids(tx: Tx, sequence: str, n: int) -> np.ndarray:
    """n fresh ids from a sequence, so the rows the app adds later continue after the demo's."""
    if not n:
        return np.zeros(0, dtype=np.int64)
    rows = tx.execute(f"SELECT nextval('{sequence}') FROM range(?)", [n]).fetchall()
    return np.sort(np.array([r for (r,) in rows], dtype=np.int64))


def insert_frame(tx: Tx, table: str, frame: pd.DataFrame) -> None:
    """Insert a frame's columns into ``table`` (named by the caller, never by a user) and audit it."""
    if frame.empty:
        return
    tx.register("extension_frame", frame)
    try:
        tx.execute(f"INSERT INTO {table} ({', '.join(frame.columns)}) SELECT * FROM extension_frame")
    finally:
        tx.unregister("extension_frame")
    tx.audit(table, None, "demo_build", after={"rows": len(frame)})
