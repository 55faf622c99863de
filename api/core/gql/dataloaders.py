"""Per-request DataLoaders that batch synchronous loads over the request's session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from strawberry.dataloader import DataLoader

K = TypeVar("K")
V = TypeVar("V")


class SessionLoader(DataLoader[K, V], Generic[K, V]):
    """Subclass as `<Thing>By<Key>Loader` and implement `load_batch` (DataLoader owns `batch`); get one per request with ctx.loader(cls)."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self._ready: dict[K, V | None] = {}
        super().__init__(load_fn=self._load)

    def prefetch(self, keys: Iterable[K]) -> None:
        """Loads these keys now, synchronously, in the caller's read transaction: for a list resolver that knows
        its page. Fields then answer from `peek` without awaiting (an async field per row costs ~10x a sync
        one in the executor). Call it only where a blocking read is allowed, never inside a write."""
        missing = [k for k in dict.fromkeys(keys) if k not in self._ready]
        if missing:
            self._ready.update(zip(missing, self.load_batch(missing), strict=True))

    def peek(self, key: K, default: Any) -> Any:
        """The prefetched value for `key` (None where missing), or `default` when it was not prefetched."""
        return self._ready[key] if key in self._ready else default

    async def _load(self, keys: Sequence[K]) -> list[V | None]:
        try:
            return self.load_batch(list(keys))
        finally:
            self.context.release()

    def load(self, key: K) -> Any:
        # Release before the caller awaits (see Context.release).
        self.context.release()
        return super().load(key)

    def load_batch(self, keys: list[K]) -> list[V | None]:
        """Loads the values for these keys, in order, None where missing."""
        raise NotImplementedError
