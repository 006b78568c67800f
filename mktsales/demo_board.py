"""Demo data for the shared-information board (issue 5): a year of field reports and plans.

About one post per ``POSTS_PER_ACTIVITY`` activities (capped at ``MAX_POSTS``), by region in
proportion to its sales reps, 70% field reports. Answers come from the right department and
region; their delay is lognormal around a share of the response target, slower in one or two
regions; a few recent posts are unanswered and overdue, some plans still lack a region's
acknowledgement, and most posts older than a month are closed with an outcome. Everything is
drawn from one generator seeded by ``seed`` and computed per array (loops run over regions,
templates and the dozen photos, never over posts), so a build at 10M activities takes a second.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from mktsales import board, demo, photos
from mktsales.audit import Tx
from mktsales.db import Database

# The tables the build fills, in order. post_reads is not one: reads belong to accounts, and the
# demo's accounts are made after the build (demo.build_demo counts every table listed as filled).
TABLES = ("posts", "post_regions", "post_replies", "post_acks", "post_photos")
POSTS_PER_ACTIVITY = 40
MAX_POSTS = 60_000
HISTORY_DAYS = 365
FIELD_SHARE = 0.70
SEED_STREAM = 5  # this module's own stream of the build's seed

FIELD_WEIGHTS = np.array([0.15, 0.10, 0.06, 0.05, 0.12, 0.14, 0.08, 0.18, 0.12])  # FIELD_CATEGORIES order
PLAN_WEIGHTS = np.array([0.30, 0.18, 0.14, 0.14, 0.12, 0.12])  # PLAN_CATEGORIES order
URGENT_SHARE = {"competitor": 0.30, "event_schedule": 0.25, "customer_feedback": 0.15}
URGENT_DEFAULT = 0.08
NEEDS_ACK_SHARE = np.array([0.70, 0.50, 0.20, 0.60, 0.80, 0.30])  # by plan category
NATIONAL_PLAN_SHARE = 0.35  # plans by national marketing, to several regions
HEAD_AUTHOR_SHARE = 0.10  # field reports by the region's sales head rather than a rep
NATIONAL_RESPONDER_SHARE = 0.15  # field reports answered by national marketing
FIELD_ACK_SHARE = 0.45  # field reports whose first answer is an acknowledgement, not a reply
# Response delay = target hours x lognormal(RESPONSE_MU, RESPONSE_SIGMA) x region factor.
RESPONSE_MU, RESPONSE_SIGMA = np.log(0.38), 0.85
PLAN_SLOWNESS = 1.15
REGION_SLOWNESS = {"northwest": 2.6, "northeast": 1.8, "east": 0.8}  # by region code; others 1.0
RECENT_DAYS = 30
RECENT_UNANSWERED = 0.02  # recent posts left unanswered (overdue once past due)
OLD_UNANSWERED = 0.005
MISSING_ACK_SHARE = 0.10  # recent multi-region plans one region has not acknowledged
REPLY_COUNTS, REPLY_P = np.array([0, 1, 2, 3]), np.array([0.40, 0.33, 0.18, 0.09])  # after the first answer
REPLY_GAP_HOURS = 8.0
CLOSE_OLD, CLOSE_RECENT = 0.80, 0.25  # share closed: older than RECENT_DAYS, 7 to RECENT_DAYS days
CLOSE_GAP_HOURS = 30.0
OUTCOME_P = np.array([0.68, 0.24, 0.08])  # board.OUTCOMES order
SILENT_REGION, SILENT_DAYS = "northeast", 18  # a region whose field reports stopped: a warning to show
N_PHOTOS = 12
PHOTO_SIZE = (640, 480)
CUSTOMER_SHARE, PRODUCT_SHARE_FIELD, PRODUCT_SHARE_PLAN = 0.6, 0.5, 0.7
COMPETITORS = (  # by product category position (demo.CATEGORIES order)
    ("康师傅", "统一", "今麦郎", "农夫山泉", "元气森林", "娃哈哈"),
    ("旺旺", "三只松鼠", "良品铺子", "乐事", "好丽友"),
    ("伊利", "蒙牛", "光明", "君乐宝"),
    ("宝洁", "联合利华", "云南白药", "舒肤佳"),
    ("立白", "蓝月亮", "超能", "奥妙"),
)

# Titles and bodies by category. Placeholders: {city} {customer} {competitor} {product}
# {pct} (a discount or change, 5-39) {progress} (of a target, 55-109) {rate} (45-95)
# {n} {m} (small counts) {week} {month} {regions}.
TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "shelf_display": (
        (
            "{customer}端架被{competitor}挤占",
            "{customer}主通道端架本周换成了{competitor}的堆头，我们的{product}只剩货架第三层，"
            "排面从{n}个减到{m}个。请市场部协调陈列费用或新的堆头物料。",
        ),
        (
            "{city}门店陈列检查：达标率{rate}%",
            "本周走访{city}{n}家门店，{product}陈列达标率约{rate}%，"
            "主要问题是价签缺失和排面不足，照片见附件。",
        ),
    ),
    "stocking": (
        (
            "{customer}{product}断货{n}天",
            "{customer}的{product}已断货{n}天，经销商说下一批要到下周，"
            "终端反映顾客转买{competitor}。请协调调货。",
        ),
        (
            "{city}理货巡检：临期品偏多",
            "{city}{n}家门店理货发现{product}临期库存约占{pct}%，建议安排促销消化。",
        ),
    ),
    "pop_dm": (
        (
            "{city}DM单页已发放{n}份",
            "本月{city}DM单页已发放{n}份，覆盖{m}家门店，POP海报张贴率约{pct}%，还缺物料{m}套。",
        ),
        (
            "{city}POP物料晚到一周",
            "{city}的POP物料比活动开始晚到一周，门店反映错过了周末客流。",
        ),
    ),
    "online": (
        (
            "{product}线上排名下滑",
            "{product}在本地生活平台的搜索排名掉到第{n}位，{competitor}在做满减，我们的线上价格没有优势。",
        ),
        (
            "{city}社区团购覆盖率{pct}%",
            "{city}社区团购渠道覆盖率约{pct}%，团长反馈{product}价格偏高。",
        ),
    ),
    "terminal_sales": (
        (
            "{customer}{product}动销偏慢",
            "{customer}的{product}本周动销比上周下降约{pct}%，店长认为是天气和{competitor}促销的影响。",
        ),
        (
            "{city}终端销量环比增长{pct}%",
            "{city}重点门店{product}终端销量环比增长{pct}%，新陈列起了作用。",
        ),
    ),
    "promotion_feedback": (
        (
            "买赠执行反馈：{product}",
            "{city}的{product}买赠活动执行中，{n}家门店赠品已发完，顾客反响好，建议追加赠品{m}箱。",
        ),
        (
            "促销反馈：特价力度不够",
            "{customer}反映{product}特价只有{pct}%的折扣，不如{competitor}，活动效果一般。",
        ),
    ),
    "regional_sales": (
        (
            "{city}本月销售进度{progress}%",
            "截至本周{city}完成月目标的{progress}%，{product}拉动明显，其他品类偏弱。",
        ),
        (
            "{city}经销商回款偏慢",
            "{city}两家经销商回款比账期晚了{n}天，影响下月备货。",
        ),
    ),
    "competitor": (
        (
            "{competitor}同类产品降价{pct}%",
            "{customer}货架上{competitor}同类产品降价{pct}%，本周起执行，"
            "堆头位置也换成了{competitor}。我们的{product}销量受影响，请市场部评估是否跟进。",
        ),
        (
            "{competitor}在{city}买二送一",
            "{competitor}在{city}的卖场推出买二送一，持续到月底，导购增加到{n}人。",
        ),
        (
            "{competitor}新品进入{city}",
            "{competitor}新品本周进入{city}{n}家门店，终端价比我们的{product}低{pct}%。",
        ),
    ),
    "customer_feedback": (
        (
            "{customer}反馈包装破损",
            "{customer}反馈最近一批{product}外箱破损率约{pct}%，要求改进包装。",
        ),
        (
            "{customer}希望增加小规格",
            "{customer}店长建议增加{product}的小规格装，便利店更好卖。",
        ),
    ),
    "promotion_plan": (
        (
            "{month}{product}买赠方案",
            "{month}在{regions}开展{product}买赠（买{n}箱赠1箱），活动期{m}天。"
            "请各区域销售确认执行门店并传达到人。",
        ),
    ),
    "event_schedule": (
        (
            "{month}{city}品牌路演安排",
            "{month}第{week}周在{city}举办品牌路演，请{regions}安排{m}名销售到场支持，物料由市场部统一配送。",
        ),
    ),
    "ad_placement": (
        (
            "{month}广告投放计划",
            "{month}在{regions}投放梯媒与短视频广告，重点推广{product}，预计覆盖{n}万人次。"
            "请销售同步门店备货。",
        ),
    ),
    "gift_material": (
        (
            "{month}赠品物料分发计划",
            "{month}赠品与物料（海报{n}张、堆头{m}套）按区域分发到{regions}，请确认收货地址和门店名单。",
        ),
    ),
    "targets": (
        (
            "{month}销售目标下达",
            "{month}各区域销售目标已分解到品类，{regions}目标环比上调{pct}%，请确认并分解到人。",
        ),
    ),
    "brand_plan": (
        (
            "{product}品牌推广计划",
            "下季度围绕{product}开展品牌推广，包括社交媒体和终端形象升级，请{regions}销售提出重点门店建议。",
        ),
    ),
}
ANSWERS = {  # the side that owes the answer
    "marketing": (
        "收到，已转相关负责人，今天内答复。",
        "感谢反馈，我们评估后给出跟进方案。",
        "已协调陈列费用，下周到位。",
        "这个情况在跟进，请继续关注竞品动态。",
        "物料已补发，预计三天内到。",
    ),
    "sales": (
        "收到，已传达到区域全体销售。",
        "本区域按计划执行，门店名单明天提交。",
        "建议活动推迟一周，避开门店盘点。",
        "已阅，区域例会上已布置。",
    ),
}
FOLLOW_UPS = {  # the author's side, later in the thread
    "sales": (
        "补充：今天又看到两家门店同样情况。",
        "谢谢，等方案。",
        "附上最新价格，请参考。",
    ),
    "marketing": (
        "请各区周五前回复执行门店。",
        "附件已更新，请查看。",
        "如有问题随时沟通。",
    ),
}
CLOSE_NOTES = {
    "acted": (
        "已调整促销方案并通知区域。",
        "已追加陈列费用。",
        "已补发物料。",
        "已反馈产品部门处理。",
        "已按计划执行完毕。",
    ),
    "no_action": (
        "不采取行动，因为竞品活动只持续一周。",
        "不采取行动，因为本季度预算已用完。",
        "不采取行动，因为属于个别门店现象。",
    ),
    "duplicate": ("与之前的上报重复。",),
}


READ_BEFORE_DAYS = 2  # a demo account has read what happened up to two days before the as-of day


def after_accounts(db: Database) -> None:
    """Demo accounts have read the board up to two days before the as-of day, so what shows as
    unread is the news of the last days, as for someone who uses the board every day."""
    as_of = dt.date.fromisoformat(db.scalar("SELECT value FROM meta WHERE key = 'demo_as_of'"))
    cutoff = dt.datetime.combine(as_of - dt.timedelta(days=READ_BEFORE_DAYS - 1), dt.time())

    def work(tx: Tx) -> None:
        added = tx.execute(
            "INSERT INTO post_reads SELECT p.post_id, u.user_id, p.last_activity_at FROM posts p, users u"
            " WHERE u.demo AND p.last_activity_at < $cutoff ON CONFLICT DO NOTHING",
            {"cutoff": cutoff},
        ).fetchone()[0]
        tx.audit("post_reads", None, "demo_reads", after={"rows": added, "before": cutoff})

    db.write(work, by=demo.DEMO, data=False)


def missing(db: Database) -> bool:
    """True for a finished demo built before the board existed: no posts at all."""
    return demo.is_demo(db) and not db.scalar("SELECT count(*) FROM posts")


# -- reading the core demo --------------------------------------------------------------------------
def _pick(rng: np.random.Generator, pools: list[np.ndarray], group: np.ndarray) -> np.ndarray:
    """One member of ``pools[g]`` per entry g of ``group`` (uniformly); -1 where a pool is empty."""
    out = np.full(len(group), -1, dtype=np.int64)
    for g, pool in enumerate(pools):
        mask = group == g
        if mask.any() and len(pool):
            out[mask] = pool[rng.integers(len(pool), size=int(mask.sum()))]
    return out


def _national(rng: np.random.Generator, world: _World, n: int) -> np.ndarray:
    """n random national marketing people (-1 when there are none)."""
    if not len(world.national):
        return np.full(n, -1, dtype=np.int64)
    return world.national[rng.integers(len(world.national), size=n)]


class _World:
    """The core demo's people, customers, products and promotions, by region position."""

    def __init__(self, db: Database) -> None:
        regions = db.query("SELECT region_id, code, name_zh FROM regions ORDER BY region_id")
        self.region_ids = regions["region_id"].to_numpy()
        self.region_codes = regions["code"].tolist()
        self.region_names = regions["name_zh"].to_numpy(dtype=object)
        self.n = len(regions)
        position = {int(r): i for i, r in enumerate(self.region_ids)}
        people = db.query("SELECT person_id, name, department, title, region_id FROM people")
        self.names = dict(zip(people["person_id"], people["name"], strict=True))
        at = people["region_id"].map(position)

        def pools(mask: pd.Series) -> list[np.ndarray]:
            return [people.loc[mask & (at == i), "person_id"].to_numpy() for i in range(self.n)]

        self.reps = pools(people["title"] == "rep")
        self.sales_heads = pools((people["department"] == "sales") & (people["title"] == "head"))
        self.sales = pools(people["department"] == "sales")
        self.marketing = pools(people["department"] == "marketing")
        self.national = people.loc[
            (people["department"] == "marketing") & people["region_id"].isna(), "person_id"
        ]
        self.national = self.national.to_numpy()
        self.rep_weight = np.array([max(len(p), 1) for p in self.reps], dtype=float)
        customers = db.query("SELECT customer_id, name, region_id FROM customers")
        customers["at"] = customers["region_id"].map(position)
        self.customers = [
            customers.loc[customers["at"] == i, "customer_id"].to_numpy() for i in range(self.n)
        ]
        self.customer_names = customers.set_index("customer_id")["name"]
        products = db.query("SELECT product_id, category_id, name_zh FROM products ORDER BY product_id")
        self.products = products["product_id"].to_numpy()
        self.product_names = dict(zip(products["product_id"], products["name_zh"], strict=True))
        categories = db.query("SELECT category_id FROM categories ORDER BY category_id")[
            "category_id"
        ].tolist()
        self.product_category = (
            products["category_id"].map({c: i for i, c in enumerate(categories)}).to_numpy()
        )
        promotions = db.query(
            "SELECT pr.region_id, p.promotion_id, p.start_date FROM promotions p"
            " JOIN promotion_regions pr USING (promotion_id)"
            " ORDER BY pr.region_id, p.start_date, p.promotion_id"
        )
        promotions["at"] = promotions["region_id"].map(position)
        self.promotions = [promotions.loc[promotions["at"] == i] for i in range(self.n)]
        targets = db.query("SELECT direction, category, priority, hours FROM response_targets")
        self.targets = {(d, c, p): h for d, c, p, h in targets.itertuples(index=False)}


