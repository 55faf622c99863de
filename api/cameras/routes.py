"""Evidence downloads: `/media/evidence/{event id}/{kind}` for watchers with a valid bearer token; the file
is checked against its recorded SHA-256 before it is sent."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from api.cameras import rules, service
from api.core.errors import AccessDenied
from api.core.state import AppState

MEDIA_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".avi": "video/x-msvideo",
               ".mp4": "video/mp4"}


def evidence_path(media_dir: Path, stored: str) -> Path | None:
    """The file a stored evidence path names, or None when it would leave the media directory."""
    root = media_dir.resolve()
    path = (root / stored).resolve()
    return path if path.is_relative_to(root) else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                        headers={"Cache-Control": "no-store"})


def _lookup(state: AppState, authorization: str | None, event_id: int, kind: str) -> tuple[Any, dict | None]:
    with state.db.session() as session:
        principal = state.authenticate(authorization, session)
        if not rules.is_watcher(principal):
            return principal, None
        row = service.get_event(db_session=session, event_id=event_id)
        item = next((i for i in (row.evidence if row else []) if i.get("kind") == kind), None)
        return principal, item


def routes(state: AppState) -> list[Route]:
    """The cameras domain's HTTP routes."""

    async def evidence(request: Request) -> Response:
        authorization = request.headers.get("authorization")
        if not authorization:
            return _error(401, "UNAUTHENTICATED", "Send Authorization: Bearer <access token>.")
        event_id = request.path_params["event_id"]
        try:
            principal, item = await asyncio.to_thread(_lookup, state, authorization, event_id,
                                                      request.path_params["kind"])
        except AccessDenied as exc:
            return _error(401, exc.code, str(exc))
        if not rules.is_watcher(principal):
            return _error(403, "FORBIDDEN", "Evidence is for police, dispatchers and admins.")
        path = evidence_path(state.settings.media_dir, item["path"]) if item is not None else None
        if item is None or path is None or not path.is_file():
            return _error(404, "NOT_FOUND", "No such evidence file.")
        if await asyncio.to_thread(_sha256, path) != item["sha256"]:
            # Tamper-evident: a file that no longer matches its hash is never served as evidence.
            return _error(409, "EVIDENCE_ALTERED", "The file does not match its recorded SHA-256.")
        return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream"),
                            headers={"X-Evidence-SHA256": item["sha256"], "Cache-Control": "private, no-store"})

    return [Route("/media/evidence/{event_id:int}/{kind:str}", evidence, methods=["GET"])]
