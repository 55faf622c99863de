"""Settings: language (Vietnamese or English) and the server's address; sign out."""

from __future__ import annotations

from typing import Any

from mobile_safecity.logic.validation import check_server, messages
from mobile_safecity.screens.base import BaseScreen


class SettingsScreen(BaseScreen):
    """The settings form."""

    def on_pre_enter(self, *args: Any) -> None:
        self.ids.server.text = self.app.backend.prefs.server
        self.errors, self.notice = {}, ""

    def set_language(self, language: str) -> None:
        """Switches every text of the app at once."""
        self.app.set_language(language)

    def save(self) -> None:
        """Saves the server address."""
        server = self.ids.server.text.strip()
        self.errors = messages(check_server(server), self.app.language)
        if not self.errors:
            self.app.backend.set_server(server)
            self.say_t("settings.saved")

    def sign_out(self) -> None:
        """Ends the session."""
        self.run(self.app.backend.sign_out, lambda _r: self.app.signed_out(quiet=True), busy_key="mine.loading")

    def back_target(self) -> str:
        """Where back leads."""
        return "home" if self.app.backend.signed_in else "signin"
