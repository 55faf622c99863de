"""File a report: category, description, location, photos. It goes to the outbox, then to the server."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ToggleButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from mobile_common.outbox import OutboxItem
from mobile_safecity.logic.categories import CATEGORIES, emergency_numbers, look
from mobile_safecity.logic.i18n import category_name
from mobile_safecity.logic.state import field_messages
from mobile_safecity.logic.validation import MAX_PHOTOS, ReportForm, check_report, messages, parse_location
from mobile_safecity.screens.base import BaseScreen


class CategoryButton(ToggleButtonBehavior, BoxLayout):
    """A category tile: its icon over its name; one is chosen at a time."""

    code = StringProperty("OTHER")
    icon = StringProperty("")
    name = StringProperty("")
    colour = ListProperty([0.4, 0.4, 0.4, 1])


class ReportScreen(BaseScreen):
    """The report form."""

    category = StringProperty("")
    photos = ListProperty([])
    locating = BooleanProperty(False)
    replacing = ObjectProperty(None, allownone=True)  # the refused outbox item being fixed

    def on_kv_post(self, base_widget: Any) -> None:
        for look_ in CATEGORIES:
            tile = CategoryButton(code=look_.code, icon=look_.icon, colour=list(look_.colour), group="category")
            tile.bind(state=self._tile_changed)
            self.ids.categories.add_widget(tile)
        self.relabel()

    def relabel(self) -> None:
        """Category names and call buttons in the current language."""
        for tile in self.ids.categories.children:
            tile.name = category_name(tile.code, self.app.language)
        self._show_calls()

    def _tile_changed(self, tile: CategoryButton, state: str) -> None:
        if state == "down":
            self.category = tile.code
        elif self.category == tile.code:
            self.category = ""

    def select_category(self, code: str) -> None:
        """Chooses a category as if its tile were tapped."""
        for tile in self.ids.categories.children:
            tile.state = "down" if tile.code == code else "normal"

    def on_category(self, *_args: Any) -> None:
        self._show_calls()
        self.errors = {k: v for k, v in self.errors.items() if k != "category"}

    def _show_calls(self) -> None:
        box = self.ids.calls
        box.clear_widgets()
        for number in emergency_numbers(self.category):
            button = Factory.DangerButton(text=f"☎ {self.t('common.call', number=number)} · "
                                               f"{self.t('service.' + number)}")
            button.font_name = "Icons"
            button.bind(on_release=lambda _b, n=number: self.app.platform.phone.call(n))
            box.add_widget(button)

    # --- location ----------------------------------------------------------------------------------

    def locate(self) -> None:
        """Asks the platform for a position (GPS on a phone)."""
        self.locating = True

        def fix(lat: float, lng: float) -> None:
            Clock.schedule_once(lambda _dt: self._fixed(lat, lng))

        def error(_reason: str) -> None:
            Clock.schedule_once(lambda _dt: self._no_fix())

        self.app.platform.location.locate(fix, error)

    def _fixed(self, lat: float, lng: float) -> None:
        self.locating = False
        self.ids.lat.text, self.ids.lng.text = f"{lat:.6f}", f"{lng:.6f}"

    def _no_fix(self) -> None:
        self.locating = False
        self.errors = {**self.errors, "location": self.t("report.gps_failed")}

    # --- photos ------------------------------------------------------------------------------------

    def choose_photos(self) -> None:
        """Opens the gallery or the file chooser for the photos still allowed."""
        room = MAX_PHOTOS - len(self.photos)
        if room > 0:
            self.app.platform.photos.pick(self.add_photos, limit=room, language=self.app.language)

    def take_photo(self) -> None:
        """Opens the camera (Android)."""
        self.app.platform.photos.take_photo(self.add_photos, language=self.app.language)

    def add_photos(self, paths: Sequence[str]) -> None:
        """Adds chosen photos (at most five in all)."""
        def add(_dt: float) -> None:
            self.photos = (list(self.photos) + [p for p in paths if p not in self.photos])[:MAX_PHOTOS]
        Clock.schedule_once(add)

    def remove_photo(self, path: str) -> None:
        """Takes a photo out of the report."""
        self.photos = [p for p in self.photos if p != path]

    def on_photos(self, *_args: Any) -> None:
        box = self.ids.thumbs
        box.clear_widgets()
        for path in self.photos:
            thumb = Factory.PhotoThumb(source=path)
            thumb.bind(on_release=lambda _t, p=path: self.remove_photo(p))
            box.add_widget(thumb)

    # --- sending -----------------------------------------------------------------------------------

    def form(self) -> ReportForm:
        """What the person entered."""
        return ReportForm(category=self.category or None, description=self.ids.description.text,
                          lat=self.ids.lat.text, lng=self.ids.lng.text, address=self.ids.address.text,
                          photos=tuple(self.photos))

    def submit(self) -> None:
        """Checks the form, writes the report to the outbox (sent from there), shows my reports."""
        form = self.form()
        self.errors = messages(check_report(form), self.app.language)
        if self.errors:
            return
        item = self.app.backend.file_report(
            category=form.category or "OTHER", description=form.description,
            location=parse_location(form.lat, form.lng) if form.lat.strip() else None,
            address=form.address, photos=[Path(p) for p in form.photos])
        if self.replacing is not None:
            self.app.backend.outbox.discard(self.replacing)
        self.reset()
        self.app.outbox_changed(item)
        mine = self.app.screen("my_reports")
        mine.say_t("report.saved")
        self.app.go("my_reports")

    def reset(self) -> None:
        """An empty form."""
        self.select_category("")
        self.category = ""
        for name in ("description", "lat", "lng", "address"):
            self.ids[name].text = ""
        self.photos = []
        self.errors = {}
        self.replacing = None

    def prefill(self, item: OutboxItem) -> None:
        """The form of a refused report, with the server's errors under their fields."""
        self.reset()
        data = item.variables.get("input", {})
        self.select_category(data.get("category", ""))
        self.ids.description.text = data.get("description", "")
        if data.get("location"):
            self.ids.lat.text, self.ids.lng.text = str(data["location"]["lat"]), str(data["location"]["lng"])
        self.ids.address.text = data.get("address", "") or ""
        self.photos = [str(p) for p in item.photos if p.exists()]
        self.errors = {k: v for k, v in field_messages(item.errors).items() if k != "_"}
        self.replacing = item.id

    @staticmethod
    def icon_for(code: str) -> str:
        """The glyph of a category."""
        return look(code).icon
