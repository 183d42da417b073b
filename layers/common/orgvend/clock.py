"""The one clock orgvend reads (``now()``): UTC, and replaceable in tests (``set_clock``)."""

from collections.abc import Callable
from datetime import UTC, datetime


def _system_now() -> datetime:
    return datetime.now(UTC)


_clock: Callable[[], datetime] = _system_now


def now() -> datetime:
    return _clock()


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Use ``clock`` for ``now()`` from here on (None: the system's clock again)."""
    global _clock  # noqa: PLW0603 (the one clock of the process, by design)
    _clock = clock or _system_now
