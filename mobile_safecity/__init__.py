"""Safe City app (An toàn Phú Quốc): residents report incidents from their phones and follow them.

Kivy screens in `screens/` (one .py and one .kv each), logic without Kivy in `logic/`, phone features in
`platform/`, the API and outbox wiring in `backend.py`. Run on a desktop: `nox -s app`.
"""
