"""What every screen shares: a busy flag with its progress text, field errors, a notice line, and
`run()` to do blocking work off the UI thread with the outcome shown on it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, DictProperty, StringProperty
from kivy.uix.screenmanager import Screen

from mobile_common.errors import AuthError, GraphQLError, NetworkError
from mobile_safecity.backend import PayloadErrors
from mobile_safecity.logic.i18n import tr
from mobile_safecity.logic.state import field_messages

log = logging.getLogger("mobile_safecity.ui")


class BaseScreen(Screen):
    """A screen of the app."""

    busy = BooleanProperty(False)
    busy_text = StringProperty("")
    errors = DictProperty({})
    notice = StringProperty("")
    notice_is_error = BooleanProperty(False)

    @property
    def app(self) -> Any:
        """The running SafeCityApp."""
        return App.get_running_app()

    def t(self, key: str, **values: Any) -> str:
        """A sentence in the current language."""
        return tr(key, self.app.language, **values)

    def say(self, text: str, *, error: bool = False) -> None:
        """Shows a one-line outcome under the screen's main button (a server's sentence, as it came)."""
        self.notice, self.notice_is_error = text, error
        self._notice_key: tuple[str, dict[str, Any]] | None = None

    def say_t(self, key: str, *, error: bool = False, **values: Any) -> None:
        """Shows one of the app's sentences; it follows a change of language."""
        self.say(self.t(key, **values), error=error)
        self._notice_key = (key, values)

    def language_changed(self) -> None:
        """Re-renders what Python (not kv) wrote in the old language; the server's sentences are dropped."""
        self.errors = {}
        key = getattr(self, "_notice_key", None)
        if key is not None:
            self.say_t(key[0], error=self.notice_is_error, **key[1])
        else:
            self.notice = ""
        self.relabel()

    def relabel(self) -> None:
        """Rewrites texts made in Python (kv texts follow app.language by themselves)."""

    def run(self, work: Callable[[], Any], done: Callable[[Any], None], *, busy_key: str = "mine.loading",
            quiet: bool = False) -> None:
        """Runs `work()` on a worker thread, then `done(result)` on the UI thread; errors shown here."""
        if not quiet:
            self.busy, self.busy_text = True, self.t(busy_key)
            self.notice = ""

        def finished(result: Any) -> None:
            self.busy = False
            done(result)

        self.app.run_async(work, finished, self.failed)

    def failed(self, exc: BaseException) -> None:
        """Shows what went wrong in the person's language, next to the field where there is one."""
        self.busy = False
        if isinstance(exc, PayloadErrors):
            messages = field_messages(exc.errors)
            self.errors = {k: v for k, v in messages.items() if k != "_"}
            general = messages.get("_")
            if general:
                self.say(general, error=True)
        elif isinstance(exc, NetworkError):
            self.say_t("common.network", error=True)
        elif isinstance(exc, AuthError):
            self.app.signed_out()
        elif isinstance(exc, GraphQLError):
            self.say(self.t("common.error", message=exc.message), error=True)
        else:
            log.error("unexpected error", exc_info=exc)
            self.say(self.t("common.error", message=type(exc).__name__), error=True)

    def refresh(self) -> None:
        """Reloads what the screen shows (called when it is entered and when the language changes)."""
