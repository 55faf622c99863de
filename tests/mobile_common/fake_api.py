"""A tiny stand-in for the API's reportIncident, to script failures the real server would not make on
demand: 503s, answers lost after the work was done, validation errors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class FakeReportApi:
    """Answers per the script ("ok", "503", "lost", "invalid"); "ok" once the script runs out."""

    script: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    incidents: dict[str, str] = field(default_factory=dict)  # idempotency key -> incident id

    def app(self) -> Starlette:
        """The ASGI app."""
        return Starlette(routes=[Route("/graphql", self.graphql, methods=["POST"])])

    async def graphql(self, request: Request) -> JSONResponse:
        form_files = 0
        if request.headers.get("content-type", "").startswith("multipart/"):
            form = await request.form()
            operations = json.loads(str(form["operations"]))
            form_files = sum(1 for key in form if key not in ("operations", "map"))
        else:
            operations = await request.json()
        data = operations["variables"]["input"]
        key = data["idempotencyKey"]
        self.requests.append({"key": key, "files": form_files, "category": data.get("category"),
                              "language": request.headers.get("accept-language")})
        step = self.script.pop(0) if self.script else "ok"
        if step == "503":
            return JSONResponse({"errors": [{"message": "busy"}]}, status_code=503)
        if step == "invalid":
            return JSONResponse({"data": {"reportIncident": {"incident": None, "attachedToExisting": False, "errors": [
                {"field": "location", "code": "LOCATION_REQUIRED", "message": "Cần vị trí, hoặc ảnh có thông tin GPS."}]}}})
        incident_id = self.incidents.setdefault(key, f"SW5jaWRlbnQ6{len(self.incidents) + 1}")
        if step == "lost":  # done, but the answer never reaches the phone
            return JSONResponse({"errors": [{"message": "gateway timeout"}]}, status_code=504)
        return JSONResponse({"data": {"reportIncident": {
            "incident": {"id": incident_id, "category": data.get("category"), "state": "REPORTED",
                         "description": data.get("description", ""), "reportedAt": "2026-11-25T10:00:00+00:00",
                         "reportCount": 1, "rating": None},
            "attachedToExisting": False, "errors": []}}})
