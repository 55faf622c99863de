"""Sign in with the citizen id or the phone number."""

from __future__ import annotations

from mobile_safecity.logic.validation import check_sign_in, messages
from mobile_safecity.screens.base import BaseScreen


class SignInScreen(BaseScreen):
    """The first screen when nobody is signed in."""

    def submit(self) -> None:
        """Checks the form here first, then signs in."""
        username, password = self.ids.username.text, self.ids.password.text
        self.errors = messages(check_sign_in(username, password), self.app.language)
        if self.errors:
            return
        self.run(lambda: self.app.backend.sign_in(username, password), self._signed_in, busy_key="signin.busy")

    def _signed_in(self, _result: object) -> None:
        self.ids.password.text = ""
        self.app.signed_in()
