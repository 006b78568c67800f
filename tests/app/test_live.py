"""Live refresh: cached page data is recomputed when, and only when, a write moved the data version."""

from pathlib import Path

import pytest

from mktsales import kpis
from mktsales.scope import Scope
from mktsales.ui import data
from tests.conftest import MARCH, write_sql


def test_overview_is_recomputed_only_after_a_write(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    computed: list[Scope] = []
    real = kpis.overview
    monkeypatch.setattr(kpis, "overview", lambda db, scope: computed.append(scope) or real(db, scope))
    path, scope = str(app_env), Scope(*MARCH)
    db = data.database(path)

    before = data.overview(path, db.version(), scope)
    data.overview(path, db.version(), scope)  # a refresh with no new data
    assert len(computed) == 1

    write_sql(db, "INSERT INTO orders VALUES (99, DATE '2026-03-10', 1, 1, 1, 1, 50, 500.00, NULL, NULL, 2)")
    after = data.overview(path, db.version(), scope)
    assert len(computed) == 2
    assert (before.current["revenue"], after.current["revenue"]) == (10200.0, 10700.0)
