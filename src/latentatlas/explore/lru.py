"""A bounded cache for the explorer's server threads: least recently used entries leave first once
it holds more than ``max_entries`` values or ``max_bytes`` bytes, and a value is made outside its
lock (a look-up never waits behind a fit), once at a time per key (two requests for the same
missing key fit once; the second waits for the first)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


def nbytes(value: object) -> int:
    """Bytes a cached value holds in its arrays (``.nbytes``; an object's array attributes)."""
    size = getattr(value, "nbytes", None)
    if isinstance(size, int):
        return size
    return sum(int(getattr(v, "nbytes", 0)) for v in getattr(value, "__dict__", {}).values())


class LruCache(Generic[V]):
    """Up to ``max_entries`` values and ``max_bytes`` bytes (by ``size``); a value larger than
    ``max_bytes`` on its own is returned but not kept."""

    def __init__(
        self,
        max_entries: int,
        max_bytes: int | None = None,
        size: Callable[[V], int] = nbytes,
    ) -> None:
        self.max_entries, self.max_bytes, self._size = max_entries, max_bytes, size
        self._data: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._making: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    @property
    def bytes(self) -> int:
        with self._lock:
            return self._bytes

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value of ``key``, made by ``make()`` (outside the lock) when it is not kept."""
        while True:
            with self._lock:
                if key in self._data:
                    self._data.move_to_end(key)
                    return self._data[key][0]
                busy = self._making.get(key)
                if busy is None:
                    done = self._making[key] = threading.Event()
                    break
            # Another thread makes this key: wait for it, then look again (it may have failed,
            # then this thread makes it and meets the same error itself).
            busy.wait()
        try:
            value = make()
            self._put(key, value)
            return value
        finally:
            with self._lock:
                del self._making[key]
            done.set()

    def _put(self, key: Hashable, value: V) -> None:
        size = int(self._size(value))
        if self.max_bytes is not None and size > self.max_bytes:
            return
        with self._lock:
            self._data[key] = (value, size)
            self._bytes += size
            while len(self._data) > self.max_entries or (
                self.max_bytes is not None and self._bytes > self.max_bytes
            ):
                _, (_, old) = self._data.popitem(last=False)
                self._bytes -= old
