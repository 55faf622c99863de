"""Android packaging: buildozer.spec and the staging of a build directory."""
