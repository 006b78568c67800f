"""A form's fields on a page: values kept across a language switch and a refused submit, each
field's problems drawn under it, and an idempotency key so a double tap saves once.

The quick-entry forms have their own richer Form (entry_form.py); the board's and the promotions'
forms share this one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from mktsales import forms
from mktsales.i18n import LANGS, t
from mktsales.ui import filters


@dataclass(frozen=True)
class FormState:
    """The session-state home of one form: every key starts with ``prefix``."""

    prefix: str  # e.g. "board.post."
    lang: str

    def key(self, name: str) -> str:
        return self.prefix + name

    def field(self, name: str, draw: Callable[..., Any], *args: Any, default: Any = None, **kw: Any) -> Any:
        """Draw one field (its label and options in the user's language), then its problems."""
        if draw in (st.number_input, st.date_input):
            kw.setdefault("value", None)
        value = filters.page_choice(draw, self.key(name), default, self.lang, *args, **kw)
        self.problems(name)
        return value

    def reset(self, name: str, value: Any) -> None:
        """Give a field a new value before its widget is drawn in this run (a new default that
        follows another field's choice)."""
        st.session_state[self.key(name)] = value
        for lang in LANGS:
            st.session_state.pop(f"{self.key(name)}.{lang}", None)

    def problems(self, field: str) -> None:
        """The refused submit's problems that belong under ``field`` ("" for the form as a whole)."""
        for problem in st.session_state.get(self.key("problems"), {}).get(field, []):
            st.error(problem.message(self.lang), icon=":material/error:")

    def refuse(
        self, problems: Iterable[forms.Problem], known: Iterable[str], aliases: dict[str, str] | None = None
    ) -> None:
        """Keep a refused submit's problems by field; unknown fields go to the top of the form."""
        names = set(known)
        found: dict[str, list[forms.Problem]] = {}
        for problem in problems:
            field = (aliases or {}).get(problem.field, problem.field)
            found.setdefault(field if field in names else "", []).append(problem)
        st.session_state[self.key("problems")] = found

    def accepted(self, forget: Iterable[str]) -> None:
        """A saved submit: drop its problems, the fields that start afresh, and the nonce."""
        state = st.session_state
        state.pop(self.key("problems"), None)
        for name in (*forget, "nonce"):
            state.pop(self.key(name), None)
            for lang in LANGS:
                state.pop(f"{self.key(name)}.{lang}", None)

    def clear(self) -> None:
        """Forget everything of the form."""
        for key in [k for k in st.session_state if str(k).startswith(self.prefix)]:
            del st.session_state[key]

    def idempotency_key(self, values: dict[str, Any]) -> str:
        """The same form with the same values gives the same key until it is saved; bytes (photos)
        count by their hash."""
        nonce = st.session_state.setdefault(self.key("nonce"), forms.new_key())
        shown = {k: (hashlib.sha256(v).hexdigest() if isinstance(v, bytes) else v) for k, v in values.items()}
        text = json.dumps(shown, sort_keys=True, default=str)
        return hashlib.sha256(f"{nonce}|{self.prefix}|{text}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Actions:
    """One-click actions on a page (reply, approve, acknowledge): do it, then say what was done once,
    after the rerun that shows its effect; or say here, at once, why it was refused."""

    flash_key: str  # where the done message waits for the rerun, e.g. "board.flash"
    refused: tuple[type[Exception], ...]  # what the action may raise that the user should read
    explain: Callable[[Exception, str], None]  # draws a refusal in the user's language

    def run(self, action: Callable[[], Any], done: str, lang: str, *, forget: Iterable[str] = ()) -> None:
        try:
            action()
        except self.refused as exc:
            self.explain(exc, lang)
            return
        for key in forget:
            st.session_state.pop(key, None)
        st.session_state[self.flash_key] = done
        st.rerun()

    def flash(self, lang: str) -> None:
        """What the last action did, shown once."""
        key = st.session_state.pop(self.flash_key, None)
        if key:
            st.success(t(key, lang), icon=":material/check_circle:")
