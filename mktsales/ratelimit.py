"""Limits on sign-in work: how many password hashes run at once, and failed sign-ins per minute.

A password check is argon2id with 64 MiB of memory and ≈0.3-0.5 s of a core. Unbounded, forty
parallel sign-in forms took 2.7 GB. Two guards, both in memory of this one process:

``Gate``: at most ``slots`` hashes at once (default 2, so ≤ 128 MiB of argon2 at any time); up
to ``queue`` more callers wait their turn (at most ``wait`` seconds), anyone beyond that is
refused at once (``Busy``) without allocating anything.

``Limits``: failed sign-ins per username and per client address in a sliding window (default
10 per name and 30 per address a minute). An attempt takes its place in both windows *before*
its password is checked, so parallel attempts cannot all slip in before the first failure is
counted; a successful sign-in gives its place back, so people who type their password right are
never limited. The per-name window applies alike to names that exist and names that do not, so
its refusal reveals nothing about which names exist.

Both live in this process only: several app processes each have their own. ``reset()`` forgets
both (the settings are read again on next use), for tests and after a configuration change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from mktsales import config

WINDOW_SECONDS = 60.0
MAX_KEYS = 50_000  # names and addresses remembered at once; beyond that new ones are refused
WAIT_SECONDS = 15.0  # the longest a password check waits for a hashing slot


class Busy(RuntimeError):
    """Every hashing slot is taken and the queue is full (or the wait ran out)."""


class Gate:
    """At most ``slots`` holders at once; at most ``queue`` callers waiting, the rest refused."""

    def __init__(self, slots: int, queue: int, wait: float = WAIT_SECONDS) -> None:
        self.slots, self.queue, self.wait = slots, queue, wait
        self._cond = threading.Condition()
        self._holding = 0
        self._waiting = 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Run the body in a slot; raise Busy if none frees up in time or too many already wait."""
        with self._cond:
            if self._holding >= self.slots:
                if self._waiting >= self.queue:
                    raise Busy("too many password checks waiting")
                self._waiting += 1
                try:
                    free = self._cond.wait_for(lambda: self._holding < self.slots, timeout=self.wait)
                finally:
                    self._waiting -= 1
                if not free:
                    raise Busy("no hashing slot became free in time")
            self._holding += 1
        try:
            yield
        finally:
            with self._cond:
                self._holding -= 1
                self._cond.notify()


@dataclass(frozen=True)
class Ticket:
    """One admitted attempt: the windows it was counted in, and when."""

    keys: tuple[tuple[str, str], ...]
    at: float


class Limits:
    """Attempts per username and per client address within the last ``seconds`` (sliding)."""

    def __init__(
        self,
        per_name: int,
        per_client: int,
        seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_name, self.per_client, self.seconds, self.clock = per_name, per_client, seconds, clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], list[float]] = {}

    def _recent(self, key: tuple[str, str], now: float) -> list[float]:
        times = [t for t in self._seen.get(key, ()) if t > now - self.seconds]
        if times:
            self._seen[key] = times
        else:
            self._seen.pop(key, None)
        return times

    def admit(self, name: str, client: str | None) -> Ticket | None:
        """Count one attempt for ``name`` and ``client`` (None: address unknown, not limited by
        address); None when either has used up its window, and then nothing is counted."""
        keys = [(("name", name), self.per_name)]
        if client:
            keys.append((("client", client), self.per_client))
        with self._lock:
            now = self.clock()
            if len(self._seen) >= MAX_KEYS:  # forget the windows that have run out
                for key in list(self._seen):
                    self._recent(key, now)
            for key, limit in keys:
                if len(self._recent(key, now)) >= limit:
                    return None
                if key not in self._seen and len(self._seen) >= MAX_KEYS:
                    return None  # a flood of distinct names: refuse rather than grow without end
            for key, _ in keys:
                self._seen.setdefault(key, []).append(now)
        return Ticket(tuple(key for key, _ in keys), now)

    def forgive(self, ticket: Ticket) -> None:
        """Give an admitted attempt's place back (it signed in)."""
        with self._lock:
            for key in ticket.keys:
                times = self._seen.get(key)
                if times and ticket.at in times:
                    times.remove(ticket.at)
                    if not times:
                        del self._seen[key]


_made = threading.Lock()
_gate: Gate | None = None
_limits: Limits | None = None


def hashing() -> Gate:
    """The process's one hashing gate, sized by config.hashing_slots() and hashing_queue()."""
    global _gate
    with _made:
        if _gate is None:
            _gate = Gate(config.hashing_slots(), config.hashing_queue())
        return _gate


def sign_in_limits() -> Limits:
    """The process's failed-sign-in windows, sized by config.signin_per_name() and per_client()."""
    global _limits
    with _made:
        if _limits is None:
            _limits = Limits(config.signin_per_name(), config.signin_per_client())
        return _limits


def reset() -> None:
    """Forget the gate and the windows; the next use builds them from the settings again."""
    global _gate, _limits
    with _made:
        _gate, _limits = None, None
