"""Per-request loaders for Safe City records: one query per relation per request, whatever the page size."""

from __future__ import annotations

from typing import Any

from api.core.gql.dataloaders import SessionLoader
from api.incidents import service
from api.incidents.models import Incident, IncidentEvent, IncidentPhoto, ResponderUnit


def _detach(loader: SessionLoader[Any, Any], *objects: Any) -> None:
    """Takes loaded rows out of the session: the loader releases the transaction when it returns, and a
    rollback would expire them, so reading their attributes would cost one refresh query per row."""
    session = loader.context.session
    for obj in objects:
        if obj is not None and obj in session:
            session.expunge(obj)


class IncidentByIdLoader(SessionLoader[int, Incident]):
    """Loads incidents by id."""

    def load_batch(self, keys: list[int]) -> list[Incident | None]:
        rows = {r.id: r for r in service.get_incidents(db_session=self.context.session, incident_ids=keys)}
        _detach(self, *rows.values())
        return [rows.get(k) for k in keys]


class ReporterByIncidentLoader(SessionLoader[int, Any]):
    """Loads each incident's first report with what is shown of its reporter (a plain row, nothing to detach)."""

    def load_batch(self, keys: list[int]) -> list[Any | None]:
        rows = service.first_reporters(db_session=self.context.session, incident_ids=keys)
        return [rows.get(k) for k in keys]


class AssignmentsByIncidentLoader(SessionLoader[int, list[tuple[Any, ResponderUnit]]]):
    """Loads each incident's assignments with their units."""

    def load_batch(self, keys: list[int]) -> list[list[tuple[Any, ResponderUnit]] | None]:
        rows = service.assignments_with_units(db_session=self.context.session, incident_ids=keys)
        _detach(self, *{id(unit): unit for pairs in rows.values() for _, unit in pairs}.values())
        return [rows.get(k, []) for k in keys]


class LastEventByIncidentLoader(SessionLoader[int, Any]):
    """Loads each incident's latest event (a plain row, nothing to detach)."""

    def load_batch(self, keys: list[int]) -> list[Any | None]:
        rows = service.last_events(db_session=self.context.session, incident_ids=keys)
        return [rows.get(k) for k in keys]


class EventsByIncidentLoader(SessionLoader[int, list[IncidentEvent]]):
    """Loads each incident's whole event log."""

    def load_batch(self, keys: list[int]) -> list[list[IncidentEvent] | None]:
        out: dict[int, list[IncidentEvent]] = {k: [] for k in keys}
        for event in service.events_of(db_session=self.context.session, incident_ids=keys):
            _detach(self, event)
            out[event.incident_id].append(event)
        return [out[k] for k in keys]


class ReportsByIncidentLoader(SessionLoader[int, list[Any]]):
    """Loads each incident's reports."""

    def load_batch(self, keys: list[int]) -> list[list[Any] | None]:
        out: dict[int, list[Any]] = {k: [] for k in keys}
        for report in service.reports_of(db_session=self.context.session, incident_ids=keys):
            _detach(self, report)
            out[report.incident_id or 0].append(report)
        return [out[k] for k in keys]


class PhotosByIncidentLoader(SessionLoader[int, list[IncidentPhoto]]):
    """Loads each incident's photos."""

    def load_batch(self, keys: list[int]) -> list[list[IncidentPhoto] | None]:
        out: dict[int, list[IncidentPhoto]] = {k: [] for k in keys}
        for photo in service.photos_of(db_session=self.context.session, incident_ids=keys):
            _detach(self, photo)
            out[photo.incident_id].append(photo)
        return [out[k] for k in keys]


class UnitByIdLoader(SessionLoader[int, ResponderUnit]):
    """Loads responder units by id."""

    def load_batch(self, keys: list[int]) -> list[ResponderUnit | None]:
        rows = {u.id: u for u in service.get_units(db_session=self.context.session, unit_ids=keys)}
        _detach(self, *rows.values())
        return [rows.get(k) for k in keys]
