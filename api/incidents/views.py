"""The photo route: serves an incident's photos only to those who may see the incident."""

from __future__ import annotations

import asyncio
import re

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from api.core.errors import AccessDenied
from api.core.media import media_path
from api.core.state import AppState
from api.incidents import flows, service

_NAME = re.compile(r"^(?P<sha>[0-9a-f]{64})(?P<thumb>\.thumb)?\.jpg$")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)


def _may_see(state: AppState, authorization: str | None, sha256: str) -> bool:
    with state.db.session() as session:
        principal = state.authenticate(authorization, session)
        if principal.is_anonymous:
            raise AccessDenied("Sign in to see photos.", code="UNAUTHENTICATED")
        incident_ids = service.photo_incidents(db_session=session, sha256=sha256)
        return any(flows.may_view(session, principal, i) for i in incident_ids)


def routes(state: AppState) -> list[Route]:
    """GET /media/incidents/<sha256>.jpg and .thumb.jpg, with `Authorization: Bearer`."""

    async def photo(request: Request) -> Response:
        match = _NAME.match(request.path_params["name"])
        if match is None:
            return _error(404, "NOT_FOUND", "No such photo.")
        try:
            allowed = await asyncio.to_thread(_may_see, state, request.headers.get("authorization"), match["sha"])
        except AccessDenied as exc:
            return _error(401 if exc.code == "UNAUTHENTICATED" else 403, exc.code, str(exc))
        path = media_path(state.settings.media_dir, flows.MEDIA_NAMESPACE, match["sha"], thumbnail=bool(match["thumb"]))
        # Not allowed and not there look the same: a stranger learns nothing about which photos exist.
        if not allowed or not path.is_file():
            return _error(404, "NOT_FOUND", "No such photo.")
        return FileResponse(path, media_type="image/jpeg",
                            headers={"cache-control": "private, max-age=3600", "x-content-type-options": "nosniff"})

    return [Route("/media/incidents/{name}", photo, methods=["GET"])]