# -- posts -------------------------------------------------------------------------------------------
def _seconds(rng: np.random.Generator, n: int, start: np.datetime64) -> np.ndarray:
    """Creation times (seconds from ``start``): working hours, fewer at weekends."""
    days = np.arange(HISTORY_DAYS)
    weekday = ((start.astype("datetime64[D]").astype(np.int64) + days + 3) % 7).astype(int)
    weight = np.where(weekday >= 5, 0.35, 1.0)
    day = rng.choice(days, size=n, p=weight / weight.sum())
    return day * 86_400 + (8 * 3600 + rng.random(n) * 12 * 3600).astype(np.int64)


def _plan_regions(
    rng: np.random.Generator, world: _World, primary: np.ndarray, national: np.ndarray
) -> np.ndarray:
    """Which regions each post addresses (posts x regions): the primary; a national plan often more."""
    n = len(primary)
    mask = np.zeros((n, world.n), dtype=bool)
    mask[np.arange(n), primary] = True
    everywhere = national & (rng.random(n) < 0.4)
    mask[everywhere] = True
    some = national & ~everywhere
    mask[some] |= rng.random((int(some.sum()), world.n)) < 0.35
    return mask


def _positional(text: str, names: list[str]) -> str:
    """``text`` with each {name} replaced by its position in ``names`` (appended when new)."""

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return "{" + str(names.index(match.group(1))) + "}"

    return re.sub(r"\{(\w+)\}", number, text)


