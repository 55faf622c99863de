"""Kivy's environment for headless tests, set before anything imports kivy (no kivy import here)."""

from __future__ import annotations

import os
import tempfile


def configure() -> None:
    """Offscreen SDL2 window (Mesa renders real frames), no argv parsing, Python logging left alone."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")
    os.environ.setdefault("KIVY_METRICS_DENSITY", "1")
    if "KIVY_HOME" not in os.environ:
        os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="kivy-home-")
