"""The seal image: geometry and characters, in SVG and PNG (not pixels)."""

import io
import math
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from tongban.seals import images
from tongban.seals.codes import SealType

SVG = "{http://www.w3.org/2000/svg}"
NAME = "鄂尔多斯市东胜区行政审批和政务服务局"


def test_layout_places_the_name_on_the_upper_arc_symmetrically():
    lay = images.layout(NAME, SealType.ADMIN_APPROVAL, "行政审批专用章")
    assert lay.size == 40
    assert "".join(ch.char for ch in lay.chars) == NAME
    angles = [ch.angle for ch in lay.chars]
    assert angles == sorted(angles)  # read left to right
    assert angles[0] == pytest.approx(-angles[-1])
    assert max(abs(a) for a in angles) <= images.MAX_ARC_DEGREES / 2
    c = lay.center
    radii = {round(math.hypot(ch.x - c, ch.y - c), 2) for ch in lay.chars}
    assert len(radii) == 1  # all on one circle
    assert radii.pop() < lay.ring_radius - lay.ring_width / 2
    # The middle of the name is at the top.
    middle = lay.chars[len(lay.chars) // 2]
    assert middle.y < c
    assert abs(middle.angle) < 10
    assert lay.bottom_text == "行政审批专用章"
    assert lay.bottom_y > c + lay.star_radius


def test_star_is_a_regular_five_pointed_star_in_the_centre():
    lay = images.layout("某局", SealType.OFFICIAL)
    assert lay.size == 42
    assert len(lay.star) == 10
    c = lay.center
    distances = [math.hypot(x - c, y - c) for x, y in lay.star]
    assert all(d == pytest.approx(lay.star_radius, abs=0.01) for d in distances[::2])
    assert all(d < lay.star_radius * 0.5 for d in distances[1::2])
    assert lay.star[0][1] < c  # a point straight up
    assert lay.bottom_text == ""  # a 公章 carries the name only


def test_svg_has_ring_arc_characters_star_and_type():
    root = ET.fromstring(  # noqa: S314 - our own output
        images.seal_svg(NAME, SealType.LICENSE, "电子证照专用章").split("\n", 1)[1]
    )
    assert root.get("width") == "40mm"
    assert root.get("viewBox") == "0 0 40 40"
    ring = root.find(f".//{SVG}circle")
    assert float(ring.get("r")) < 20
    arc = root.findall(f".//{SVG}text[@class='arc']")
    assert "".join(t.text for t in arc) == NAME
    assert all(t.get("transform").startswith("rotate(") for t in arc)
    assert len(root.find(f".//{SVG}polygon").get("points").split()) == 10
    assert root.find(f".//{SVG}text[@class='type']").text == "电子证照专用章"
    assert "#E60012" in ET.tostring(root, encoding="unicode")


def test_svg_escapes_markup_in_names():
    svg = images.seal_svg("<b>&局", SealType.BUSINESS, "业务专用章")
    assert "<b>" not in svg
    assert "&lt;" in svg
    assert "&amp;" in svg


def test_long_names_shrink_to_fit_the_arc():
    lay = images.layout(
        "内蒙古自治区鄂尔多斯市东胜区人民政府办公室政务服务中心管理委员会", "contract"
    )
    assert max(abs(ch.angle) for ch in lay.chars) <= images.MAX_ARC_DEGREES / 2 + 0.01


def test_png_is_drawn_from_the_same_layout():
    data = images.seal_png(NAME, SealType.OFFICIAL, px_per_mm=5)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == (210, 210)
    assert image.mode == "RGBA"
    # The centre (the star) is red, a corner is transparent.
    assert image.getpixel((105, 105))[:3] == (0xE6, 0x00, 0x12)
    assert image.getpixel((2, 2))[3] == 0


def test_font_lookup_reports_the_fallback():
    path = images.cjk_font_path()
    assert path is None or path in images.CJK_FONT_CANDIDATES
