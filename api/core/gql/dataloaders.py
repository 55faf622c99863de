"""Per-request DataLoaders that batch synchronous loads over the request's session."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from strawberry.dataloader import DataLoader

K = TypeVar("K")
V = TypeVar("V")


class SessionLoader(DataLoader[K, V], Generic[K, V]):
    """Subclass as `<Thing>By<Key>Loader` and implement `load_batch` (DataLoader owns `batch`); get one per request with ctx.loader(cls)."""

    def __init__(self, context: Any) -> None:
        self.context = context
        super().__init__(load_fn=self._load)

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
