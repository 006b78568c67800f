"""What can be imported and exported (issue 8): every kind's fields, references, checks and table.

A kind is one table people keep in a spreadsheet: regions, people, orders ... Its fields are the
columns of its file, named by their canonical English snake_case name (the CLI's and the export's
header); labels, header aliases and choice labels live in the translation table
(``import.field.<kind>.<name>``, ``import.alias.<kind>.<name>``, ``import.choice.<group>.<code>``),
so both languages match a header or a choice.

The importer (mktsales/importer.py) reads these declarations; nothing here touches the database.
Rules written as SQL are code, never user input: they test the columns of the staged rows after
parsing (their final values: the file's for mapped fields, the stored row's for the rest).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mktsales import vocabulary

# Field types (FieldInfo.type): the row's external id, free text, numbers, dates, timestamps (a date
# alone is 00:00), stored codes, a reference to another kind's row, and several references.
TYPES = ("id", "text", "int", "decimal", "date", "timestamp", "choice", "ref", "refs")
MAX_TEXT = 500  # characters in one text cell


@dataclass(frozen=True)
class Field:
    """One column of a kind's file and where it is stored."""

    name: str
    type: str
    required: bool = False
    column: str | None = None  # the table column; None: the name; "" for refs (stored elsewhere)
    ref: str | None = None  # the kind a ref or refs field points at
    choices: tuple[str, ...] = ()  # the stored codes of a choice field
    choice_group: str = ""  # its labels: import.choice.<group>.<code>
    default: str | None = None  # SQL literal taken when blank (insert and update)
    check: str | None = None  # nonneg (< 0 refused), positive (<= 0 refused), pct (0..100), size (> 0)
    either: str | None = None  # another field that stands in when this one is blank (name_zh/name_en)
    month: bool = False  # a date kept as the first day of its month (targets)
    percent_sign: bool = False  # "45%" means 45 (brand awareness is stored in percent)

    @property
    def stored(self) -> str:
        """The table column holding this field ("" for a refs field)."""
        return self.name if self.column is None else self.column


@dataclass(frozen=True)
class Rule:
    """A check across fields: ``sql`` is true for a row with a problem ``reason`` on ``field``."""

    field: str
    reason: str
    sql: str


@dataclass(frozen=True)
class Kind:
    """A kind's table, its key, its fields and its cross-field rules."""

    name: str
    table: str
    pk: str  # the table's id column (natural-key kinds: their first key column)
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ()  # natural key fields; empty: the kind has external ids ("id")
    rules: tuple[Rule, ...] = ()
    # column -> (ref field, column of the referenced row): copied from the row a reference names
    derived: dict[str, tuple[str, str]] = field(default_factory=dict)
    names: tuple[str, ...] = ()  # columns a reference may name the row by, when unique
    period: str | None = None  # the column a scope's period restricts on export

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def has_ids(self) -> bool:
        return not self.key


def _ref(name: str, kind: str, required: bool = False, column: str | None = None) -> Field:
    return Field(name, "ref", required, column=column or f"{name}_id", ref=kind)


def _region(required: bool = True) -> Field:
    return _ref("region", "regions", required)


def _category(required: bool = True) -> Field:
    return _ref("category", "categories", required)


def _ts(name: str, required: bool = False) -> Field:
    return Field(name, "timestamp", required)


_ID = Field("id", "id", True, column="")  # kept in external_keys, not in the kind's table

DEPARTMENTS = ("marketing", "sales")
TITLES = ("head", "staff", "rep")
CHANNELS = vocabulary.CHANNELS
PROMOTION_KINDS = vocabulary.PROMOTION_KINDS
STATUSES = vocabulary.PROMOTION_STATUSES
ACTIVITY_KINDS = vocabulary.ACTIVITY_KINDS
OUTCOMES = ("won", "lost")

_NAMED = (
    Field("code", "id", True),
    Field("name_zh", "text", True),
    Field("name_en", "text", True),
)

