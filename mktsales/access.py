"""Who may see and do what: the one table of roles and permissions, and the signed-in user.

The permission table in docs/roles.md is checked against ``PERMISSIONS`` by a test, so the two
cannot drift. Regions are the second axis: executives and admins see every region, everyone else sees
the regions on their account (a national head can be given all regions explicitly). Both axes
are enforced on the server: pages not allowed are not listed and refuse to run, and every query
takes a Scope built from the user's regions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["executive", "marketing_head", "sales_head", "marketing_staff", "sales_rep", "admin"]
ROLES: tuple[Role, ...] = (
    "executive",
    "marketing_head",
    "sales_head",
    "marketing_staff",
    "sales_rep",
    "admin",
)
# Roles that always see every region, whatever their account lists.
ALL_REGION_ROLES: frozenset[Role] = frozenset({"executive", "admin"})

EXE, MH, SH, MS, REP, ADM = ROLES
EVERYONE = frozenset(ROLES)
HEADS = frozenset({MH, SH})
DASHBOARD = frozenset({EXE, MH, SH, MS, ADM})
MARKETING = frozenset({MH, MS})
SALES = frozenset({SH, REP})

# permission -> the roles that have it. Pages are "page.<key>"; the rest are actions.
# Actions whose pages have not landed yet are listed so the policy is decided in one place.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "page.overview": DASHBOARD,
    "page.funnel": DASHBOARD,
    "page.entry": SALES,
    "page.board": EVERYONE,
    "page.promotions": EVERYONE,
    "page.definitions": EVERYONE,
    "page.account": EVERYONE,
    "page.users": frozenset({ADM}),
    "page.audit": frozenset({ADM}),
    "page.data": frozenset({ADM}),
    "users.manage": frozenset({ADM}),
    "audit.view": frozenset({ADM}),
    "data.export": EVERYONE,
    "data.import": frozenset({ADM}),
    "data.backup": frozenset({ADM}),
    "promotion.draft": MARKETING,
    "promotion.request": SALES,
    "promotion.decide": frozenset({MH}),
    "promotion.consult": frozenset({SH}),
    "promotion.report_execution": SALES | MARKETING,
    "board.field_report": SALES,
    "board.plan": MARKETING,
    "board.answer": HEADS | {MS, REP},
    "entry.sales": SALES,
}


# Decided but not built yet: left off "what your role may do" until their pages land (none now).
PLANNED: frozenset[str] = frozenset()


def can(role: str, permission: str) -> bool:
    """True when ``role`` has ``permission``; unknown permissions are refused."""
    return role in PERMISSIONS.get(permission, frozenset())


class AccessDenied(PermissionError):
    """An action or page outside the user's role or regions."""


@dataclass(frozen=True)
class User:
    """A signed-in person, as resolved from the database on every request (never from the browser)."""

    user_id: int
    username: str
    display_name: str
    role: Role
    regions: tuple[int, ...]  # the account's regions; ignored when ``all_regions``
    all_regions: bool
    person_id: int | None = None
    email: str | None = None
    client_ip: str | None = None  # where this request came from (set by the web app), for the audit

    @property
    def allowed_regions(self) -> tuple[int, ...] | None:
        """What a Scope may show this user: None for every region."""
        if self.all_regions or self.role in ALL_REGION_ROLES:
            return None
        return tuple(sorted(self.regions))

    def can(self, permission: str) -> bool:
        return can(self.role, permission)

    def require(self, permission: str) -> None:
        """Raise AccessDenied unless the user has ``permission``."""
        if not self.can(permission):
            raise AccessDenied(f"{self.username} ({self.role}) may not {permission}")

    def require_region(self, region_id: int) -> None:
        """Raise AccessDenied unless ``region_id`` is one of the user's regions."""
        allowed = self.allowed_regions
        if allowed is not None and region_id not in allowed:
            raise AccessDenied(f"{self.username} may not act on region {region_id}")
