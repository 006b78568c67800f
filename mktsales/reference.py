"""Regions and categories: the names people use, mapped to ids."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

from mktsales.db import Database


class UnknownName(ValueError):
    """A region or category name that does not exist."""


def regions(db: Database) -> pd.DataFrame:
    """All regions: region_id, code, name_zh, name_en."""
    return db.query("SELECT region_id, code, name_zh, name_en FROM regions ORDER BY region_id")


def categories(db: Database) -> pd.DataFrame:
    """All product categories: category_id, code, name_zh, name_en."""
    return db.query("SELECT category_id, code, name_zh, name_en FROM categories ORDER BY category_id")


def campaigns(db: Database) -> pd.DataFrame:
    """All marketing campaigns: campaign_id, name_zh, name_en, kind, category_id, start_date, end_date."""
    return db.query(
        "SELECT campaign_id, name_zh, name_en, kind, category_id, start_date, end_date"
        " FROM campaigns ORDER BY start_date, campaign_id"
    )


def products(db: Database) -> pd.DataFrame:
    """All products: product_id, category_id, name_zh, name_en, unit_price (list price)."""
    return db.query(
        "SELECT product_id, category_id, name_zh, name_en, CAST(unit_price AS DOUBLE) AS unit_price"
        " FROM products ORDER BY category_id, product_id"
    )


def marketing_people(db: Database, region_ids: list[int] | None) -> pd.DataFrame:
    """Marketing staff who can join a sales visit as its advisor (顾问方): in these regions or national."""
    return db.query(
        "SELECT person_id, name, region_id FROM people WHERE department = 'marketing'"
        " AND (region_id IS NULL OR in_scope(region_id, $regions))"
        " ORDER BY region_id NULLS LAST, person_id",
        {"regions": region_ids},
    )


def people(db: Database, region_ids: list[int] | None = None) -> pd.DataFrame:
    """Staff of both departments in these regions or national (no region): person_id, name,
    department, title, region_id; heads first. For naming a promotion's owners (项目负责制)."""
    return db.query(
        "SELECT person_id, name, department, title, region_id FROM people"
        " WHERE region_id IS NULL OR in_scope(region_id, $regions)"
        " ORDER BY title <> 'head', department, region_id NULLS FIRST, person_id",
        {"regions": region_ids},
    )


def bookable_promotions(
    db: Database, region_ids: list[int] | None, category_id: int | None, day: dt.date | None
) -> pd.DataFrame:
    """Promotions an order of ``category_id`` on ``day`` in these regions may be booked under
    (decided and running or run, as mktsales.entries checks): promotion_id, title_zh, title_en."""
    return db.query(
        "SELECT DISTINCT p.promotion_id, p.title_zh, p.title_en FROM promotions p"
        " JOIN promotion_regions r USING (promotion_id)"
        " WHERE p.status IN ('approved', 'live', 'finished', 'reviewed')"
        " AND p.category_id = $category AND $day BETWEEN p.start_date AND p.end_date"
        " AND in_scope(r.region_id, $regions)"
        " ORDER BY p.promotion_id",
        {"regions": region_ids, "category": category_id, "day": day},
    )


def linkable_promotions(db: Database, region_ids: list[int] | None, today: dt.date) -> pd.DataFrame:
    """Promotions a board post may refer to: touching these regions, not rejected or cancelled, and
    not over for more than 90 days; the newest first. promotion_id, title_zh, title_en, status."""
    return db.query(
        "SELECT p.promotion_id, any_value(p.title_zh) AS title_zh, any_value(p.title_en) AS title_en,"
        " any_value(p.status) AS status, any_value(p.start_date) AS start_date FROM promotions p"
        " JOIN promotion_regions r USING (promotion_id)"
        " WHERE p.status NOT IN ('rejected', 'cancelled') AND p.end_date >= $today - INTERVAL 90 DAY"
        " AND in_scope(r.region_id, $regions)"
        " GROUP BY p.promotion_id ORDER BY start_date DESC, p.promotion_id DESC LIMIT 200",
        {"regions": region_ids, "today": today},
    )


def resolve(frame: pd.DataFrame, id_column: str, names: Iterable[str], what: str) -> tuple[int, ...]:
    """Ids for names given by code, Chinese or English name (case and spacing ignored)."""
    lookup: dict[str, int] = {}
    for row in frame.itertuples(index=False):
        for name in (row.code, row.name_zh, row.name_en):
            lookup[" ".join(str(name).split()).casefold()] = int(getattr(row, id_column))
    ids = []
    for name in names:
        key = " ".join(name.split()).casefold()
        if key not in lookup:
            known = ", ".join(f"{r.name_zh} ({r.name_en})" for r in frame.itertuples(index=False))
            raise UnknownName(f"unknown {what} {name!r}; known: {known}")
        ids.append(lookup[key])
    return tuple(sorted(set(ids)))
