"""Home: the big report button, my reports with what is still waiting, alerts for the area."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import ListProperty, NumericProperty, StringProperty

from mobile_common.outbox import ItemState
from mobile_safecity.logic.i18n import category_name, state_name
from mobile_safecity.logic.state import local_time
from mobile_safecity.screens.base import BaseScreen


class HomeScreen(BaseScreen):
    """The screen after signing in."""

    waiting = NumericProperty(0)
    full_name = StringProperty("")
    alerts = ListProperty([])

    def on_pre_enter(self, *args: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Counts unsent reports (no network needed) and loads the area's alerts."""
        self.full_name = self.app.backend.full_name or ""
        self.waiting = len(self.app.backend.outbox.items(ItemState.PENDING))
        self.run(self.app.backend.alerts, self._show_alerts)

    def relabel(self) -> None:
        """Alert lines are written in Python: rewrite them from the last answer."""
        self._show_alerts(self._last_alerts)

    _last_alerts: list[dict[str, Any]] = []

    def _show_alerts(self, alerts: list[dict[str, Any]]) -> None:
        self._last_alerts = alerts
        language = self.app.language
        self.alerts = [{"text": f"{category_name(a['category'], language)} · {state_name(a['state'], language)}",
                        "when": local_time(a.get("reportedAt"), language), "category": a["category"]}
                       for a in alerts]

    def on_alerts(self, _screen: Any, alerts: list[dict[str, Any]]) -> None:
        box = self.ids.alerts
        box.clear_widgets()
        for alert in alerts:
            box.add_widget(Factory.AlertRow(**alert))
