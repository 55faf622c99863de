"""`python -m mobile_safecity`: the app in a phone-shaped desktop window (server: SMARTCITY_APP_SERVER)."""

import os

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kivy.config import Config  # noqa: E402  (Kivy reads its config before the window exists)

Config.set("graphics", "width", os.environ.get("SMARTCITY_APP_WIDTH", "400"))
Config.set("graphics", "height", os.environ.get("SMARTCITY_APP_HEIGHT", "820"))
Config.set("input", "mouse", "mouse,disable_multitouch")

from mobile_safecity.main import main  # noqa: E402

main()
