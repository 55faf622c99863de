"""Create a citizen account: the id number is checked here, with the server's rules, before sending."""

from __future__ import annotations

from mobile_safecity.logic.validation import Registration, check_registration, messages
from mobile_safecity.screens.base import BaseScreen


class RegisterScreen(BaseScreen):
    """The registration form."""

    def form(self) -> Registration:
        """What the person typed."""
        ids = self.ids
        sex = "MALE" if ids.male.state == "down" else "FEMALE" if ids.female.state == "down" else ""
        return Registration(national_id=ids.national_id.text, full_name=ids.full_name.text,
                            date_of_birth=ids.date_of_birth.text, sex=sex, phone=ids.phone.text,
                            password=ids.password.text, email=ids.email.text)

    def submit(self) -> None:
        """Checks, then registers; the server's objections land under their fields too."""
        form = self.form()
        self.errors = messages(check_registration(form), self.app.language)
        if self.errors:
            return
        self.run(lambda: self.app.backend.register(form), self._registered, busy_key="register.busy")

    def _registered(self, _account: object) -> None:
        signin = self.app.screen("signin")
        signin.ids.username.text = "".join(self.ids.national_id.text.split())
        signin.say_t("register.done")
        self.app.go("signin", direction="right")
