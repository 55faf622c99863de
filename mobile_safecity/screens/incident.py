"""One incident: status steps, timeline, responders; live while open (myIncidentUpdates)."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, DictProperty, NumericProperty, StringProperty

from mobile_safecity.logic.categories import emergency_numbers
from mobile_safecity.logic.i18n import state_name
from mobile_safecity.logic.state import (
    STEPS,
    apply_live_event,
    can_rate,
    reference,
    steps_reached,
    timeline_rows,
)
from mobile_safecity.screens.base import BaseScreen


class IncidentScreen(BaseScreen):
    """The detail of one of my incidents."""

    incident_id = StringProperty("")
    incident = DictProperty({})
    live = BooleanProperty(False)
    reached = NumericProperty(0)
    events_seen = NumericProperty(0)  # live events received while open (tests wait on it)
    ref = StringProperty("")
    units_text = StringProperty("")
    rateable = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._subscription: Any = None
        self._reload = Clock.create_trigger(lambda _dt: self.load(quiet=True), 0.3)

    def show_incident(self, incident_id: str) -> None:
        """Opens an incident: loads it and starts listening for its changes."""
        if incident_id != self.incident_id:
            self.incident = {}
        self.incident_id = incident_id

    def on_enter(self, *args: Any) -> None:
        self.load()
        self._subscribe()

    def on_leave(self, *args: Any) -> None:
        self._unsubscribe()

    def relabel(self) -> None:
        """Redraws in the current language."""
        self._show()

    def load(self, quiet: bool = False) -> None:
        """Fetches the incident with its timeline."""
        if self.incident_id:
            self.run(lambda: self.app.backend.incident(self.incident_id), self._loaded, quiet=quiet)

    def _loaded(self, incident: dict[str, Any] | None) -> None:
        if incident:
            self.incident = incident
        self._show()

    def _subscribe(self) -> None:
        self._unsubscribe()

        def event(data: dict[str, Any]) -> None:
            Clock.schedule_once(lambda _dt: self._live_event(data))

        def status(value: str) -> None:
            Clock.schedule_once(lambda _dt: setattr(self, "live", value == "connected"))

        self._subscription = self.app.backend.updates(event, status)
        self._subscription.start()

    def _unsubscribe(self) -> None:
        if self._subscription is not None:
            subscription, self._subscription = self._subscription, None
            self.app.run_async(subscription.stop, lambda _r: None, lambda _e: None)
        self.live = False

    def _live_event(self, event: dict[str, Any]) -> None:
        if event.get("incidentId") != self.incident_id:
            return
        self.events_seen += 1
        self.incident = apply_live_event(dict(self.incident), event)
        self._show()
        self._reload()  # responders, outcome and rating come with the full record

    def _show(self) -> None:
        incident = self.incident
        box = self.ids.timeline
        box.clear_widgets()
        if not incident:
            return
        language = self.app.language
        self.ref = reference(self.incident_id)
        self.rateable = can_rate(incident)
        self.units_text = ", ".join(a["unit"]["name"] for a in incident.get("assignments") or [] if a.get("unit"))
        self.reached = steps_reached(incident.get("state", "REPORTED"))
        for row in reversed(timeline_rows(incident.get("timeline") or [], language)):
            box.add_widget(Factory.TimelineEntry(title=row.title, when=row.when, note=row.note))
        steps = self.ids.steps
        steps.clear_widgets()
        for index, step in enumerate(STEPS):
            steps.add_widget(Factory.StepDot(text=state_name(step, language), reached=index < self.reached))
        calls = self.ids.calls
        calls.clear_widgets()
        if incident.get("state") not in ("RESOLVED", "CLOSED", "REJECTED", "MERGED"):
            for number in emergency_numbers(incident.get("category")):
                button = Factory.DangerButton(text=f"☎ {self.t('common.call', number=number)} · "
                                                   f"{self.t('service.' + number)}", font_name="Icons")
                button.bind(on_release=lambda _b, n=number: self.app.platform.phone.call(n))
                calls.add_widget(button)

    def rate(self) -> None:
        """Opens the rating screen for this incident."""
        self.app.screen("rate").start(self.incident_id)
        self.app.go("rate")