def _texts(
    rng: np.random.Generator, world: _World, frame: pd.DataFrame, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A title and body per post from its category's templates."""
    n = len(frame)
    region = frame["primary"].to_numpy()
    city = np.empty(n, dtype=object)
    for r in range(world.n):
        rows = region == r
        names = np.array(demo.CITIES[r % len(demo.CITIES)], dtype=object)
        city[rows] = names[rng.integers(len(names), size=int(rows.sum()))]
    # a field report speaks of its own month, a plan of the next one
    month = frame["created_at"].dt.month.to_numpy() + (frame["direction"] == "plan").to_numpy()
    customer = frame["customer_name"].to_numpy(dtype=object)
    pattern = mask @ (1 << np.arange(world.n))  # the addressed regions, as one number per post
    kinds, which = np.unique(pattern, return_inverse=True)
    joined = np.array(
        ["、".join(world.region_names[(k >> np.arange(world.n)) & 1 == 1]) for k in kinds], dtype=object
    )
    values = {
        "city": city,
        "customer": np.where(pd.isna(customer), city + "重点门店", customer),
        "competitor": frame["competitor"].fillna("竞品").to_numpy(dtype=object),
        "product": frame["product_name"].fillna("主力产品").to_numpy(dtype=object),
        "pct": rng.integers(5, 40, n),
        "progress": rng.integers(55, 110, n),
        "week": rng.integers(1, 5, n),
        "rate": rng.integers(45, 96, n),
        "n": rng.integers(2, 12, n),
        "m": rng.integers(1, 8, n),
        "month": np.array([f"{m}月" for m in range(1, 13)], dtype=object)[(month - 1) % 12],
        "regions": joined[which.ravel()],
    }
    titles, bodies = np.empty(n, dtype=object), np.empty(n, dtype=object)
    choice = rng.integers(0, 6, n)
    category = frame["category"].to_numpy()
    for code, options in TEMPLATES.items():
        rows = np.flatnonzero(category == code)
        for k, texts in enumerate(options):
            chosen = rows[choice[rows] % len(options) == k]
            for target, text in zip((titles, bodies), texts, strict=True):
                names: list[str] = []
                positional = _positional(text, names)
                if not names:  # a text without placeholders
                    target[chosen] = text
                    continue
                columns = [values[name][chosen].tolist() for name in names]
                target[chosen] = [positional.format(*row) for row in zip(*columns, strict=True)]
    return titles, bodies


def _posts(
    rng: np.random.Generator, world: _World, n: int, start: np.datetime64
) -> tuple[pd.DataFrame, np.ndarray]:
    field = rng.random(n) < FIELD_SHARE
    primary = rng.choice(world.n, size=n, p=world.rep_weight / world.rep_weight.sum())
    national = ~field & (rng.random(n) < NATIONAL_PLAN_SHARE) & (len(world.national) > 0)
    category = np.where(
        field,
        rng.choice(np.array(board.FIELD_CATEGORIES), size=n, p=FIELD_WEIGHTS / FIELD_WEIGHTS.sum()),
        rng.choice(np.array(board.PLAN_CATEGORIES), size=n, p=PLAN_WEIGHTS / PLAN_WEIGHTS.sum()),
    )
    urgent_share = pd.Series(category).map(URGENT_SHARE).fillna(URGENT_DEFAULT).to_numpy()
    priority = np.where(rng.random(n) < urgent_share, "urgent", "normal")
    plan_position = pd.Series(category).map({c: i for i, c in enumerate(board.PLAN_CATEGORIES)})
    needs_ack = ~field & (rng.random(n) < NEEDS_ACK_SHARE[plan_position.fillna(0).astype(int).to_numpy()])
    by_head = rng.random(n) < HEAD_AUTHOR_SHARE
    field_author = np.where(by_head, _pick(rng, world.sales_heads, primary), _pick(rng, world.reps, primary))
    plan_author = np.where(national, _national(rng, world, n), _pick(rng, world.marketing, primary))
    author = np.where(field, field_author, plan_author)
    created = _seconds(rng, n, start)
    order = np.argsort(created, kind="stable")  # ids in time order
    product = np.where(
        rng.random(n) < np.where(field, PRODUCT_SHARE_FIELD, PRODUCT_SHARE_PLAN),
        world.products[rng.integers(len(world.products), size=n)],
        -1,
    )
    product_category = np.where(
        product > 0, world.product_category[np.searchsorted(world.products, product)], 0
    )
    product_category = np.where(product > 0, product_category, rng.integers(len(COMPETITORS), size=n))
    competitor_of = np.array(
        [
            COMPETITORS[c][k % len(COMPETITORS[c])]
            for c, k in zip(product_category, rng.integers(0, 60, n), strict=True)
        ],
        dtype=object,
    )
    names_competitor = field & (category == "competitor")
    customer = np.where(field & (rng.random(n) < CUSTOMER_SHARE), _pick(rng, world.customers, primary), -1)
    frame = (
        pd.DataFrame(
            {
                "direction": np.where(field, "field", "plan"),
                "category": category,
                "priority": priority,
                "primary": primary,
                "author": author,
                "needs_ack": needs_ack,
                "created_s": created,
                "product_id": pd.array(np.where(product > 0, product, 0), dtype="Int64"),
                "customer_id": pd.array(np.where(customer > 0, customer, 0), dtype="Int64"),
                "competitor": np.where(names_competitor, competitor_of, None),
                "national": national,
            }
        )
        .iloc[order]
        .reset_index(drop=True)
    )
    if SILENT_REGION in world.region_codes:  # its field reports stopped SILENT_DAYS ago
        quiet = (
            (frame["direction"] == "field")
            & (frame["primary"] == world.region_codes.index(SILENT_REGION))
            & (frame["created_s"] >= (HISTORY_DAYS - SILENT_DAYS) * 86_400)
        )
        frame = frame[~quiet].reset_index(drop=True)
    frame.loc[frame["product_id"] == 0, "product_id"] = pd.NA
    frame.loc[frame["customer_id"] == 0, "customer_id"] = pd.NA
    frame["created_at"] = start + frame["created_s"].to_numpy().astype("timedelta64[s]")
    frame["promotion_id"] = _promotions(world, frame)
    mask = _plan_regions(rng, world, frame["primary"].to_numpy(), frame["national"].to_numpy())
    frame["customer_name"] = frame["customer_id"].map(world.customer_names)
    frame["product_name"] = frame["product_id"].map(world.product_names)
    frame["title"], frame["body"] = _texts(rng, world, frame, mask)
    keys = list(zip(frame["direction"], frame["category"], frame["priority"], strict=True))
    frame["target_hours"] = [world.targets.get(k, board.DEFAULT_TARGET_HOURS[k[2]]) for k in keys]
    frame["due_s"] = frame["created_s"] + (frame["target_hours"] * 3600).round().astype(np.int64)
    return frame, mask


def _promotions(world: _World, frame: pd.DataFrame) -> pd.Series:
    """Promotion feedback and promotion plans name the region's promotion that started last
    before the post (within 60 days); the rest name none."""
    out = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    wants = frame["category"].isin(["promotion_feedback", "promotion_plan"]).to_numpy()
    for i, promotions in enumerate(world.promotions):
        rows = np.flatnonzero(wants & (frame["primary"].to_numpy() == i))
        if not len(rows) or promotions.empty:
            continue
        starts = pd.to_datetime(promotions["start_date"]).to_numpy(dtype="datetime64[s]")
        created = frame["created_at"].to_numpy(dtype="datetime64[s]")[rows]
        last = np.searchsorted(starts, created, side="right") - 1
        recent = (last >= 0) & (created - starts[np.maximum(last, 0)] <= np.timedelta64(60, "D"))
        out.iloc[rows[recent]] = promotions["promotion_id"].to_numpy()[last[recent]]
    return out


# -- answers -----------------------------------------------------------------------------------------
def _delays(
    rng: np.random.Generator, world: _World, hours: np.ndarray, region: np.ndarray, plan: np.ndarray
) -> np.ndarray:
    """Seconds to an answer: lognormal around a share of the target, slower in some regions."""
    slowness = np.array([REGION_SLOWNESS.get(code, 1.0) for code in world.region_codes])[region]
    factor = (
        rng.lognormal(RESPONSE_MU, RESPONSE_SIGMA, len(hours)) * slowness * np.where(plan, PLAN_SLOWNESS, 1.0)
    )
    return np.maximum(hours * factor * 3600, 120).astype(np.int64)


def _answers(
    rng: np.random.Generator, world: _World, posts: pd.DataFrame, mask: np.ndarray, end_s: int
) -> dict[str, pd.DataFrame]:
    """Acknowledgements, replies and closes, and each post's first answer and last activity."""
    n = len(posts)
    created = posts["created_s"].to_numpy()
    primary = posts["primary"].to_numpy()
    field = (posts["direction"] == "field").to_numpy()
    needs_ack = posts["needs_ack"].to_numpy()
    hours = posts["target_hours"].to_numpy()
    recent = created >= end_s - RECENT_DAYS * 86_400
    silent = rng.random(n) < np.where(recent, RECENT_UNANSWERED, OLD_UNANSWERED)

    # Acknowledgements: every addressed region of a plan that needs them (by that region's sales
    # head), and the field reports whose first answer is one (by marketing of the region).
    post_ix, region_ix = np.nonzero(mask & needs_ack[:, None])
    ack_at = created[post_ix] + _delays(rng, world, hours[post_ix], region_ix, np.ones(len(post_ix), bool))
    ack_by = _pick(rng, world.sales_heads, region_ix)
    multi = mask.sum(axis=1) > 1
    lacking = recent & multi & needs_ack & (rng.random(n) < MISSING_ACK_SHARE)
    slowest = pd.Series(ack_at).groupby(post_ix).transform("max").to_numpy() == ack_at
    keep = ~silent[post_ix] & ~(lacking[post_ix] & slowest) & (ack_at < end_s) & (ack_by > 0)
    field_ack = field & (rng.random(n) < FIELD_ACK_SHARE)
    by_national = (rng.random(n) < NATIONAL_RESPONDER_SHARE) & (len(world.national) > 0)
    responder_field = np.where(by_national, _national(rng, world, n), _pick(rng, world.marketing, primary))
    first_delay = created + _delays(rng, world, hours, primary, ~field)
    responder = np.where(field, responder_field, _pick(rng, world.sales, primary))
    answered = ~silent & (first_delay < end_s) & ~needs_ack & (responder > 0)
    acked_field = answered & field_ack
    acks = pd.concat(
        [
            pd.DataFrame(
                {"post": post_ix[keep], "region": region_ix[keep], "person": ack_by[keep], "at": ack_at[keep]}
            ),
            pd.DataFrame(
                {
                    "post": np.flatnonzero(acked_field),
                    "region": primary[acked_field],
                    "person": responder[acked_field],
                    "at": first_delay[acked_field],
                }
            ),
        ],
        ignore_index=True,
    )

    # The first answer: a reply where it is not an acknowledgement; for plans needing them, the first one.
    first_reply = answered & ~field_ack
    first = pd.Series(np.where(answered, first_delay, -1)).where(lambda s: s >= 0)
    first_person = pd.Series(np.where(answered, responder, -1))
    earliest = (
        acks.loc[acks["post"].isin(np.flatnonzero(needs_ack))].sort_values("at").groupby("post").first()
    )
    first.iloc[earliest.index] = earliest["at"].to_numpy()
    first_person.iloc[earliest.index] = earliest["person"].to_numpy()
    has_first = first.notna().to_numpy()

    # The rest of the thread: 0-3 replies after the first answer, the author's side first.
    extra = np.where(has_first, rng.choice(REPLY_COUNTS, size=n, p=REPLY_P), 0)
    thread_post = np.repeat(np.arange(n), extra)
    step = np.concatenate([np.arange(k) for k in extra]) if extra.sum() else np.zeros(0, np.int64)
    gaps = rng.exponential(REPLY_GAP_HOURS * 3600, len(thread_post)).astype(np.int64) + 60
    thread_at = (
        first.to_numpy()[thread_post].astype(np.int64)
        + pd.Series(gaps).groupby(thread_post).cumsum().to_numpy()
    )
    by_author = step % 2 == 0
    thread_person = np.where(
        by_author, posts["author"].to_numpy()[thread_post], first_person.to_numpy()[thread_post]
    )
    in_time = thread_at < end_s
    replies = pd.DataFrame(
        {
            "post": np.concatenate([np.flatnonzero(first_reply), thread_post[in_time]]),
            "person": np.concatenate([responder[first_reply], thread_person[in_time]]),
            "at": np.concatenate([first_delay[first_reply], thread_at[in_time]]),
            "answer": np.concatenate([np.ones(int(first_reply.sum()), bool), ~by_author[in_time]]),
        }
    )

    # Closing: most posts older than a month, some recent ones, after their last reply, by the answering side.
    last_reply = replies.groupby("post")["at"].max().reindex(range(n)).to_numpy()
    base = np.fmax(first.to_numpy(), last_reply)
    complete = ~needs_ack | (
        acks.groupby("post").size().reindex(range(n), fill_value=0).to_numpy() == mask.sum(axis=1)
    )
    old = created < end_s - RECENT_DAYS * 86_400
    middle = ~old & (created < end_s - 7 * 86_400)
    close_share = np.where(old, CLOSE_OLD, np.where(middle, CLOSE_RECENT, 0.0))
    close_at = base + rng.exponential(CLOSE_GAP_HOURS * 3600, n) + 60
    closing = has_first & complete & (rng.random(n) < close_share) & (close_at < end_s)
    outcome = np.array(board.OUTCOMES)[rng.choice(len(board.OUTCOMES), size=int(closing.sum()), p=OUTCOME_P)]
    note = np.empty(len(outcome), dtype=object)
    for name, options in CLOSE_NOTES.items():
        rows = np.flatnonzero(outcome == name)
        note[rows] = np.array(options, dtype=object)[rng.integers(len(options), size=len(rows))]
    closes = pd.DataFrame(
        {
            "post": np.flatnonzero(closing),
            "person": first_person.to_numpy()[closing],
            "at": close_at[closing].astype(np.int64),
            "outcome": outcome,
            "note": note,
        }
    )
    return {"acks": acks, "replies": replies, "closes": closes, "first": first, "first_person": first_person}


# -- photos ------------------------------------------------------------------------------------------
def shelf_photo(rng: np.random.Generator, price: str) -> bytes:
    """A 640x480 JPEG of a shelf: rows of coloured packs and a yellow price tag."""
    width = PHOTO_SIZE[0]
    image = Image.new("RGB", PHOTO_SIZE, (236, 233, 226))
    draw = ImageDraw.Draw(image)
    for shelf in range(4):
        top = 40 + shelf * 110
        x = 20
        while x < width - 40:
            w = int(rng.integers(34, 70))
            h = int(rng.integers(50, 90))
            colour = tuple(int(c) for c in rng.integers(30, 230, 3))
            draw.rectangle((x, top + 90 - h, x + w, top + 90), fill=colour, outline=(60, 60, 60))
            x += w + int(rng.integers(2, 8))
        draw.rectangle((0, top + 90, width, top + 100), fill=(120, 84, 52))
    font = ImageFont.load_default(size=30)
    left, top = int(rng.integers(60, 420)), int(rng.integers(150, 340))
    draw.rectangle((left, top, left + 150, top + 64), fill=(255, 214, 0), outline=(180, 0, 0), width=3)
    draw.text((left + 14, top + 14), price, fill=(180, 0, 0), font=font)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=photos.JPEG_QUALITY)
    return out.getvalue()


