"""Per-request loaders for identity records."""

from __future__ import annotations

from api.core.gql.dataloaders import SessionLoader
from api.identity import service
from api.identity.models import AdministrativeUnit


class AdministrativeUnitByIdLoader(SessionLoader[int, AdministrativeUnit]):
    """Loads administrative units by id, one query per batch."""

    def load_batch(self, keys: list[int]) -> list[AdministrativeUnit | None]:
        rows = {u.id: u for u in service.get_units(db_session=self.context.session, unit_ids=keys)}
        return [rows.get(k) for k in keys]
