"""The digest's chart: new and resolved appeals per day, as a PNG."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 900, 420
NEW, RESOLVED, INK, GRID = (59, 130, 246), (34, 197, 94), (30, 41, 59), (226, 232, 240)


def daily_chart(days: list[tuple[datetime, int, int]], title: str) -> bytes:
    """Grouped bars per day (blue: new, green: resolved) with day labels and counts."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=14)
    small = ImageFont.load_default(size=12)
    draw.text((20, 12), title, fill=INK, font=font)
    left, right, top, bottom = 50, WIDTH - 20, 50, HEIGHT - 50
    peak = max([1] + [max(n, r) for _, n, r in days])
    for step in range(5):
        y = bottom - (bottom - top) * step / 4
        draw.line((left, y, right, y), fill=GRID)
        draw.text((8, y - 7), str(round(peak * step / 4)), fill=INK, font=small)
    slot = (right - left) / max(1, len(days))
    bar = max(2.0, slot * 0.35)
    for index, (day, new, resolved) in enumerate(days):
        x = left + slot * index + slot * 0.12
        for offset, value, colour in ((0, new, NEW), (bar, resolved, RESOLVED)):
            height = (bottom - top) * value / peak
            draw.rectangle((x + offset, bottom - height, x + offset + bar - 1, bottom), fill=colour)
            if value:
                draw.text((x + offset, bottom - height - 14), str(value), fill=INK, font=small)
        if len(days) <= 16 or index % max(1, len(days) // 15) == 0:
            draw.text((x, bottom + 8), day.strftime("%m-%d"), fill=INK, font=small)
    draw.rectangle((right - 210, 14, right - 198, 26), fill=NEW)
    draw.text((right - 192, 12), "new", fill=INK, font=small)
    draw.rectangle((right - 130, 14, right - 118, 26), fill=RESOLVED)
    draw.text((right - 112, 12), "resolved", fill=INK, font=small)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
