"""Uploaded photos: type sniffed from the bytes, size and pixel caps, GPS read, re-encoded without metadata,
a thumbnail, content-addressed storage under Settings.media_dir. Any domain that takes photos uses this."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 2048
THUMB_SIDE = 320
JPEG_QUALITY = 85
# Pillow's own guard, process-wide; each call also checks its own (usually lower) cap before decoding.
Image.MAX_IMAGE_PIXELS = 50_000_000
_SHA = re.compile(r"^[0-9a-f]{64}$")


class ImageRejected(Exception):
    """An upload that is not an acceptable photo; `code` is stable, messages are for the user."""

    def __init__(self, code: str, message: str, message_vi: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_vi = message_vi


@dataclass(frozen=True)
class PreparedImage:
    """A photo ready to store: the re-encoded JPEG, its thumbnail, and what was read from the original."""

    sha256: str
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    source_type: str
    gps: tuple[float, float] | None


def sniff(data: bytes) -> str | None:
    """'jpeg', 'png' or 'webp' from the magic bytes; None for anything else (whatever the file name)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _ratio(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        numerator, denominator = value  # type: ignore[misc]
        return float(numerator) / float(denominator)  # type: ignore[has-type]


def read_gps(image: Image.Image) -> tuple[float, float] | None:
    """(lat, lng) from EXIF GPS tags, or None."""
    try:
        gps = image.getexif().get_ifd(0x8825)
        if not gps or 2 not in gps or 4 not in gps:
            return None
        lat = sum(_ratio(v) / 60**i for i, v in enumerate(gps[2]))
        lng = sum(_ratio(v) / 60**i for i, v in enumerate(gps[4]))
        if str(gps.get(1, "N")).upper().startswith("S"):
            lat = -lat
        if str(gps.get(3, "E")).upper().startswith("W"):
            lng = -lng
    except Exception:  # malformed EXIF is common and never fatal: the pin just is not placed
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0):
        return None
    return round(lat, 7), round(lng, 7)


def prepare_image(data: bytes, *, max_bytes: int, max_pixels: int) -> PreparedImage:
    """Checks and re-encodes one upload; raises ImageRejected with a clear reason."""
    if not data:
        raise ImageRejected("PHOTO_EMPTY", "The file is empty.", "Tệp ảnh rỗng.")
    if len(data) > max_bytes:
        raise ImageRejected("PHOTO_TOO_LARGE", f"A photo may be at most {max_bytes // (1024 * 1024)} MB.",
                            f"Ảnh tối đa {max_bytes // (1024 * 1024)} MB.")
    kind = sniff(data)
    if kind is None:
        raise ImageRejected("PHOTO_TYPE_NOT_ALLOWED", "Only JPEG, PNG or WebP photos are accepted.",
                            "Chỉ nhận ảnh JPEG, PNG hoặc WebP.")
    too_many = ImageRejected("PHOTO_TOO_MANY_PIXELS",
                             f"The image has too many pixels (at most {max_pixels // 1_000_000} megapixels).",
                             f"Ảnh có quá nhiều điểm ảnh (tối đa {max_pixels // 1_000_000} megapixel).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            if image.format is None or image.format.lower() != kind:
                raise ImageRejected("PHOTO_TYPE_NOT_ALLOWED", "The file's content does not match a photo.",
                                    "Nội dung tệp không phải ảnh hợp lệ.")
            width, height = image.size
            if width * height > max_pixels or width <= 0 or height <= 0:
                raise too_many
            gps = read_gps(image)
            image.load()
            image = ImageOps.exif_transpose(image)  # type: ignore[assignment]  # an Image, no longer a file
            if image.mode not in ("RGB", "L"):
                background = Image.new("RGB", image.size, (255, 255, 255))
                rgba = image.convert("RGBA")
                background.paste(rgba, mask=rgba.getchannel("A"))
                image = background  # type: ignore[assignment]
            image = image.convert("RGB")  # type: ignore[assignment]
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            jpeg = _encode(image)
            thumb = image.copy()
            thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
            thumbnail = _encode(thumb)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise ImageRejected("PHOTO_UNREADABLE", "The photo could not be read; it may be damaged.",
                            "Không đọc được ảnh; tệp có thể bị hỏng.") from None
    return PreparedImage(sha256=hashlib.sha256(jpeg).hexdigest(), jpeg=jpeg, thumbnail=thumbnail,
                         width=image.width, height=image.height, source_type=kind, gps=gps)


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # No exif/icc arguments: nothing of the original's metadata is written.
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def media_path(media_dir: Path, namespace: str, sha256: str, *, thumbnail: bool = False) -> Path:
    """Where a content-addressed image lives: <media>/<namespace>/ab/cd/<sha>[.thumb].jpg."""
    if not _SHA.match(sha256) or not namespace.isidentifier():
        raise ValueError("not a media key")
    suffix = ".thumb.jpg" if thumbnail else ".jpg"
    return media_dir / namespace / sha256[:2] / sha256[2:4] / f"{sha256}{suffix}"


def store_image(media_dir: Path, namespace: str, image: PreparedImage) -> Path:
    """Writes an image and its thumbnail (atomically; a second copy of the same content is a no-op)."""
    path = media_path(media_dir, namespace, image.sha256)
    for target, data in ((path, image.jpeg), (media_path(media_dir, namespace, image.sha256, thumbnail=True),
                                              image.thumbnail)):
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path
