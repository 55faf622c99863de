"""Desktop versions: a fixed or typed position, a file chooser for photos, calls that cannot be placed.

These are what the demo and the UI tests use; Kivy is imported only when a dialog is opened.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mobile_safecity.logic.i18n import tr
from mobile_safecity.platform.base import Location, PhoneCall, PhotoPicker, PlatformServices, PushToken

log = logging.getLogger("mobile_safecity.platform")

IMAGE_PATTERNS = ["*.jpg", "*.jpeg", "*.png", "*.webp", "*.JPG", "*.JPEG", "*.PNG"]


class DesktopLocation(Location):
    """A desktop has no GPS: SMARTCITY_APP_LOCATION="lat,lng" stands in for one, else the person types it."""

    def __init__(self, fixed: tuple[float, float] | None = None) -> None:
        if fixed is None and os.environ.get("SMARTCITY_APP_LOCATION"):
            lat, _, lng = os.environ["SMARTCITY_APP_LOCATION"].partition(",")
            fixed = (float(lat), float(lng))
        self.fixed = fixed

    def locate(self, on_fix: Callable[[float, float], None], on_error: Callable[[str], None]) -> None:
        """The configured position, or an error asking for it by hand."""
        if self.fixed is None:
            on_error("no GPS on this computer")
        else:
            on_fix(*self.fixed)


class FileChooserPicker(PhotoPicker):
    """A Kivy file chooser in a popup, image files only."""

    def __init__(self, start_dir: str | None = None) -> None:
        self.start_dir = start_dir or str(Path.home())
        self.popup: Any = None  # the open dialog (tests press its buttons)

    def pick(self, on_selected: Callable[[Sequence[str]], None], *, limit: int, language: str) -> None:
        """Opens the chooser; multiple selection up to `limit`."""
        from kivy.metrics import dp
        from kivy.uix.boxlayout import BoxLayout
        from kivy.uix.button import Button
        from kivy.uix.filechooser import FileChooserListView
        from kivy.uix.popup import Popup

        chooser = FileChooserListView(path=self.start_dir, filters=IMAGE_PATTERNS, multiselect=limit > 1)
        buttons = BoxLayout(size_hint_y=None, height=dp(52), spacing=dp(8))
        cancel = Button(text=tr("report.cancel", language))
        choose = Button(text=tr("report.ok", language))
        buttons.add_widget(cancel)
        buttons.add_widget(choose)
        body = BoxLayout(orientation="vertical", spacing=dp(8))
        body.add_widget(chooser)
        body.add_widget(buttons)
        popup = Popup(title=tr("report.choose_file", language), content=body, size_hint=(0.95, 0.9))

        def finish(paths: Sequence[str]) -> None:
            popup.dismiss()
            self.popup = None
            on_selected([p for p in paths if Path(p).is_file()][:limit])

        cancel.bind(on_release=lambda *_: finish([]))
        choose.bind(on_release=lambda *_: finish(list(chooser.selection)))
        popup.chooser, popup.choose_button, popup.cancel_button = chooser, choose, cancel
        self.popup = popup
        popup.open()


class DesktopPhoneCall(PhoneCall):
    """Remembers the number and logs it: a computer cannot call 113."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def call(self, number: str) -> None:
        """Records the call; the screen shows the number in large type to dial from a phone."""
        self.calls.append(number)
        log.warning("call %s from a phone: this computer cannot place calls", number)


def services(location: tuple[float, float] | None = None, start_dir: str | None = None) -> PlatformServices:
    """The desktop features."""
    return PlatformServices(location=DesktopLocation(location), photos=FileChooserPicker(start_dir),
                            phone=DesktopPhoneCall(), push=PushToken(), name="desktop")
