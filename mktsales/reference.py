"""Regions and categories: the names people use, mapped to ids."""

from __future__ import annotations

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
