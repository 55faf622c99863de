"""Safe City app tests: the real API on loopback (fixtures shared with tests/mobile_common)."""

from __future__ import annotations

from tests.mobile_safecity.kivy_env import configure

configure()  # before any test module imports kivy

from tests.mobile_common.conftest import api_database, api_settings, live_api  # noqa: E402

__all__ = ["api_database", "api_settings", "live_api"]