# -- the build ---------------------------------------------------------------------------------------
_ids = demo.sequence_ids
_insert = demo.insert_frame


def _stamps(start: np.datetime64, seconds: Any) -> np.ndarray:
    values = np.asarray(seconds, dtype="float64")
    stamps = start + np.nan_to_num(values).astype(np.int64).astype("timedelta64[s]")
    return np.where(np.isnan(values), np.datetime64("NaT"), stamps).astype("datetime64[us]")


def build(db: Database, *, seed: int, as_of: dt.date, activities: int) -> None:
    """Fill the board's tables for a demo of ``activities`` activities ending on ``as_of``."""
    rng = np.random.default_rng([seed, SEED_STREAM])
    world = _World(db)
    n = min(max(activities // POSTS_PER_ACTIVITY, 1), MAX_POSTS)
    end = np.datetime64(as_of + dt.timedelta(days=1), "s")
    start = end - np.timedelta64(HISTORY_DAYS, "D")
    end_s = HISTORY_DAYS * 86_400
    posts, mask = _posts(rng, world, n, start)
    n = len(posts)
    answers = _answers(rng, world, posts, mask, end_s)
    photo_posts = _photo_posts(rng, posts)
    discounts = rng.integers(8, 30, len(photo_posts))
    prices = rng.uniform(2.5, 9.9, len(photo_posts))
    pictures = [shelf_photo(rng, f"-{d}%  {p:.1f}") for d, p in zip(discounts, prices, strict=True)]

    def work(tx: Tx) -> None:
        post_ids = _ids(tx, "post_id_seq", n)
        _insert(tx, "posts", _post_rows(world, posts, answers, post_ids, start))
        rows, cols = np.nonzero(mask)
        _insert(
            tx, "post_regions", pd.DataFrame({"post_id": post_ids[rows], "region_id": world.region_ids[cols]})
        )
        thread = _thread_rows(rng, world, posts, answers, post_ids, start)
        thread.insert(0, "reply_id", _ids(tx, "post_reply_id_seq", len(thread)))
        _insert(tx, "post_replies", thread)
        acks = answers["acks"]
        _insert(
            tx,
            "post_acks",
            pd.DataFrame(
                {
                    "post_id": post_ids[acks["post"].to_numpy()],
                    "region_id": world.region_ids[acks["region"].to_numpy()],
                    "user_id": pd.array([None] * len(acks), dtype="Int32"),
                    "person_id": acks["person"].to_numpy(),
                    "name": acks["person"].map(world.names).to_numpy(),
                    "acked_at": _stamps(start, acks["at"]),
                }
            ),
        )
        stored = [photos.prepare(photos.Photo(f"shelf_{i + 1}.jpg", data)) for i, data in enumerate(pictures)]
        _insert(
            tx,
            "post_photos",
            pd.DataFrame(
                {
                    "photo_id": _ids(tx, "post_photo_id_seq", len(stored)),
                    "post_id": post_ids[photo_posts],
                    "mime": [p.mime for p in stored],
                    "width": [p.width for p in stored],
                    "height": [p.height for p in stored],
                    "bytes": [p.data for p in stored],
                    "original_name": [f"shelf_{i + 1}.jpg" for i in range(len(stored))],
                }
            ),
        )

    db.write(work, by=demo.DEMO)


def _photo_posts(rng: np.random.Generator, posts: pd.DataFrame) -> np.ndarray:
    """The field posts with photos: shelf, competitor and POP reports of the last few months."""
    eligible = np.flatnonzero(
        posts["category"].isin(["shelf_display", "competitor", "pop_dm"]).to_numpy()
        & (posts["created_s"].to_numpy() >= (HISTORY_DAYS - 120) * 86_400)
    )
    if not len(eligible):
        return eligible
    return np.sort(rng.choice(eligible, size=min(N_PHOTOS, len(eligible)), replace=False))


def _post_rows(
    world: _World, posts: pd.DataFrame, answers: dict[str, Any], post_ids: np.ndarray, start: np.datetime64
) -> pd.DataFrame:
    n = len(posts)
    first, first_person = answers["first"], answers["first_person"]
    closes = answers["closes"].set_index("post").reindex(range(n))
    events = pd.concat(
        [
            pd.DataFrame({"post": np.arange(n), "at": posts["created_s"], "person": posts["author"]}),
            answers["acks"][["post", "at", "person"]],
            answers["replies"][["post", "at", "person"]],
            answers["closes"][["post", "at", "person"]],
        ],
        ignore_index=True,
    )
    last = events.sort_values(["post", "at"], kind="stable").groupby("post").last()
    return pd.DataFrame(
        {
            "post_id": post_ids,
            "direction": posts["direction"],
            "category": posts["category"],
            "priority": posts["priority"],
            "title": posts["title"],
            "body": posts["body"],
            "author_person_id": posts["author"],
            "author_name": posts["author"].map(world.names),
            "customer_id": posts["customer_id"],
            "product_id": posts["product_id"],
            "competitor": posts["competitor"],
            "promotion_id": posts["promotion_id"],
            "needs_ack": posts["needs_ack"],
            "created_at": _stamps(start, posts["created_s"]),
            "target_hours": posts["target_hours"],
            "due_at": _stamps(start, posts["due_s"]),
            "first_response_at": _stamps(start, first),
            "first_responder": first_person.where(first.notna()).map(world.names),
            "first_responder_person_id": pd.array(first_person.where(first.notna()), dtype="Int64"),
            "closed_at": _stamps(start, closes["at"]),
            "closed_by": closes["person"].map(world.names),
            "outcome": closes["outcome"],
            "close_note": closes["note"],
            "last_activity_at": _stamps(start, last["at"].to_numpy()),
            "last_activity_person_id": last["person"].to_numpy(),
        }
    )


def _thread_rows(
    rng: np.random.Generator,
    world: _World,
    posts: pd.DataFrame,
    answers: dict[str, Any],
    post_ids: np.ndarray,
    start: np.datetime64,
) -> pd.DataFrame:
    """Replies and closes as post_replies rows, oldest first."""
    replies, closes = answers["replies"], answers["closes"]
    direction = posts["direction"].to_numpy()
    owed = np.where(direction == "field", "marketing", "sales")
    author_side = np.where(direction == "field", "sales", "marketing")
    post = replies["post"].to_numpy()
    answer = replies["answer"].to_numpy()
    side = np.where(answer, owed[post], author_side[post])
    body = np.empty(len(replies), dtype=object)
    pick = rng.integers(0, 60, len(replies))
    for name, texts in (
        *(("a" + s, t) for s, t in ANSWERS.items()),
        *(("f" + s, t) for s, t in FOLLOW_UPS.items()),
    ):
        rows = (side == name[1:]) & (answer == (name[0] == "a"))
        body[rows] = np.array(texts, dtype=object)[pick[rows] % len(texts)]
    close_post = closes["post"].to_numpy()
    frame = pd.DataFrame(
        {
            "post_id": np.concatenate([post_ids[post], post_ids[close_post]]),
            "kind": ["reply"] * len(replies) + ["close"] * len(closes),
            "person_id": np.concatenate([replies["person"].to_numpy(), closes["person"].to_numpy()]),
            "side": np.concatenate([side, owed[close_post]]),
            "outcome": [None] * len(replies) + closes["outcome"].tolist(),
            "at": np.concatenate([replies["at"].to_numpy(), closes["at"].to_numpy()]),
        }
    )
    frame["body"] = np.concatenate([body, closes["note"].to_numpy()])
    frame["name"] = frame["person_id"].map(world.names)
    frame["created_at"] = _stamps(start, frame.pop("at"))
    frame = frame.sort_values(["created_at", "post_id"], kind="stable").reset_index(drop=True)
    return frame[["post_id", "kind", "person_id", "name", "side", "body", "outcome", "created_at"]]
