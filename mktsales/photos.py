"""Photos people attach from a phone (issue 5): checked, then stored as one small, safe JPEG.

A photo is accepted only when its first bytes say JPEG, PNG or WebP *and* Pillow can verify and
decode it as that format, so a renamed text file or a truncated upload is refused with a message
key the UI translates. What is stored is never the upload itself: the decoded picture is turned
upright (EXIF orientation), scaled to at most ``MAX_SIDE`` pixels on its longest side and encoded
again as a JPEG. That keeps rows small and drops the upload's metadata (a phone's GPS position).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps

MAX_PHOTO_BYTES = 5 * 1024 * 1024  # per upload, as received
MAX_SIDE = 1600  # pixels on the longest side of the stored picture
JPEG_QUALITY = 82
# Decoded size refused as unreadable, read from the header before any pixel is decoded: a small
# file can hold a huge, mostly empty picture (a "decompression bomb": a 381 KB 7000×7000 16-bit PNG).
# A JPEG is decoded at a reduced scale first, so these bound PNG and WebP (issue 23: was 50 MP).
MAX_PIXELS = 24_000_000
MAX_DECODED_BYTES = 64 * 1024 * 1024  # pixels × bytes per pixel: 16-bit, RGBA pictures hold more
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "LA": 2, "PA": 2, "RGB": 3, "YCbCr": 3}  # else 4 (I;16: 2)
_SHRINK_FIRST = ("1", "P", "PA")  # resized only by nearest pixel: converted to RGB before shrinking
STORED_MIME = "image/jpeg"
MAX_NAME = 200  # characters of the original file name kept


@dataclass(frozen=True)
class Photo:
    """One uploaded or camera picture, as the UI hands it in."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Prepared:
    """A photo ready to store: always a JPEG at most MAX_SIDE pixels on its longest side."""

    mime: str
    width: int
    height: int
    data: bytes


class PhotoRejected(ValueError):
    """A photo refused: ``key`` is the message key, ``values`` fill it (name, mb, max_mb)."""

    def __init__(self, key: str, values: dict[str, Any]) -> None:
        super().__init__(f"{key}: {values}")
        self.key = key
        self.values = values


def sniff(data: bytes) -> str | None:
    """The format named by the first bytes of ``data``: "JPEG", "PNG", "WEBP" or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def display_name(photo: Photo) -> str:
    """The file name shown in messages and stored: without any folder, at most MAX_NAME characters."""
    name = (photo.name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return (name or "photo")[:MAX_NAME]


def megabytes(size: int) -> float:
    """A byte count in MB (MiB) with one decimal, as messages show it."""
    return round(size / (1024 * 1024), 1)


class _TooLarge(ValueError):
    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"{width}x{height}")
        self.size = {"width": width, "height": height}


def _decode(data: bytes, kind: str) -> Image.Image:
    """Verify and decode ``data`` as ``kind``; any failure raises (the caller refuses the photo)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data), formats=[kind]) as checked:
            checked.verify()  # structure and checksums; the image is unusable afterwards
        image = Image.open(io.BytesIO(data), formats=[kind])
        if kind == "JPEG":  # decode at 1/2, 1/4 or 1/8 scale when that still leaves MAX_SIDE
            scale = max(image.size) / MAX_SIDE
            if scale > 1:
                image.draft("RGB", (int(image.size[0] / scale), int(image.size[1] / scale)))
        pixels = image.size[0] * image.size[1]
        if pixels > MAX_PIXELS or pixels * _bytes_per_pixel(image.mode) > MAX_DECODED_BYTES:
            raise _TooLarge(*image.size)
        image.load()
    return image


def _bytes_per_pixel(mode: str) -> int:
    return 2 if mode.startswith("I;16") else _BYTES_PER_PIXEL.get(mode, 4)


def _rgb(image: Image.Image) -> Image.Image:
    """The picture as RGB, transparent parts on white (JPEG has no transparency)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I;16") or image.mode == "I":
        return image.point(lambda v: v / 256).convert("L").convert("RGB")
    return image.convert("RGB")


def prepare(photo: Photo) -> Prepared:
    """Check one photo and re-encode it for storage; PhotoRejected says why it was refused.

    Refused: over MAX_PHOTO_BYTES (board.error.photo_size), not JPEG/PNG/WebP by its first bytes
    (board.error.photo_type), more pixels or decoded bytes than MAX_PIXELS or MAX_DECODED_BYTES
    (board.error.photo_pixels), or not decodable as what it claims (board.error.photo_unreadable).
    """
    data = bytes(photo.data or b"")
    values = {"name": display_name(photo), "mb": megabytes(len(data)), "max_mb": megabytes(MAX_PHOTO_BYTES)}
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRejected("board.error.photo_size", values)
    kind = sniff(data)
    if kind is None:
        raise PhotoRejected("board.error.photo_type", values)
    try:
        image = _decode(data, kind)
        if image.mode not in _SHRINK_FIRST:  # shrink before the copies that turn and convert it
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        upright = ImageOps.exif_transpose(image) or image
        picture = _rgb(upright)
        picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    except (
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        if isinstance(exc, _TooLarge):
            limit = {**values, **exc.size, "max_mp": MAX_PIXELS // 1_000_000}
            raise PhotoRejected("board.error.photo_pixels", limit) from exc
        raise PhotoRejected("board.error.photo_unreadable", values) from exc
    return Prepared(STORED_MIME, picture.width, picture.height, out.getvalue())
