"""Pictures for the demo network, drawn here with Pillow (nothing downloaded,
no licence to track): a logo per venue, a poster-like picture per event.
Uploaded through the same image service the venues' leads use."""

from __future__ import annotations

import io
import random


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def logo(initials: str, primary: str, on_primary: str, size: int = 480) -> bytes:
    """A rounded square in the venue's colour with its initials (PNG)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6, fill=_rgb(primary))
    draw.rounded_rectangle((size // 12, size // 12, size - size // 12, size - size // 12), radius=size // 9,
                           outline=_rgb(on_primary), width=max(2, size // 60))
    draw.text((size / 2, size / 2), initials, fill=_rgb(on_primary), font=_font(size // 3), anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def poster(seed: str, primary: str, width: int = 960, height: int = 540) -> bytes:
    """An abstract picture for an event: a gradient from the venue's colour
    and soft shapes placed from the event's name (JPEG, the same every run).
    Drawn small and enlarged: the enlargement softens the shapes for free."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    small_w, small_h = width // 3, height // 3
    base = _rgb(primary)
    accent = tuple(rng.randint(60, 255) for _ in range(3))
    image = Image.new("RGB", (small_w, small_h))
    draw = ImageDraw.Draw(image)
    for y in range(small_h):
        t = y / small_h
        draw.line([(0, y), (small_w, y)], fill=tuple(int(b * (1 - t) + a * t * 0.6) for b, a in zip(base, accent)))
    layer = Image.new("RGBA", (small_w, small_h), (0, 0, 0, 0))
    shapes = ImageDraw.Draw(layer)
    for _ in range(14):
        x, y, r = rng.randint(0, small_w), rng.randint(0, small_h), rng.randint(small_h // 12, small_h // 3)
        colour = tuple(rng.randint(80, 255) for _ in range(3)) + (rng.randint(60, 150),)
        if rng.random() < 0.5:
            shapes.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            shapes.rectangle((x - r, y - r // 3, x + r, y + r // 3), fill=colour)
    image = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB").resize((width, height), Image.BICUBIC)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()
