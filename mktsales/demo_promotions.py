"""Demo data for promotions (issue 4): plans, owners, consultation, workflow history and execution.

The core demo (mktsales.demo) places the promotions, their status, dates, budget, owner, request
and decision times, and the uplift built into the orders. This module gives each one the life its
status implies, consistent with those facts: the plan (mechanics from its title, channels, goal,
monitoring plan), a named owner per region (the region's marketing head, or its sales head for a
sales request), the events from creation to today, the consultation of every touched region (most
agree, some raise a concern, a few recent ones are still silent and overdue), the budget approval,
and, for promotions that ran, weekly status reports per region (70-90% as planned, the far
regions deviating more; a few with a shelf photo) and an effect report per region at the end.
A few approved plans are not ready (no monitoring plan or an unapproved budget), so the board
shows what blocks them. Everything comes from one generator seeded by ``seed``; loops run over
promotions and their regions (at most a few hundred), so a build takes well under a second.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from mktsales import demo, demo_board, photos
from mktsales.audit import Tx
from mktsales.db import Database
from mktsales.vocabulary import CHANNELS, DEVIATIONS, REQUEST_REASONS
from mktsales.vocabulary import PROMOTION_MECHANICS as MECHANICS

# What the build fills. promotion_products stays empty: every demo promotion covers its whole
# category, which is how demo_promotion_truth's uplift was built into the orders.
TABLES = (
    "promotion_plans", "promotion_owners", "promotion_consult_asks",
    "promotion_consultations", "promotion_events", "execution_reports",
)  # fmt: skip
SEED_STREAM = 4  # this module's own stream of the build's seed (issue 4)

# The core demo's mechanic words (in titles) -> the workflow's mechanic codes.
TITLE_MECHANICS = {
    "买赠": ("gift",), "特价": ("discount",), "堆头陈列": ("display", "pop_dm"), "品鉴试用": ("event",),
    "满减": ("discount",), "会员积分": ("discount", "pop_dm"),
}  # fmt: skip
MONITORING_PLANS = {
    "gift": "每周巡店核对赠品到位与发放登记；销售代表每周一提交执行状态反馈，活动结束后三天内提交效果反馈。",
    "discount": "市场部抽查门店促销价签与收银价格一致性；销售每周自查价格执行并反馈，发现乱价当天上报。",
    "display": "活动首周完成全部堆头并拍照上传；市场部每两周巡查陈列位置与排面，销售每周反馈陈列保持情况。",
    "pop_dm": "POP/DM 物料开档前三天到店；巡店检查张贴率，销售每周反馈物料完好情况。",
    "event": "活动当天市场部到场督导，记录试用人数与转化；销售次日提交执行与效果反馈。",
}
REASON_TEXTS = {
    "competitor_move": (
        "竞品在本区域重点门店降价约 15%，我方排面被挤占。",
        "竞品推出买一赠一，终端动销明显放缓。",
    ),
    "stock_clearance": ("部分批次临近保质期，需在一个月内清理。", "经销商库存偏高，需要拉动终端动销。"),
    "new_customer": ("新开发的连锁系统首次铺货，需要开业促销。", "拓展社区便利店渠道，需要进店活动支持。"),
    "seasonal": ("节前备货高峰，抓住旺季提升份额。", "气温回升，饮品旺季提前到来。"),
    "other": ("配合客户店庆活动。",),
}
REASON_WEIGHTS = np.array([0.35, 0.15, 0.15, 0.30, 0.05])  # REQUEST_REASONS order
EXPECTED_EFFECTS = (
    "预计活动期间销量提升 20% 以上，守住主要门店份额。",
    "预计动销提升 25%，库存周转恢复正常。",
    "预计新增 3-5 家门店稳定进货。",
    "预计活动期销售额比上月同期增长 30%。",
)
REJECT_REASONS = (
    "与全国主题促销档期冲突，建议并入下月主题活动。",
    "费用率过高，请压缩预算后重新申请。",
    "同区域同品类刚结束一档促销，间隔不足。",
)
CANCEL_REASONS = ("档期与全国主题活动冲突，取消。", "预算调整，本档取消。", "客户方活动取消。")
REVIEW_NOTES = (
    "整体执行到位，陈列达标率高；下次提前一周备足促销装。",
    "价格执行有偏差，个别门店未按促销价；需加强巡店。",
    "效果好于预期，建议作为下季度常规活动。",
    "赠品到店偏晚，前三天动销不足；物流需提前安排。",
)
CONCERN_TEXTS = (
    "促销装库存可能不足，建议分批到货。",
    "本区域同期有竞品大促，效果可能打折扣。",
    "堆头费用偏高，希望市场部分担一部分。",
    "开始时间与客户档期冲突，建议推迟一周。",
)
COMMENT_TEXTS = ("建议增加社区店覆盖。", "请提前提供 POP 物料样稿。", "希望给重点客户单独的陈列支持。")
DEVIATION_NOTES = {
    "price": "部分门店未按促销价执行，仍按原价销售。",
    "display": "堆头位置不符合方案，被挪到次通道。",
    "pop_dm": "POP 物料未到位或张贴不全。",
    "stock": "促销装断货两天，补货不及时。",
    "timing": "门店活动开始比计划晚了两天。",
}
PLANNED_NOTES = ("执行正常。", "按方案执行，陈列与价签到位。", "", "顾客反响不错，执行到位。")
COMPETITOR_RESPONSES = (
    "竞品同期推出买一赠一。",
    "竞品未见明显反应。",
    "竞品加大了终端陈列投入。",
    "竞品跟进降价约 10%。",
    "",
)

ANSWER_P = np.array([0.82, 0.13, 0.05])  # agree, concern, comment
ANSWER_MEDIAN_HOURS, ANSWER_SIGMA = 18.0, 0.9
SILENT_SHARE = 0.25  # regions of a plan still in consultation that have not answered
DEVIATION_RATE = {"northwest": 0.35, "northeast": 0.30, "central": 0.18, "southwest": 0.20}  # else 0.12
DEVIATION_WEIGHTS = np.array([0.20, 0.30, 0.15, 0.25, 0.10])  # DEVIATIONS order
INSPECTION_SHARE = 0.25  # status reports made by marketing (inspections)
STORE_SHARE = 0.7  # reports naming a store
REPORT_EVERY_DAYS = 7
SILENT_LIVE_SHARE = 0.2  # live promotions' regions that stopped reporting (feedback overdue)
N_PHOTOS = 10  # recent deviation reports carrying a shelf photo
NOT_READY_SHARE = 0.25  # approved plans missing their monitoring plan or budget approval
LEAD_DAYS = {"major": (30.0, 60.0), "tactical": (12.0, 30.0)}  # marketing drafts this long before the start
GOAL_RANGE = (2.5, 5.0)  # expected incremental revenue, as a multiple of the budget
ASKED_RANGE = (0.10, 0.30)  # share of the way from drafting to approval when consultation starts
APPROVED_RANGE = (0.70, 0.95)
HOUR = dt.timedelta(hours=1)


def missing(db: Database) -> bool:
    """True for a finished demo built before promotion details existed: promotions, no plans."""
    return demo.is_demo(db) and bool(
        db.scalar("SELECT EXISTS (FROM promotions) AND NOT EXISTS (FROM promotion_plans)")
    )


class _World:
    """The core demo's promotions, people and customers, as this module needs them."""

    def __init__(self, db: Database) -> None:
        self.promotions = db.query(
            "SELECT p.promotion_id, p.title_zh, p.kind, p.origin, p.status, p.category_id, p.start_date,"
            " p.end_date, CAST(p.budget AS DOUBLE) AS budget, p.owner_id, p.requested_at, p.decided_at,"
            " t.uplift, (SELECT list(region_id ORDER BY region_id) FROM promotion_regions r"
            " WHERE r.promotion_id = p.promotion_id) AS regions"
            " FROM promotions p LEFT JOIN demo_promotion_truth t USING (promotion_id) ORDER BY p.promotion_id"
        )
        people = db.query(
            "SELECT person_id, name, department, title, region_id FROM people ORDER BY person_id"
        )
        self.names = dict(zip(people["person_id"], people["name"], strict=True))
        heads = people[people["title"] == "head"]
        self.head = {
            (int(r), d): int(p)
            for p, d, r in zip(heads["person_id"], heads["department"], heads["region_id"], strict=True)
            if not pd.isna(r)
        }
        national = heads[heads["region_id"].isna() & (heads["department"] == "marketing")]["person_id"]
        self.national = int(national.iloc[0])
        self.reps = {
            int(r): g["person_id"].to_numpy()
            for r, g in people[people["title"] == "rep"].groupby("region_id")
        }
        self.marketing = {
            int(r): g["person_id"].to_numpy()
            for r, g in people[people["department"] == "marketing"]
            .dropna(subset=["region_id"])
            .groupby("region_id")
        }
        customers = db.query("SELECT customer_id, region_id FROM customers ORDER BY customer_id")
        self.customers = {int(r): g["customer_id"].to_numpy() for r, g in customers.groupby("region_id")}
        self.codes = dict(db.rows("SELECT region_id, code FROM regions"))


