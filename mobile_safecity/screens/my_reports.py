"""My reports: what is still waiting to be sent, what the server refused, and the incidents with status."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import ListProperty

from mobile_common.outbox import ItemState
from mobile_safecity.logic.state import ReportRow, report_rows
from mobile_safecity.screens.base import BaseScreen

STATUS_COLOURS = {
    "WAITING": (0.55, 0.45, 0.05, 1), "FAILED": (0.78, 0.10, 0.10, 1), "REPORTED": (0.35, 0.37, 0.42, 1),
    "ACKNOWLEDGED": (0.10, 0.35, 0.70, 1), "DISPATCHED": (0.85, 0.40, 0.05, 1),
    "RESOLVED": (0.10, 0.50, 0.25, 1), "CLOSED": (0.10, 0.50, 0.25, 1), "REJECTED": (0.45, 0.45, 0.45, 1),
    "MERGED": (0.45, 0.45, 0.45, 1),
}


class MyReportsScreen(BaseScreen):
    """The list of my reports, unsent ones first."""

    incidents = ListProperty([])
    rows = ListProperty([])

    def on_pre_enter(self, *args: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Shows the outbox at once, then the server's list when it arrives."""
        self.show()
        self.run(self.app.backend.my_incidents, self._loaded)

    def relabel(self) -> None:
        """Rows are written in Python: rebuild them from the outbox and the last server list."""
        self.show()

    def _loaded(self, incidents: list[dict[str, Any]]) -> None:
        self.incidents = incidents
        self.show()

    def show(self) -> None:
        """Rebuilds the rows from the outbox (always current) and the last server list."""
        key = getattr(self, "_notice_key", None)
        if key and key[0] == "report.saved" and not self.app.backend.outbox.items(ItemState.PENDING):
            self.notice = ""  # "saved, sending…" has done its job once nothing waits
        self.rows = report_rows(self.app.backend.outbox.items(ItemState.PENDING, ItemState.FAILED),
                                self.incidents, self.app.language)
        box = self.ids.rows
        box.clear_widgets()
        for row in self.rows:
            view = Factory.ReportRowView(row=row, colour=STATUS_COLOURS.get(row.status_code, (0.3, 0.3, 0.3, 1)))
            view.bind(on_release=lambda _v, r=row: self.open(r))
            box.add_widget(view)
            if row.status_code == "FAILED":
                actions = Factory.FailedActions()
                actions.ids.fix.bind(on_release=lambda _b, r=row: self.fix(r))
                actions.ids.discard.bind(on_release=lambda _b, r=row: self.discard(r))
                box.add_widget(actions)

    def open(self, row: ReportRow) -> None:
        """An incident's details (unsent reports have none yet)."""
        if row.incident_id:
            self.app.open_incident(row.incident_id)

    def fix(self, row: ReportRow) -> None:
        """Opens a refused report in the form with the server's errors next to the fields."""
        item = self.app.backend.outbox.get(row.outbox_id or 0)
        if item is not None:
            self.app.screen("report").prefill(item)
            self.app.go("report")

    def discard(self, row: ReportRow) -> None:
        """Drops a refused report."""
        self.app.backend.outbox.discard(row.outbox_id or 0)
        self.show()
