"""Phone features behind small interfaces: the screens call these, never Android or a file dialog."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


class Location:
    """Where the phone is."""

    def locate(self, on_fix: Callable[[float, float], None], on_error: Callable[[str], None]) -> None:
        """Calls on_fix(lat, lng) once with a position, or on_error(reason); may return before either."""
        raise NotImplementedError


class PhotoPicker:
    """Photos from the camera or the gallery (Android), or from files (desktop)."""

    can_take_photo = False

    def pick(self, on_selected: Callable[[Sequence[str]], None], *, limit: int, language: str) -> None:
        """Calls on_selected(paths) with up to `limit` image files (an empty list when cancelled)."""
        raise NotImplementedError

    def take_photo(self, on_selected: Callable[[Sequence[str]], None], *, language: str) -> None:
        """Opens the camera; calls on_selected([path]) with the picture taken."""
        on_selected([])


class PhoneCall:
    """Places a phone call (113 police, 114 fire, 115 ambulance)."""

    def call(self, number: str) -> None:
        """Starts the call, or says how to make it where calls are not possible."""
        raise NotImplementedError


class PushToken:
    """The push (FCM) token of this install, for `registerDevice`."""

    platform = "ANDROID"

    def token(self) -> str | None:
        """The token, or None where push is not available."""
        return None


@dataclass
class PlatformServices:
    """The four features the app uses, for one platform."""

    location: Location
    photos: PhotoPicker
    phone: PhoneCall
    push: PushToken
    name: str = "desktop"
    extra: dict[str, object] = field(default_factory=dict)
