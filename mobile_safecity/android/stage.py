"""Stages an Android build directory: main.py, buildozer.spec, and the two packages the app needs.

Buildozer packages one directory whose main.py is the entry point; the app lives in two packages of this
repository (mobile_common and mobile_safecity), so they are copied next to a three-line main.py.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAIN = '''import os
os.environ.setdefault("KIVY_NO_ARGS", "1")
from mobile_safecity.main import main
main()
'''


def stage(target: Path) -> Path:
    """Copies what the build needs into `target` and returns it."""
    target.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "android")
    for package in ("mobile_common", "mobile_safecity"):
        shutil.rmtree(target / package, ignore_errors=True)
        shutil.copytree(ROOT / package, target / package, ignore=ignore)
    here = Path(__file__).parent
    shutil.copy(here / "buildozer.spec", target / "buildozer.spec")
    shutil.copytree(here / "res", target / "res", dirs_exist_ok=True)
    (target / "main.py").write_text(MAIN, encoding="utf-8")
    return target


if __name__ == "__main__":
    print(stage(Path(sys.argv[1] if len(sys.argv) > 1 else "build/safecity-android")))
