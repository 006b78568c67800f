"""Who may see and do what: the one table of roles and permissions, and the signed-in user.

The permission table in docs/roles.md is checked against ``PERMISSIONS`` by a test, so the two
cannot drift. Regions are the second axis: executives and admins see every region, everyone else sees
the regions on their account (a national head can be given all regions explicitly). Both axes
are enforced on the server: pages not allowed are not listed and refuse to run, and every query
takes a Scope built from the user's regions.
"""

from __future__ import annotations

from collections.abc import Iterable
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
        if not visible(self, region_id):
            raise AccessDenied(f"{self.username} may not act on region {region_id}")


# -- region visibility: the one place it is decided (issue 15) -------------------------------------
# ``User.allowed_regions`` says which regions a user may see (None: every one). Code asks these two
# rather than re-deriving from it; the SQL side is the in_scope(region_id, $regions) macro, whose
# parameter is visible_regions(user). A Scope for a user is scope.Scope.for_user.
def visible(user: User, region_id: int) -> bool:
    """May ``user`` see (and act on) ``region_id``?"""
    allowed = user.allowed_regions
    return allowed is None or region_id in allowed


def visible_any(user: User, region_ids: Iterable[int]) -> bool:
    """May ``user`` see something touching ``region_ids`` (a post, a promotion)? A user of every
    region sees it even when it lists no region."""
    return user.allowed_regions is None or any(visible(user, r) for r in region_ids)


def visible_regions(user: User | None, among: Iterable[int] | None = None) -> list[int] | None:
    """The regions ``user`` may see, as the in_scope parameter (None: no restriction), cut to
    ``among`` when given. No user (the system, the command line without --as) sees every region."""
    allowed = None if user is None else user.allowed_regions
    if allowed is None:
        return None if among is None else sorted(among)
    return list(allowed) if among is None else sorted(set(among) & set(allowed))