# lead stages in order, mirroring 001's CHECKs: each needs the one before and is not earlier
_LEAD_RULES = (
    Rule("mql_at", "out_of_order", "mql_at < created_at"),
    Rule("sal_at", "out_of_order", "sal_at IS NOT NULL AND (mql_at IS NULL OR sal_at < mql_at)"),
    Rule(
        "rejected_at",
        "out_of_order",
        "rejected_at IS NOT NULL AND (mql_at IS NULL OR rejected_at < mql_at OR sal_at IS NOT NULL)",
    ),
    Rule(
        "opportunity_at",
        "out_of_order",
        "opportunity_at IS NOT NULL AND (sal_at IS NULL OR opportunity_at < sal_at)",
    ),
    Rule(
        "closed_at",
        "out_of_order",
        "closed_at IS NOT NULL AND (opportunity_at IS NULL OR closed_at < opportunity_at OR outcome IS NULL)",
    ),
    Rule("outcome", "out_of_order", "outcome IS NOT NULL AND closed_at IS NULL"),
)

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("regions", "regions", "region_id", _NAMED, key=("code",)),
        Kind("categories", "categories", "category_id", _NAMED, key=("code",)),
        Kind(
            "people",
            "people",
            "person_id",
            (
                _ID,
                Field("name", "text", True),
                Field("department", "choice", True, choices=DEPARTMENTS, choice_group="department"),
                Field("title", "choice", True, choices=TITLES, choice_group="title"),
                _region(required=False),
            ),
            names=("name",),
        ),
        Kind(
            "customers",
            "customers",
            "customer_id",
            (
                _ID,
                Field("name", "text", True),
                Field("channel", "choice", True, choices=CHANNELS, choice_group="channel"),
                _region(),
                _ref("account_manager", "people"),
                Field("credit_days", "int", default="30", check="nonneg"),
            ),
            names=("name",),
        ),
        Kind(
            "products",
            "products",
            "product_id",
            (
                _ID,
                Field("name_zh", "text", True, either="name_en"),
                Field("name_en", "text", either="name_zh"),
                _category(),
                Field("unit_price", "decimal", True, check="nonneg"),
                Field("unit_cost", "decimal", True, check="nonneg"),
            ),
            names=("name_zh", "name_en"),
        ),
        Kind(
            "promotions",
            "promotions",
            "promotion_id",
            (
                _ID,
                Field("title_zh", "text", True, either="title_en"),
                Field("title_en", "text", either="title_zh"),
                Field("kind", "choice", True, choices=PROMOTION_KINDS, choice_group="promotion_kind"),
                Field(
                    "origin", "choice", choices=DEPARTMENTS, choice_group="department", default="'marketing'"
                ),
                Field("status", "choice", True, choices=STATUSES, choice_group="status"),
                _category(),
                Field("start_date", "date", True),
                Field("end_date", "date", True),
                Field("budget", "decimal", default="0", check="nonneg"),
                _ref("owner", "people"),
                Field("regions", "refs", True, column="", ref="regions"),
                _ts("requested_at"),
                _ts("decided_at"),
            ),
            rules=(
                Rule("end_date", "out_of_range", "end_date < start_date"),
                Rule("decided_at", "out_of_order", "decided_at < requested_at"),
            ),
            names=("title_zh", "title_en"),
            period="start_date",
        ),
        Kind(
            "activities",
            "activities",
            "activity_id",
            (
                _ID,
                Field("activity_date", "date", True),
                Field("track", "choice", True, choices=DEPARTMENTS, choice_group="department"),
                Field("kind", "choice", True, choices=ACTIVITY_KINDS, choice_group="activity_kind"),
                _region(),
                _category(),
                _ref("owner", "people"),
                _ref("advisor", "people"),
                _ref("promotion", "promotions"),
                Field("reach", "int", default="0", check="nonneg"),
                Field("engaged", "int", default="0", check="nonneg"),
                Field("cost", "decimal", default="0", check="nonneg"),
            ),
            rules=(Rule("engaged", "out_of_range", "engaged > reach"),),
            period="activity_date",
        ),
        Kind(
            "leads",
            "leads",
            "lead_id",
            (
                _ID,
                _region(),
                _category(),
                Field("source", "text", True),
                _ref("activity", "activities"),
                _ref("owner", "people"),
                _ts("created_at", required=True),
                _ts("mql_at"),
                _ts("sal_at"),
                _ts("rejected_at"),
                Field("reject_reason", "text"),
                _ts("opportunity_at"),
                _ts("closed_at"),
                Field("outcome", "choice", choices=OUTCOMES, choice_group="outcome"),
                Field("lost_reason", "text"),
                Field("value", "decimal", check="nonneg"),
            ),
            rules=_LEAD_RULES,
            period="created_at",
        ),
        Kind(
            "orders",
            "orders",
            "order_id",
            (
                _ID,
                Field("order_date", "date", True),
                _ref("customer", "customers", True),
                _ref("product", "products", True),
                Field("quantity", "int", True, check="positive"),
                Field("amount", "decimal", True, check="nonneg"),
                _ref("lead", "leads"),
                _ref("promotion", "promotions"),
                _ref("rep", "people"),
            ),
            # copied so that every filter is a column test (001): from the customer and the product
            derived={"region_id": ("customer", "region_id"), "category_id": ("product", "category_id")},
            period="order_date",
        ),
        Kind(
            "payments",
            "payments",
            "payment_id",
            (
                _ID,
                _ref("order", "orders", True),
                Field("paid_on", "date", True),
                Field("amount", "decimal", True, check="positive"),
                Field("method", "text", default="'transfer'"),
            ),
            period="paid_on",
        ),
        Kind(
            "targets",
            "targets",
            "month",
            (
                Field("month", "date", True, month=True),
                _region(),
                _category(),
                Field("revenue_target", "decimal", True, check="nonneg"),
            ),
            key=("month", "region", "category"),
            period="month",
        ),
        Kind(
            "brand_surveys",
            "brand_surveys",
            "survey_date",
            (
                Field("survey_date", "date", True),
                _region(),
                Field("awareness_pct", "decimal", True, check="pct", percent_sign=True),
                Field("sample_size", "int", True, check="size"),
            ),
            key=("survey_date", "region"),
            period="survey_date",
        ),
    )
}

ORDER: tuple[str, ...] = tuple(KINDS)  # dependency order: a kind refers only to kinds before it


def kind(name: str) -> Kind:
    """The declaration of kind ``name``; ValueError for an unknown kind."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind {name!r}; choose one of: {', '.join(ORDER)}") from None


def referencing(name: str) -> list[tuple[str, Field]]:
    """The (kind, field) pairs whose ref or refs field points at kind ``name``."""
    return [(k.name, f) for k in KINDS.values() for f in k.fields if f.ref == name]