class _Rows:
    """The rows of every table, collected promotion by promotion."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}

    def add(self, table: str, **values: Any) -> None:
        self.tables[table].append(values)


def _at(day: Any, rng: np.random.Generator, first_hour: float = 8.5, hours: float = 9.0) -> dt.datetime:
    """A moment during the working hours of ``day``."""
    base = dt.datetime.combine(pd.Timestamp(day).date(), dt.time())
    return base + dt.timedelta(hours=first_hour + hours * float(rng.random()))


def _between(a: dt.datetime, b: dt.datetime, share: float) -> dt.datetime:
    return a + (b - a) * share


class _Life:
    """One promotion's generated life: who did what, when."""

    def __init__(
        self, world: _World, rows: _Rows, rng: np.random.Generator, row: Any, now: dt.datetime
    ) -> None:
        self.world, self.rows, self.rng, self.p, self.now = world, rows, rng, row, now
        self.pid = int(row.promotion_id)
        self.regions = [int(r) for r in row.regions]
        self.start = row.start_date.date()
        self.end = row.end_date.date()
        self.status = str(row.status)

    def person(self, person_id: int) -> dict[str, Any]:
        return {"by_user": None, "by_person": person_id, "by_name": self.world.names[person_id]}

    def event(self, before: str | None, after: str, at: dt.datetime, by: int, reason: str = "") -> None:
        self.rows.add(
            "promotion_events", promotion_id=self.pid, from_status=before, to_status=after, reason=reason,
            **self.person(by), event_at=min(at, self.now - HOUR),
        )  # fmt: skip

    def choice(self, options: tuple[str, ...]) -> str:
        return options[int(self.rng.integers(len(options)))]


