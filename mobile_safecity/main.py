"""The Safe City app: wires the screens, the backend (session, outbox, API) and the platform features.

Blocking work runs on worker threads and comes back through Clock.schedule_once; the outbox sender and
the live subscription run on their own threads and report the same way.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.resources import resource_find
from kivy.uix.screenmanager import ScreenManager, SlideTransition

from mobile_common.outbox import OutboxItem
from mobile_safecity.backend import SafeCityBackend
from mobile_safecity.logic.i18n import tr
from mobile_safecity.platform import services
from mobile_safecity.platform.base import PlatformServices
from mobile_safecity.screens.base import BaseScreen
from mobile_safecity.screens.home import HomeScreen
from mobile_safecity.screens.incident import IncidentScreen
from mobile_safecity.screens.my_reports import MyReportsScreen
from mobile_safecity.screens.rate import RateScreen
from mobile_safecity.screens.register import RegisterScreen
from mobile_safecity.screens.report import ReportScreen
from mobile_safecity.screens.settings import SettingsScreen
from mobile_safecity.screens.signin import SignInScreen
from mobile_safecity.screens.widgets import (
    AlertRow,
    BusyBar,
    Field,
    PhotoThumb,
    ReportRowView,
    StepDot,
    TimelineEntry,
)

SCREENS_DIR = Path(__file__).parent / "screens"
SCREENS: tuple[tuple[str, type[BaseScreen]], ...] = (
    ("signin", SignInScreen), ("register", RegisterScreen), ("home", HomeScreen), ("report", ReportScreen),
    ("my_reports", MyReportsScreen), ("incident", IncidentScreen), ("rate", RateScreen),
    ("settings", SettingsScreen),
)
_loaded_kv: set[str] = set()
WIDGETS = (BusyBar, Field, AlertRow, ReportRowView, TimelineEntry, StepDot, PhotoThumb)  # registered with the Factory by being imported; used from the .kv files


def register_fonts() -> None:
    """Roboto (Kivy's default, with Vietnamese) for text; DejaVu Sans, shipped with Kivy, for the icons."""
    dejavu = resource_find("data/fonts/DejaVuSans.ttf")
    LabelBase.register("Icons", dejavu)


def load_kv() -> None:
    """Loads widgets.kv and one .kv per screen, once per process."""
    for name in ["widgets", *(n for n, _ in SCREENS)]:
        path = str(SCREENS_DIR / f"{name}.kv")
        if path not in _loaded_kv:
            Builder.load_file(path)
            _loaded_kv.add(path)


class SafeCityApp(App):
    """Residents of Phu Quoc report incidents and follow what happens."""

    language = StringProperty("vi")
    signed_in_flag = BooleanProperty(False)
    version = "0.1.0"

    def __init__(self, *, data_dir: Path | None = None, server: str | None = None,
                 platform: PlatformServices | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = "An toàn Phú Quốc · Safe Phu Quoc"
        self._data_dir = data_dir
        self._server = server
        self.platform = platform or services()
        self.backend: SafeCityBackend = None  # type: ignore[assignment]  # made in build()
        self._outbox_trigger = Clock.create_trigger(self._outbox_refresh, 0.1)

    # --- life cycle --------------------------------------------------------------------------------

    def build(self) -> ScreenManager:
        register_fonts()
        load_kv()
        Window.clearcolor = (1, 1, 1, 1)
        data_dir = Path(self._data_dir or os.environ.get("SMARTCITY_APP_DATA") or self.user_data_dir)
        self.backend = SafeCityBackend(data_dir, server=self._server,
                                       on_outbox_change=lambda _item: self._outbox_trigger())
        self.language = self.backend.language
        self.signed_in_flag = self.backend.signed_in
        manager = ScreenManager(transition=SlideTransition(duration=0.15))
        for name, cls in SCREENS:
            manager.add_widget(cls(name=name))
        manager.current = "home" if self.backend.signed_in else "signin"
        self.backend.sender.start()
        return manager

    def on_pause(self) -> bool:
        return True  # Android: keep the app (and its outbox) alive in the background

    def on_resume(self) -> None:
        self.backend.sender.kick()

    def on_stop(self) -> None:
        if self.backend is not None:
            self.backend.close()

    # --- helpers for screens and kv ----------------------------------------------------------------

    def tr(self, key: str, language: str | None = None, **values: Any) -> str:
        """A sentence; kv passes app.language so texts follow a language change."""
        return tr(key, language or self.language, **values)

    def screen(self, name: str) -> Any:
        """A screen by name."""
        return self.root.get_screen(name)

    def go(self, name: str, direction: str = "left") -> None:
        """Shows a screen."""
        self.root.transition.direction = direction
        self.root.current = name

    def run_async(self, work: Callable[[], Any], done: Callable[[Any], None],
                  failed: Callable[[BaseException], None]) -> None:
        """Runs blocking work on a thread; done/failed run on the UI thread."""
        def target() -> None:
            try:
                result = work()
            except Exception as exc:
                Clock.schedule_once(lambda _dt, error=exc: failed(error))
            else:
                Clock.schedule_once(lambda _dt: done(result))

        threading.Thread(target=target, daemon=True).start()

    # --- navigation and session --------------------------------------------------------------------

    def start_report(self) -> None:
        """An empty report form."""
        report = self.screen("report")
        if report.replacing is None:
            report.reset()
        self.go("report")

    def open_incident(self, incident_id: str, direction: str = "left") -> None:
        """An incident's detail."""
        self.screen("incident").show_incident(incident_id)
        self.go("incident", direction=direction)

    def signed_in(self) -> None:
        """After signing in: home, and push registration where there is push."""
        self.signed_in_flag = True
        self.go("home")
        push = self.platform.push

        def register() -> None:
            token = push.token()  # may block on Android: never on the UI thread
            if token:
                self.backend.register_push(token, push.platform)

        self.run_async(register, lambda _r: None, lambda _e: None)

    def signed_out(self, quiet: bool = False) -> None:
        """The session ended (or was never there): back to sign in."""
        self.backend.tokens.clear()
        self.signed_in_flag = False
        if not quiet:
            self.screen("signin").say_t("common.signed_out", error=True)
        self.go("signin", direction="right")

    def set_language(self, language: str) -> None:
        """Switches the app's language (and the language of the server's messages)."""
        self.backend.set_language(language)
        self.language = language
        for name, _cls in SCREENS:
            self.screen(name).language_changed()

    def outbox_changed(self, _item: OutboxItem | None = None) -> None:
        """Refreshes what shows the outbox (merged: several changes, one redraw)."""
        self._outbox_trigger()

    def _outbox_refresh(self, _dt: float) -> None:
        current = self.root.current if self.root else None
        if current == "my_reports":
            mine = self.screen("my_reports")
            mine.show()
            mine.run(self.backend.my_incidents, mine._loaded, quiet=True)
        elif current == "home":
            from mobile_common.outbox import ItemState

            self.screen("home").waiting = len(self.backend.outbox.items(ItemState.PENDING))


def main() -> None:
    """Runs the app on a desktop window shaped like a phone."""
    SafeCityApp().run()
