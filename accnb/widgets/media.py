"""Image bytes as a browser gets them: their MIME type, a PNG when the browser can't show
the format, a small version for tables and static HTML."""

from __future__ import annotations

import base64
from io import BytesIO

from PIL import Image, ImageOps

# Magic bytes of the formats every browser shows as they are.
_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)


def image_type(data: bytes | None) -> str | None:
    """The MIME type of image bytes a browser shows as they are, else None."""
    if not data:
        return None
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def is_image(data: bytes | None) -> bool:
    """Whether Pillow recognises `data` as an image (without decoding its pixels)."""
    if image_type(data):
        return True
    if not data:
        return False
    try:
        Image.open(BytesIO(data))
    except Exception:  # noqa: BLE001 - Pillow raises many kinds on what is not an image
        return False
    return True


def for_browser(data: bytes | None) -> tuple[bytes | None, str]:
    """(bytes, MIME type) a browser can show: as they are, or converted to PNG (TIFF, ...).

    (None, "") when `data` is missing or not a decodable image.
    """
    mime = image_type(data)
    if mime:
        return data, mime
    if not data:
        return None, ""
    try:
        with Image.open(BytesIO(data)) as im:
            return _encode(ImageOps.exif_transpose(im), "PNG"), "image/png"
    except Exception:  # noqa: BLE001 - a damaged or unknown image shows as missing
        return None, ""


def small(data: bytes | None, edge: int, max_bytes: int = 32 << 10) -> tuple[bytes | None, str]:
    """(bytes, MIME type) of a version of an image at most `edge` pixels on its longer side.

    Images already within `max_bytes` that the browser shows go as they are (a thumbnail
    column); bigger ones are decoded (JPEGs at a reduced scale) and shrunk.
    """
    mime = image_type(data)
    if mime and len(data) <= max_bytes:
        return data, mime
    if not data:
        return None, ""
    try:
        with Image.open(BytesIO(data)) as im:
            im.draft("RGB", (edge, edge))
            im = ImageOps.exif_transpose(im)
            im.thumbnail((edge, edge))
            if im.mode in ("RGBA", "LA", "P", "PA"):
                return _encode(im.convert("RGBA"), "PNG"), "image/png"
            return _encode(im.convert("RGB"), "JPEG", quality=80), "image/jpeg"
    except Exception:  # noqa: BLE001 - a damaged or unknown image shows as missing
        return None, ""


def data_url(data: bytes, mime: str) -> str:
    """For static HTML only (nbconvert, viewers); live widgets send bytes."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _encode(im: Image.Image, fmt: str, **kw: int) -> bytes:
    out = BytesIO()
    im.save(out, fmt, **kw)
    return out.getvalue()
