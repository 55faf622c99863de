"""Widgets every screen uses: a labelled field with its error, buttons, the top bar, the progress bar."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.widget import Widget


class Field(BoxLayout):
    """A label, a text input and, under it, the error for that field in the person's language."""

    label = StringProperty("")
    text = StringProperty("")
    hint = StringProperty("")
    error = StringProperty("")
    password = BooleanProperty(False)
    multiline = BooleanProperty(False)
    input_type = StringProperty("text")


class BusyBar(Widget):
    """An indeterminate progress bar: a band sliding while `active`."""

    active = BooleanProperty(False)
    phase = NumericProperty(0.0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._event: Any = None

    def on_active(self, _widget: Any, active: bool) -> None:
        if active and self._event is None:
            self._event = Clock.schedule_interval(self._step, 1 / 30)
        elif not active and self._event is not None:
            self._event.cancel()
            self._event = None

    def _step(self, dt: float) -> None:
        self.phase = (self.phase + dt * 0.8) % 1.0


class AlertRow(BoxLayout):
    """One alert of the area on the home screen."""

    text = StringProperty("")
    when = StringProperty("")
    category = StringProperty("OTHER")


class ReportRowView(ButtonBehavior, BoxLayout):
    """One line of 'my reports' (a logic.state.ReportRow)."""

    row = ObjectProperty(None, allownone=True)
    colour = ListProperty([0.3, 0.3, 0.3, 1])


class TimelineEntry(BoxLayout):
    """One entry of an incident's timeline."""

    title = StringProperty("")
    when = StringProperty("")
    note = StringProperty("")


class StepDot(BoxLayout):
    """One of the five steps of an incident, lit once reached."""

    text = StringProperty("")
    reached = BooleanProperty(False)


class PhotoThumb(ButtonBehavior, Image):
    """A chosen photo; tapping removes it."""
