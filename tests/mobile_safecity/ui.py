"""Driving the real Kivy app headless: Kivy's environment, frames, taps, waits and screenshots.

tests/mobile_safecity/conftest.py configures Kivy's environment before any test module imports kivy.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.mobile_safecity.kivy_env import configure

configure()

from kivy.base import EventLoop  # noqa: E402
from kivy.clock import Clock  # noqa: E402

# The gallery in docs/ is refreshed on request (SMARTCITY_SCREENSHOTS=docs); otherwise screenshots go to a
# temporary folder, so a test run leaves the work tree clean.
GALLERY = (Path(__file__).resolve().parents[2] / "docs" / "safecity-app"
           if os.environ.get("SMARTCITY_SCREENSHOTS") == "docs"
           else Path(tempfile.gettempdir()) / "smartcity-screenshots" / "safecity-app")
PHONE_SIZE = (360, 780)


def start(app: Any) -> Any:
    """Builds the app into the (one, offscreen) window, phone-sized, without running its loop."""
    EventLoop.ensure_window()
    window = EventLoop.window
    window.size = PHONE_SIZE
    for child in list(window.children):
        window.remove_widget(child)
    app._run_prepare()
    pump(3)
    return app


def stop(app: Any) -> None:
    """What the app does when killed politely: stop threads; the window stays for the next app."""
    app.dispatch("on_stop")  # also releases kv's cached `app` for the next instance
    if app.root is not None and app.root.parent is not None:
        app.root.parent.remove_widget(app.root)


def pump(frames: int = 1) -> None:
    """Renders frames (clock callbacks and drawing)."""
    for _ in range(frames):
        EventLoop.idle()


def wait_until(condition: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """Renders frames until condition() is truthy; fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pump()
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what or condition}")


def tap(widget: Any) -> None:
    """Presses and releases a button as a finger would (its on_press/on_release handlers run)."""
    assert not widget.disabled, f"{widget} is disabled"
    widget.dispatch("on_press")
    widget.dispatch("on_release")
    pump(2)


def type_into(field: Any, text: str) -> None:
    """Types into a Field (or a TextInput)."""
    target = field.ids.input if hasattr(field, "ids") and "input" in field.ids else field
    target.text = text
    pump()


def settle(seconds: float = 0.3) -> None:
    """Lets transitions finish."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pump()
        time.sleep(0.01)


def shot(app: Any, name: str) -> Path:
    """Writes docs/safecity-app/<name>.png of the whole app as it is now."""
    settle(0.25)
    GALLERY.mkdir(parents=True, exist_ok=True)
    path = GALLERY / f"{name}.png"
    app.root.export_to_png(str(path))
    return path


def all_texts(widget: Any) -> list[str]:
    """Every text shown under a widget (labels, buttons, inputs), for assertions."""
    found = []
    for child in widget.walk(restrict=True):
        text = getattr(child, "text", None)
        if isinstance(text, str) and text:
            found.append(text)
    return found


def clock() -> Any:
    """Kivy's clock (for tests that schedule)."""
    return Clock
