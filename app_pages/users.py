"""Users & roles (admins): accounts, their role and regions, passwords, and the permission table."""

import pandas as pd
import streamlit as st

from mktsales import accounts, config, i18n
from mktsales.access import PERMISSIONS, ROLES
from mktsales.i18n import t
from mktsales.ui import data, filters, nav, widgets

lang = st.session_state.get(filters.LANG_KEY) or i18n.DEFAULT_LANG
admin = nav.guard("users", lang)
admin.require("users.manage")
db = data.database(str(config.db_path()))
by = accounts.actor(admin)
regions, _ = data.reference_data(db.path, db.version())
region_names = dict(zip(regions["code"], regions[f"name_{lang}"], strict=True))
_CREATED = "_users_created"  # username created by this tab: a repeated submit is not an error


def role_name(role: str) -> str:
    return t(f"role.{role}", lang)


def refused(exc: accounts.AccountError) -> None:
    st.error(t(exc.key, lang, **exc.params))


def people_options() -> dict[int | None, str]:
    rows = db.rows(
        "SELECT person_id, name, department, title, r.name_zh, r.name_en FROM people "
        "LEFT JOIN regions r USING (region_id) ORDER BY person_id"
    )
    shown: dict[int | None, str] = {None: t("users.no_person", lang)}
    for pid, name, dept, title, zh, en in rows:
        where = (zh if lang == "zh" else en) or t("users.national", lang)
        shown[pid] = f"{name} · {t(f'users.{dept}', lang)} {t(f'users.title_{title}', lang)} · {where}"
    return shown


st.title(t("nav.users", lang))
listing = accounts.list_users(db)
table = pd.DataFrame(
    {
        t("account.username", lang): listing["username"],
        t("account.name", lang): listing["display_name"],
        t("account.role", lang): listing["role"].map(role_name),
        t("account.regions", lang): [
            t("account.all_regions", lang) if every else "、".join(region_names.get(c, c) for c in codes)
            for every, codes in zip(listing["all_regions"], listing["regions"], strict=True)
        ],
        t("account.email", lang): listing["email"].fillna(""),  # Streamlit writes "None" in English
        t("users.active", lang): listing["active"],
        t("users.locked_until", lang): pd.to_datetime(listing["locked_until"]),
        t("users.demo", lang): listing["demo"],
    }
)  # never a password hash or a session token: the downloads hold exactly these columns
widgets.table(
    table,
    widgets.file_name("users"),
    lang,
    "users",
    exportable=admin.can(widgets.EXPORT),
    column_config={t("users.locked_until", lang): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
)

new_tab, edit_tab, password_tab, matrix_tab = st.tabs(
    [t("users.new", lang), t("users.edit", lang), t("users.password", lang), t("users.matrix", lang)]
)

with new_tab, st.form("new_user"):
    left, right = st.columns(2)
    username = left.text_input(t("account.username", lang), help=t("account.bad_username", lang))
    name = right.text_input(t("account.name", lang))
    role = left.selectbox(
        t("account.role", lang), ROLES, format_func=role_name, index=ROLES.index("sales_rep")
    )
    email = right.text_input(t("account.email", lang), help=t("users.email_help", lang))
    every = left.checkbox(t("users.all_regions", lang), help=t("users.all_regions_help", lang))
    chosen = right.multiselect(
        t("account.regions", lang),
        list(region_names),
        format_func=region_names.get,
        placeholder=t("users.pick_regions", lang),
    )
    person = st.selectbox(t("users.person", lang), list(people_options()), format_func=people_options().get)
    left, right = st.columns(2)
    password = left.text_input(
        t("users.initial_password", lang), type="password", autocomplete="new-password"
    )
    again = right.text_input(t("account.repeat_password", lang), type="password", autocomplete="new-password")
    create = st.form_submit_button(t("users.create", lang), type="primary")
if create:
    if password != again:
        st.error(t("account.passwords_differ", lang))
    else:
        try:
            accounts.create_user(
                db, by, username, name, role, regions=chosen, all_regions=every,
                password=password or None, email=email, person_id=person,
            )  # fmt: skip
        except accounts.AccountError as exc:
            if (
                exc.key == "account.username_taken"
                and st.session_state.get(_CREATED) == username.strip().lower()
            ):
                st.success(t("users.created", lang, username=username.strip().lower()))  # a repeated click
            else:
                refused(exc)
        else:
            st.session_state[_CREATED] = username.strip().lower()
            st.success(t("users.created", lang, username=username.strip().lower()))
            st.rerun()

with edit_tab:
    pick = st.selectbox(t("users.pick", lang), listing["username"], key="edit_user")
    if pick:
        row = listing[listing["username"] == pick].iloc[0]
        with st.form(f"edit_{pick}"):
            left, right = st.columns(2)
            name = left.text_input(t("account.name", lang), row["display_name"])
            email = right.text_input(t("account.email", lang), row["email"] or "")
            role = left.selectbox(
                t("account.role", lang), ROLES, format_func=role_name, index=ROLES.index(row["role"])
            )
            every = left.checkbox(
                t("users.all_regions", lang), bool(row["all_regions"]), help=t("users.all_regions_help", lang)
            )
            chosen = right.multiselect(
                t("account.regions", lang),
                list(region_names),
                list(row["regions"]),
                format_func=region_names.get,
                placeholder=t("users.pick_regions", lang),
            )
            active = right.checkbox(
                t("users.active", lang), bool(row["active"]), help=t("users.active_help", lang)
            )
            save = st.form_submit_button(t("account.save", lang), type="primary")
        if save:
            try:
                accounts.update_user(
                    db, by, pick, role=role, regions=chosen,
                    all_regions=every,
                    display_name=name, email=email, active=active,
                )  # fmt: skip
            except accounts.AccountError as exc:
                refused(exc)
            else:
                st.success(t("users.saved", lang, username=pick))

with password_tab:
    pick = st.selectbox(t("users.pick", lang), listing["username"], key="password_user")
    if pick:
        with st.form(f"password_{pick}", clear_on_submit=True):
            left, right = st.columns(2)
            new = left.text_input(
                t("account.new_password", lang), type="password", autocomplete="new-password"
            )
            again = right.text_input(
                t("account.repeat_password", lang), type="password", autocomplete="new-password"
            )
            reset = st.form_submit_button(t("users.reset", lang), type="primary")
        if reset:
            if new != again:
                st.error(t("account.passwords_differ", lang))
            else:
                try:
                    accounts.set_password(db, by, pick, new)
                except accounts.AccountError as exc:
                    refused(exc)
                else:
                    st.success(t("users.password_set", lang, username=pick))
        locked = listing.loc[listing["username"] == pick, "locked_until"].iloc[0]
        if pd.notna(locked):
            st.warning(t("users.is_locked", lang, until=pd.Timestamp(locked).strftime("%Y-%m-%d %H:%M")))
            if st.button(t("users.unlock", lang), key=f"unlock_{pick}"):
                try:
                    accounts.unlock(db, by, pick)
                except accounts.AccountError as exc:  # e.g. no longer an admin since the page opened
                    refused(exc)
                else:
                    st.rerun()

with matrix_tab:
    st.caption(t("users.matrix_note", lang))
    st.table(
        pd.DataFrame(
            {role_name(r): ["✓" if r in PERMISSIONS[p] else "" for p in PERMISSIONS] for r in ROLES},
            index=[t(f"perm.{p}", lang) for p in PERMISSIONS],
        )
    )
