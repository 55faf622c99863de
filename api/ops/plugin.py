"""The operations-centre console: static ES modules served at /ops, talking to /graphql like any client."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from api.config import Settings
from api.core.plugin import DomainPlugin
from api.core.state import AppState

STATIC = Path(__file__).resolve().parent / "static"


def content_security_policy(settings: Settings) -> str:
    """Only this origin, plus the tile server's when one is configured; no inline script, no framing."""
    images = "'self' data: blob:"
    if settings.ops_tile_url:
        parts = urlsplit(settings.ops_tile_url.replace("{", "").replace("}", ""))
        if parts.scheme in ("http", "https") and parts.netloc:
            images += f" {parts.scheme}://{parts.netloc}"
    return (f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; connect-src 'self'; "
            "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def console_config(settings: Settings) -> dict[str, object]:
    """What the page needs to know about this deployment (nothing secret)."""
    return {
        "tileUrl": settings.ops_tile_url,
        "defaultLanguage": "vi",
        "deadlinesMinutes": settings.incident_deadlines_minutes,
        "duplicateRadiusMeters": settings.incident_duplicate_radius_m,
        "environment": settings.environment,
    }


def routes(state: AppState) -> list[Route | Mount]:
    """GET /ops and /ops/wall (the page), /ops/config.json, /ops/static/* (modules, styles, the outline)."""
    settings = state.settings
    headers = {
        "content-security-policy": content_security_policy(settings),
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cache-control": "no-cache",
    }

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8", headers=headers)

    async def config(request: Request) -> Response:
        return JSONResponse(console_config(settings), headers={"cache-control": "no-cache"})

    return [
        Route("/ops", page, methods=["GET"]),
        Route("/ops/", page, methods=["GET"]),
        Route("/ops/wall", page, methods=["GET"]),
        Route("/ops/config.json", config, methods=["GET"]),
        Mount("/ops/static", app=StaticFiles(directory=STATIC), name="ops-static"),
    ]


plugin = DomainPlugin(name="ops", routes=routes)
