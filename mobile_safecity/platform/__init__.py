"""Platform features: `services()` gives the Android versions on a phone and the desktop ones elsewhere."""

from __future__ import annotations

import os

from mobile_safecity.platform.base import PlatformServices


def on_android() -> bool:
    """Whether the app runs under python-for-android."""
    return "ANDROID_ARGUMENT" in os.environ or "ANDROID_PRIVATE" in os.environ


def services() -> PlatformServices:
    """The platform's features; Android modules (pyjnius) are imported only on Android."""
    if on_android():
        from mobile_safecity.platform import android

        return android.services()
    from mobile_safecity.platform import desktop

    return desktop.services()
