"""Images a venue uploads (event pictures, its logo), made into a few widths.

Plain Python with Pillow, imported only when an image is made (docs/decisions.md,
"Cold start"). A variant is stored under a name derived from the upload's
content, so the same upload sent twice writes the same files.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from chalicelib.errors import InvalidInput

MAX_IMAGE_BYTES = 4 * 1024 * 1024  # a Lambda request carries at most 6 MB, base64 included
MAX_IMAGE_PIXELS = 40_000_000  # refuse decompression bombs before decoding
MIN_IMAGE_SIDE = 64
UPLOAD_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/jpg": "JPEG"}

# Event pictures: WebP (a third of a JPEG's bytes) in widths for srcset.
# Logos: PNG, kept sharp and transparent, in widths a page and a ticket print need.
PURPOSES = {
    "event": {"widths": (400, 800, 1200), "format": "webp", "content_type": "image/webp"},
    "logo": {"widths": (160, 480), "format": "png", "content_type": "image/png"},
}


@dataclass(frozen=True)
class Variant:
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class MadeImage:
    digest: str
    format: str
    content_type: str
    variants: list[Variant]


def make_variants(data: bytes, content_type: str, purpose: str) -> MadeImage:
    """Check an upload and resize it to the purpose's widths (never enlarged:
    a width the original does not reach is left out, the original's own
    width is kept instead)."""
    if purpose not in PURPOSES:
        raise InvalidInput(f"purpose must be one of {', '.join(PURPOSES)}.", errors=[
            {"field": "purpose", "message": "unknown purpose", "code": "unknown_image_purpose"}])
    declared = UPLOAD_TYPES.get((content_type or "").split(";")[0].strip().lower())
    if declared is None:
        raise InvalidInput("Send a PNG or JPEG image (Content-Type image/png or image/jpeg).",
                           errors=[{"field": "(body)", "message": "not a PNG or JPEG", "code": "image_type"}])
    if not data:
        raise InvalidInput("The image is empty.", errors=[{"field": "(body)", "message": "empty", "code": "image_empty"}])
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput(f"The image is {len(data)} bytes; at most {MAX_IMAGE_BYTES} bytes are accepted.",
                           errors=[{"field": "(body)", "message": "too large", "code": "image_too_large"}])

    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            found = probe.format
            if width * height > MAX_IMAGE_PIXELS:
                raise InvalidInput(f"The image has {width}x{height} pixels; at most {MAX_IMAGE_PIXELS} are accepted.",
                                   errors=[{"field": "(body)", "message": "too many pixels", "code": "image_too_large"}])
            if found != declared:
                raise InvalidInput(f"The body is not a {declared} image.",
                                   errors=[{"field": "(body)", "message": "content does not match Content-Type",
                                            "code": "image_type"}])
            if min(width, height) < MIN_IMAGE_SIDE:
                raise InvalidInput(f"The image must be at least {MIN_IMAGE_SIDE} pixels wide and high.",
                                   errors=[{"field": "(body)", "message": "too small", "code": "image_too_small"}])
            probe.load()
            original = ImageOps.exif_transpose(probe)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise InvalidInput("The image could not be read.",
                           errors=[{"field": "(body)", "message": "unreadable image", "code": "image_unreadable"}]) from error

    spec = PURPOSES[purpose]
    keep_alpha = spec["format"] == "png"
    original = original.convert("RGBA" if keep_alpha or original.mode in ("RGBA", "LA", "P") else "RGB")
    if not keep_alpha and original.mode == "RGBA":
        flat = Image.new("RGB", original.size, (255, 255, 255))
        flat.paste(original, mask=original.getchannel("A"))
        original = flat
    widths = sorted({min(w, original.width) for w in spec["widths"]})
    variants = []
    for target in widths:
        height_at = max(1, round(original.height * target / original.width))
        resized = original if target == original.width else original.resize((target, height_at), Image.LANCZOS, reducing_gap=3.0)
        out = io.BytesIO()
        if spec["format"] == "webp":
            resized.save(out, "WEBP", quality=80, method=2)
        else:
            # A logo has few colours: a 256-colour palette keeps it sharp at a third of the bytes.
            resized.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(out, "PNG", optimize=True)
        variants.append(Variant(target, height_at, out.getvalue()))
    digest = hashlib.sha256(data).hexdigest()[:20]
    return MadeImage(digest=digest, format=spec["format"], content_type=spec["content_type"], variants=variants)
