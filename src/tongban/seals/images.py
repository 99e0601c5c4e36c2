"""The seal image: a red round seal as real Chinese seals look, in SVG and PNG.

Layout (GA 241-2000 style round seal): an outer ring; the organization's name along the upper
arc, each character upright toward the centre and rotated to its place on the arc, read left to
right; a five-pointed star in the centre; the seal's type name (e.g. 行政审批专用章) straight
below the star (none on a 公章, which carries only the name, as the real ones do). Diameter 42 mm
for a 公章, 40 mm otherwise (:func:`tongban.seals.codes.seal_size_mm`).

Both formats are drawn from one :class:`SealLayout` in millimetres, so the geometry is computed
and tested once. The SVG is written by hand: no maintained Python library lays out Chinese seal
text on an arc (SVG ``textPath`` would do it in a browser, but renders differently across viewers
and cannot be measured here), and the shapes are a circle, a polygon and rotated text. The PNG
is drawn with Pillow from the same layout; it needs a CJK font for the characters
(:data:`CJK_FONT_CANDIDATES`, e.g. the Debian package ``fonts-noto-cjk``). Without one it falls
back to Pillow's default font, which has no Chinese glyphs: the geometry is right but the
characters come out as boxes, and :func:`cjk_font_path` returning ``None`` says so.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from tongban.seals.codes import SealType, seal_size_mm

SEAL_RED = "#E60012"
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
MAX_ARC_DEGREES = 250.0  # the name never runs into the bottom of the ring


@dataclass(frozen=True)
class ArcChar:
    char: str
    x: float  # centre of the character, mm
    y: float
    angle: float  # degrees clockwise from upright (0 = top of the seal)


@dataclass(frozen=True)
class SealLayout:
    size: float  # diameter, mm
    ring_radius: float  # centre line of the ring
    ring_width: float
    name_font: float  # character height, mm
    chars: tuple[ArcChar, ...]
    star: tuple[tuple[float, float], ...]  # 10 points, outer and inner alternating
    star_radius: float
    bottom_text: str
    bottom_font: float
    bottom_y: float  # centre line of the bottom text

    @property
    def center(self) -> float:
        return self.size / 2


def layout(name: str, seal_type: str, type_label: str = "") -> SealLayout:
    """Geometry of the seal of organization ``name`` with the given type, in millimetres."""
    size = float(seal_size_mm(seal_type))
    c = size / 2
    ring_width = size * 0.03  # 1.2 mm on 40 mm
    ring_radius = c - ring_width / 2 - 0.2
    inner = ring_radius - ring_width / 2
    name = "".join(ch for ch in name if not ch.isspace())
    name_font = size * 0.16
    text_radius = inner - 0.6 - name_font / 2
    chars: list[ArcChar] = []
    if name:
        # Angle that one character occupies at the text radius, with a little spacing; shrink
        # the characters when the name would pass MAX_ARC_DEGREES.
        step = math.degrees(name_font * 1.05 / text_radius)
        if step * (len(name) - 1) > MAX_ARC_DEGREES - step:
            step = MAX_ARC_DEGREES / len(name)
            name_font = min(name_font, math.radians(step) * text_radius / 1.02)
            text_radius = inner - 0.6 - name_font / 2
        span = step * (len(name) - 1)
        for i, ch in enumerate(name):
            angle = -span / 2 + i * step
            rad = math.radians(angle)
            chars.append(
                ArcChar(
                    ch,
                    round(c + text_radius * math.sin(rad), 3),
                    round(c - text_radius * math.cos(rad), 3),
                    round(angle, 3),
                )
            )
    star_radius = size * 0.17  # ~7 mm on a 42 mm seal
    star = tuple(_star_points(c, c, star_radius))
    bottom_text = "" if seal_type == SealType.OFFICIAL else type_label
    bottom_font = size * 0.1
    if bottom_text:
        bottom_font = min(bottom_font, (inner * 1.3) / len(bottom_text))
    bottom_y = c + star_radius + 1.2 + bottom_font / 2 + size * 0.06
    return SealLayout(
        size=size,
        ring_radius=round(ring_radius, 3),
        ring_width=round(ring_width, 3),
        name_font=round(name_font, 3),
        chars=tuple(chars),
        star=star,
        star_radius=star_radius,
        bottom_text=bottom_text,
        bottom_font=round(bottom_font, 3),
        bottom_y=round(bottom_y, 3),
    )


def _star_points(cx: float, cy: float, radius: float):
    inner = radius * math.sin(math.radians(18)) / math.sin(math.radians(126))  # regular star
    for i in range(10):
        r = radius if i % 2 == 0 else inner
        angle = math.radians(-90 + 36 * i)
        yield (round(cx + r * math.cos(angle), 3), round(cy + r * math.sin(angle), 3))


# --- SVG -----------------------------------------------------------------------------------------

_FONT_FAMILY = "'Noto Serif CJK SC','Noto Sans CJK SC','SimSun','Songti SC',serif"


def render_svg(seal_layout: SealLayout) -> str:
    """The seal as an SVG document, sized in millimetres (``width="42mm"``)."""
    lay = seal_layout
    c = lay.center
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.size:g}mm" '
        f'height="{lay.size:g}mm" viewBox="0 0 {lay.size:g} {lay.size:g}">',
        f'<g fill="{SEAL_RED}" stroke="none" font-family={quoteattr(_FONT_FAMILY)}>',
        f'<circle class="ring" cx="{c:g}" cy="{c:g}" r="{lay.ring_radius:g}" fill="none" '
        f'stroke="{SEAL_RED}" stroke-width="{lay.ring_width:g}"/>',
    ]
    for ch in lay.chars:
        parts.append(
            f'<text class="arc" x="{ch.x:g}" y="{ch.y:g}" font-size="{lay.name_font:g}" '
            f'text-anchor="middle" dominant-baseline="central" '
            f'transform="rotate({ch.angle:g} {ch.x:g} {ch.y:g})">{escape(ch.char)}</text>'
        )
    points = " ".join(f"{x:g},{y:g}" for x, y in lay.star)
    parts.append(f'<polygon class="star" points="{points}"/>')
    if lay.bottom_text:
        parts.append(
            f'<text class="type" x="{c:g}" y="{lay.bottom_y:g}" font-size="{lay.bottom_font:g}" '
            f'text-anchor="middle" dominant-baseline="central">{escape(lay.bottom_text)}</text>'
        )
    parts.append("</g></svg>")
    return "\n".join(parts)


def seal_svg(name: str, seal_type: str, type_label: str = "") -> str:
    return render_svg(layout(name, seal_type, type_label))


# --- PNG -----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """The first CJK font found on this machine, or ``None`` (PNG characters will be boxes)."""
    for candidate in CJK_FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return None


def _font(size_px: int):
    from PIL import ImageFont

    path = cjk_font_path()
    if path:
        return ImageFont.truetype(path, size_px)
    return ImageFont.load_default(size=size_px)  # Latin only: no Chinese glyphs


def render_png(seal_layout: SealLayout, *, px_per_mm: int = 12) -> bytes:
    """The same seal as a transparent PNG (``px_per_mm`` × diameter pixels square)."""
    from PIL import Image, ImageDraw

    lay = seal_layout
    k = px_per_mm
    side = round(lay.size * k)
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    c = lay.center * k
    r_out = (lay.ring_radius + lay.ring_width / 2) * k
    draw.ellipse(
        (c - r_out, c - r_out, c + r_out, c + r_out),
        outline=SEAL_RED,
        width=max(1, round(lay.ring_width * k)),
    )
    draw.polygon([(x * k, y * k) for x, y in lay.star], fill=SEAL_RED)
    font = _font(max(1, round(lay.name_font * k)))
    box = round(lay.name_font * k * 1.6)
    for ch in lay.chars:
        glyph = Image.new("RGBA", (box, box), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text(
            (box / 2, box / 2), ch.char, font=font, fill=SEAL_RED, anchor="mm"
        )
        glyph = glyph.rotate(-ch.angle, resample=Image.Resampling.BICUBIC)
        image.alpha_composite(glyph, (round(ch.x * k - box / 2), round(ch.y * k - box / 2)))
    if lay.bottom_text:
        draw.text(
            (c, lay.bottom_y * k),
            lay.bottom_text,
            font=_font(max(1, round(lay.bottom_font * k))),
            fill=SEAL_RED,
            anchor="mm",
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def seal_png(name: str, seal_type: str, type_label: str = "", *, px_per_mm: int = 12) -> bytes:
    return render_png(layout(name, seal_type, type_label), px_per_mm=px_per_mm)


__all__ = [
    "SEAL_RED",
    "ArcChar",
    "SealLayout",
    "cjk_font_path",
    "layout",
    "render_png",
    "render_svg",
    "seal_png",
    "seal_svg",
]
