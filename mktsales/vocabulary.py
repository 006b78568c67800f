"""The code lists: the values a coded column may hold, shared by the domain, the UI and the demo.

Each list is stored as it is written here (the codes, never a translation); the translation
table names each code under its own key (e.g. ``reject.no_budget``, ``post_category.stocking``), and
the order here is the order the forms offer them in. The domain modules check input against
these lists and re-export them under their old names (``entries.REJECT_REASONS``,
``board.STATUSES``, ``promotions.CHANNELS``); the demo generator draws from them. Nothing here
imports anything: this module sits below every feature.
"""

from __future__ import annotations

# -- customers and activities ------------------------------------------------------------------------
CHANNELS = ("key_account", "supermarket", "convenience", "distributor")  # customers.channel
ACTIVITY_KINDS = ("ad", "event", "content", "promotion", "visit")  # activities.kind

# -- leads -------------------------------------------------------------------------------------------
LEAD_SOURCES = ("ad", "event", "content", "website", "referral", "trade_show")  # leads.source
LEAD_STATES = ("new", "waiting", "rejected", "accepted", "opportunity", "won", "lost")
REJECT_REASONS = ("not_a_fit", "no_budget", "duplicate", "bad_contact", "too_small")  # leads.reject_reason
LOST_REASONS = ("price", "competitor", "no_decision", "timing")  # leads.lost_reason

# -- quick entries (visits, payments) ----------------------------------------------------------------
VISIT_PURPOSES = ("introduce", "follow_up", "negotiate", "collect_payment", "service", "complaint")
VISIT_OUTCOMES = ("positive", "neutral", "negative", "order_taken")
# bank_acceptance is 银行承兑汇票; the demo's payments use the same codes (a subset, in its own order).
PAYMENT_METHODS = ("transfer", "cash", "cheque", "bank_acceptance")  # payments.method

# -- promotions --------------------------------------------------------------------------------------
PROMOTION_KINDS = ("major", "tactical")
PROMOTION_STATUSES = (
    "requested", "drafting", "consulting", "approved", "live", "finished", "reviewed", "rejected",
    "cancelled",
)  # fmt: skip
PROMOTION_MECHANICS = ("discount", "gift", "display", "pop_dm", "event")
REQUEST_REASONS = ("competitor_move", "stock_clearance", "new_customer", "seasonal", "other")
DEVIATIONS = ("price", "display", "pop_dm", "stock", "timing")  # how execution departed from the plan

# -- the board ---------------------------------------------------------------------------------------
POST_DIRECTIONS = ("field", "plan")  # a field report (sales to marketing) or a plan (marketing to sales)
FIELD_CATEGORIES: tuple[str, ...] = (
    "shelf_display",
    "stocking",
    "pop_dm",
    "online",
    "terminal_sales",
    "promotion_feedback",
    "regional_sales",
    "competitor",
    "customer_feedback",
)
PLAN_CATEGORIES: tuple[str, ...] = (
    "promotion_plan",
    "event_schedule",
    "ad_placement",
    "gift_material",
    "targets",
    "brand_plan",
)
POST_PRIORITIES = ("normal", "urgent")
POST_STATUSES = ("open", "overdue", "answered", "closed")
POST_OUTCOMES = ("acted", "no_action", "duplicate")  # how a closed post ended