def _plan(
    life: _Life, created: dt.datetime, created_by: int, approved_at: dt.datetime | None
) -> dict[str, Any]:
    """The promotion_plans row, without the request fields."""
    rng, p = life.rng, life.p
    word = next((w for w in TITLE_MECHANICS if w in p.title_zh), "特价")
    mechanics = [m for m in MECHANICS if m in TITLE_MECHANICS[word]]
    n_channels = 3 if p.kind == "major" else int(rng.integers(1, 3))
    channels = [c for c in CHANNELS if c in rng.choice(CHANNELS, n_channels, replace=False)]
    goal = round(p.budget * rng.uniform(*GOAL_RANGE) / 1000) * 1000
    return {
        "promotion_id": life.pid,
        "mechanics": mechanics,
        "channels": channels,
        "goal_revenue": float(goal),
        "monitoring_plan": MONITORING_PLANS[mechanics[0]],
        "description": "",
        "budget_approved": approved_at is not None,
        "budget_approved_by": None,
        "budget_approved_by_name": life.world.names[life.world.national] if approved_at else None,
        "budget_approved_at": approved_at,
        "request_reason": None,
        "request_reason_text": "",
        "expected_effect": "",
        "budget_asked": None,
        "requested_region_ids": [],
        "created_by": None,
        "created_by_person": created_by,
        "created_by_name": life.world.names[created_by],
        "created_at": created,
        "idempotency_key": f"demo-{life.pid}",
    }


def _owners(life: _Life, department: str, regions: list[int]) -> None:
    world = life.world
    owner = int(life.p.owner_id)
    life.rows.add("promotion_owners", promotion_id=life.pid, part="overall", region_id=None, person_id=owner,
                  user_id=None, name=world.names[owner])  # fmt: skip
    for region in regions:
        person = world.head[(region, department)]
        life.rows.add("promotion_owners", promotion_id=life.pid, part="region", region_id=region,
                      person_id=person, user_id=None, name=world.names[person])  # fmt: skip


