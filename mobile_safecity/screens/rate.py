"""Rate a closed incident from one to five stars, with an optional comment."""

from __future__ import annotations

from typing import Any

from kivy.properties import NumericProperty, StringProperty

from mobile_safecity.logic.validation import check_rating, messages
from mobile_safecity.screens.base import BaseScreen


class RateScreen(BaseScreen):
    """The rating form."""

    incident_id = StringProperty("")
    stars = NumericProperty(0)

    def start(self, incident_id: str) -> None:
        """A fresh form for this incident."""
        self.incident_id, self.stars, self.errors, self.notice = incident_id, 0, {}, ""
        self.ids.comment.text = ""

    def choose(self, stars: int) -> None:
        """Sets the number of stars."""
        self.stars = stars
        self.errors = {}

    def submit(self) -> None:
        """Sends the rating, then returns to the incident."""
        self.errors = messages(check_rating(int(self.stars)), self.app.language)
        if self.errors:
            return
        stars, comment = int(self.stars), self.ids.comment.text
        self.run(lambda: self.app.backend.rate(self.incident_id, stars, comment), self._rated, busy_key="rate.busy")

    def _rated(self, incident: dict[str, Any]) -> None:
        self.say_t("rate.thanks")
        screen = self.app.screen("incident")
        screen.incident = {**screen.incident, **incident}
        self.app.open_incident(self.incident_id, direction="right")