def _consult(life: _Life, asked: dt.datetime, until: dt.datetime, *, all_answer: bool) -> dt.datetime:
    """Ask every region at ``asked``; each sales head answers (some stay silent unless
    ``all_answer``) by ``until``. Returns the last answer's time."""
    rng, last = life.rng, asked
    for region in life.regions:
        life.rows.add("promotion_consult_asks", promotion_id=life.pid, region_id=region, asked_at=asked,
                      asked_by=None, asked_by_name=life.world.names[int(life.p.owner_id)])  # fmt: skip
        delay = dt.timedelta(hours=float(rng.lognormal(np.log(ANSWER_MEDIAN_HOURS), ANSWER_SIGMA)))
        at = min(asked + delay, _between(asked, until, 0.9)) if all_answer else asked + delay
        if not all_answer and (at >= life.now or rng.random() < SILENT_SHARE):
            continue
        answer = ("agree", "concern", "comment")[int(rng.choice(3, p=ANSWER_P))]
        text = {"agree": "", "concern": life.choice(CONCERN_TEXTS), "comment": life.choice(COMMENT_TEXTS)}[
            answer
        ]
        head = life.world.head[(region, "sales")]
        life.rows.add("promotion_consultations", promotion_id=life.pid, region_id=region, answer=answer,
                      text=text, **life.person(head), answered_at=at)  # fmt: skip
        last = max(last, at)
    return last


def _run(life: _Life, approved: dt.datetime, by: int) -> None:
    """The events of a promotion from approved on, as its status says, and its execution reports."""
    rng, status = life.rng, life.status
    if status == "approved":
        return
    live = max(_at(life.start, rng, 8.0, 2.0), approved + HOUR)
    life.event("approved", "live", live, by)
    if status in ("finished", "reviewed"):
        finished = _at(life.end + dt.timedelta(days=1), rng, 8.5, 2.0)
        life.event("live", "finished", finished, by)
        if status == "reviewed":
            reviewed = _at(life.end + dt.timedelta(days=int(rng.integers(7, 14))), rng)
            life.event("finished", "reviewed", reviewed, by, life.choice(REVIEW_NOTES))
    _reports(life)


def _reports(life: _Life) -> None:
    """Weekly status reports per region while live, and an effect report per region at the end."""
    world, rng, p = life.world, life.rng, life.p
    last_day = min(life.end, (life.now - dt.timedelta(days=1)).date())
    days = (last_day - life.start).days
    for region in life.regions:
        rate = DEVIATION_RATE.get(world.codes[region], 0.12)
        offsets = np.arange(1 + int(rng.integers(0, 3)), days + 1, REPORT_EVERY_DAYS)
        if life.status == "live" and len(offsets) > 1 and rng.random() < SILENT_LIVE_SHARE:
            offsets = offsets[:1]  # this region stopped reporting
        for offset in offsets:
            day = life.start + dt.timedelta(days=int(offset))
            deviated = rng.random() < rate
            chosen: list[str] = []
            if deviated:
                k = 1 + int(rng.random() < 0.3)
                picked = rng.choice(len(DEVIATIONS), k, replace=False, p=DEVIATION_WEIGHTS)
                chosen = [d for i, d in enumerate(DEVIATIONS) if i in picked]
            inspection = rng.random() < INSPECTION_SHARE
            pool = world.marketing if inspection else world.reps
            person = int(rng.choice(pool.get(region, [life.p.owner_id])))
            life.rows.add(
                "execution_reports",
                promotion_id=life.pid, region_id=region, customer_id=_store(world, rng, region),
                kind="status",
                source="marketing" if inspection else "sales", as_planned=not deviated, deviations=chosen,
                note=DEVIATION_NOTES[chosen[0]] if chosen else life.choice(PLANNED_NOTES),
                sell_through_pct=None,
                customer_reaction=None, competitor_response="", **life.person(person),
                reported_at=min(_at(day, rng), life.now - HOUR),
            )  # fmt: skip
        if life.status in ("finished", "reviewed"):
            uplift = float(p.uplift) if not pd.isna(p.uplift) else 0.2
            sell = float(np.clip(rng.normal(45 + 100 * uplift, 10), 5, 100))
            reaction = "positive" if sell > 70 else "neutral" if sell > 45 else "negative"
            person = int(rng.choice(world.reps.get(region, [life.p.owner_id])))
            life.rows.add(
                "execution_reports",
                promotion_id=life.pid, region_id=region, customer_id=None, kind="effect", source="sales",
                as_planned=None, deviations=[], note="", sell_through_pct=round(sell, 1),
                customer_reaction=reaction, competitor_response=life.choice(COMPETITOR_RESPONSES),
                **life.person(person),
                reported_at=min(_at(life.end + dt.timedelta(days=int(rng.integers(1, 4))), rng),
                                life.now - HOUR),
            )  # fmt: skip


def _store(world: _World, rng: np.random.Generator, region: int) -> int | None:
    stores = world.customers.get(region)
    if stores is None or not len(stores) or rng.random() >= STORE_SHARE:
        return None
    return int(stores[int(rng.integers(len(stores)))])


def _marketing(life: _Life) -> None:
    """A plan marketing drafted: drafting, consultation, approval, and what followed."""
    world, rng, p, status = life.world, life.rng, life.p, life.status
    owner, national = int(p.owner_id), world.national
    lead = dt.timedelta(days=float(rng.uniform(*LEAD_DAYS[p.kind])))
    start_at = dt.datetime.combine(life.start, dt.time(8))
    created = min(start_at - lead, life.now - dt.timedelta(days=float(rng.uniform(1, 12))))
    until = min(start_at - dt.timedelta(days=1), life.now - 2 * HOUR)
    if status in ("drafting", "consulting") or until <= created:
        until = life.now - 2 * HOUR
    asked = _between(created, until, float(rng.uniform(*ASKED_RANGE)))
    approved = _between(created, until, float(rng.uniform(*APPROVED_RANGE)))
    ready = status != "approved" or rng.random() >= NOT_READY_SHARE
    budget_at = approved - HOUR if status not in ("drafting", "consulting", "cancelled") else None
    plan = _plan(life, created, owner, budget_at)
    life.event(None, "drafting", created, owner)
    if status == "drafting":
        plan["monitoring_plan"] = plan["monitoring_plan"] if rng.random() < 0.4 else ""
        if rng.random() < 0.4:
            _owners(life, "marketing", life.regions)
        else:
            _owners(life, "marketing", [])
    elif status == "consulting":
        asked = _between(created, life.now, float(rng.uniform(0.4, 0.97)))
        life.event("drafting", "consulting", asked, owner)
        _consult(life, asked, life.now, all_answer=False)
        _owners(life, "marketing", life.regions if rng.random() < 0.7 else life.regions[:1])
        if rng.random() < 0.5:
            plan.update(budget_approved=True, budget_approved_by_name=world.names[national],
                        budget_approved_at=_between(created, asked, 0.5))  # fmt: skip
    elif status == "cancelled":
        life.event("drafting", "consulting", asked, owner)
        last = _consult(life, asked, approved, all_answer=True)
        life.event("consulting", "cancelled", max(approved, last + HOUR), owner, life.choice(CANCEL_REASONS))
        _owners(life, "marketing", life.regions)
    else:
        life.event("drafting", "consulting", asked, owner)
        last = _consult(life, asked, approved, all_answer=True)
        approved = max(approved, last + HOUR)
        life.event("consulting", "approved", approved, national)
        _owners(life, "marketing", life.regions)
        if not ready:
            if rng.random() < 0.5:
                plan["monitoring_plan"] = ""
            else:
                plan.update(budget_approved=False, budget_approved_by_name=None, budget_approved_at=None)
        _run(life, approved, owner)
    life.rows.add("promotion_plans", **plan)


def _sales(life: _Life) -> None:
    """A promotion a region's sales head requested: the request, marketing's decision, what followed."""
    world, rng, p, status = life.world, life.rng, life.p, life.status
    owner, national = int(p.owner_id), world.national
    requested = pd.Timestamp(p.requested_at).to_pydatetime()
    decided = None if pd.isna(p.decided_at) else pd.Timestamp(p.decided_at).to_pydatetime()
    approved = status in ("approved", "live", "finished", "reviewed") or (status == "cancelled" and decided)
    plan = _plan(life, requested, owner, decided if approved else None)
    reason = REQUEST_REASONS[int(rng.choice(len(REQUEST_REASONS), p=REASON_WEIGHTS))]
    plan.update(
        request_reason=reason,
        request_reason_text=life.choice(REASON_TEXTS[reason]),
        expected_effect=life.choice(EXPECTED_EFFECTS),
        budget_asked=float(round(p.budget * rng.uniform(1.0, 1.3) / 1000) * 1000),
        requested_region_ids=life.regions,
    )
    life.event(None, "requested", requested, owner)
    if status in ("requested", "rejected"):
        plan.update(channels=[], goal_revenue=None, monitoring_plan="")
        _owners(life, "sales", [])
        if status == "rejected":
            life.event(
                "requested", "rejected", decided or requested + HOUR, national, life.choice(REJECT_REASONS)
            )
    elif status == "cancelled" and decided is None:  # withdrawn by its requester before any decision
        plan.update(goal_revenue=None, monitoring_plan="")
        _owners(life, "sales", [])
        life.event(
            "requested", "cancelled", _between(requested, life.now, 0.3), owner, "客户活动取消，撤回申请。"
        )
    else:
        assert decided is not None
        life.event("requested", "approved", decided, national)
        _owners(life, "sales", life.regions)
        if status == "cancelled":
            life.event(
                "approved",
                "cancelled",
                _between(decided, life.now, 0.2),
                national,
                life.choice(CANCEL_REASONS),
            )
        else:
            _run(life, decided, owner)
    life.rows.add("promotion_plans", **plan)


_INTEGERS = ("region_id", "customer_id", "person_id", "user_id", "by_user", "by_person", "asked_by",
             "budget_approved_by", "created_by", "created_by_person")  # fmt: skip


def _frame(rows: list[dict[str, Any]], table: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in frame.columns.intersection(_INTEGERS):  # None stays NULL, not a float NaN
        frame[column] = frame[column].astype("Int64")
    order = {"promotion_consultations": "answered_at", "promotion_events": "event_at",
             "execution_reports": "reported_at"}.get(table)  # fmt: skip
    if order and not frame.empty:  # ids follow time, so the latest answer has the highest id
        frame = frame.sort_values([order, "promotion_id"], kind="stable").reset_index(drop=True)
    return frame


_ids = demo.sequence_ids
_insert = demo.insert_frame


_SEQUENCES = {
    "promotion_consultations": ("consultation_id", "consultation_id_seq"),
    "promotion_events": ("event_id", "promotion_event_id_seq"),
    "execution_reports": ("report_id", "execution_report_id_seq"),
}


def _photos(rng: np.random.Generator, reports: pd.DataFrame) -> pd.DataFrame:
    """A shelf photo on the most recent deviation reports with a store (N_PHOTOS of them)."""
    for column in ("photo_mime", "photo_width", "photo_height", "photo"):
        reports[column] = None
    if reports.empty:
        return reports
    chosen = reports[(reports["kind"] == "status") & ~reports["as_planned"].astype(bool)
                     & reports["customer_id"].notna()].tail(N_PHOTOS).index  # fmt: skip
    for index in chosen:
        price = f"-{int(rng.integers(8, 30))}%  {rng.uniform(2.5, 9.9):.1f}"
        stored = photos.prepare(photos.Photo(f"shelf_{index}.jpg", demo_board.shelf_photo(rng, price)))
        reports.at[index, "photo_mime"] = stored.mime
        reports.at[index, "photo_width"] = stored.width
        reports.at[index, "photo_height"] = stored.height
        reports.at[index, "photo"] = stored.data
    return reports


def build(db: Database, *, seed: int, as_of: dt.date, activities: int) -> None:
    """Fill the promotion tables for the core demo's promotions, ending on ``as_of``."""
    rng = np.random.default_rng([seed, SEED_STREAM])
    world = _World(db)
    now = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    rows = _Rows()
    for row in world.promotions.itertuples(index=False):
        life = _Life(world, rows, rng, row, now)
        (_sales if row.origin == "sales" else _marketing)(life)
    frames = {table: _frame(found, table) for table, found in rows.tables.items()}
    frames["execution_reports"] = _photos(rng, frames["execution_reports"])
    if not frames["execution_reports"].empty:
        frames["execution_reports"]["idempotency_key"] = [
            f"demo-{i}" for i in range(1, len(frames["execution_reports"]) + 1)
        ]
        frames["execution_reports"]["photo_width"] = frames["execution_reports"]["photo_width"].astype(
            "Int32"
        )
        frames["execution_reports"]["photo_height"] = frames["execution_reports"]["photo_height"].astype(
            "Int32"
        )

    def work(tx: Tx) -> None:
        for table in TABLES:
            frame = frames[table]
            if table in _SEQUENCES and not frame.empty:
                column, sequence = _SEQUENCES[table]
                frame.insert(0, column, _ids(tx, sequence, len(frame)))
            _insert(tx, table, frame)

    db.write(work, by=demo.DEMO)
