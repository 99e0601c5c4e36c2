"""A license as a printable A4 PDF: the type's name, the holder, the fields, the identifier, the
issuing seal's image and a QR code of the public verification address.

Chinese text uses reportlab's built-in CID font ``STSong-Light`` (no font file; see
``tongban.portal.notice`` for why); the identifier is also set in Helvetica so that it is plain
text in the page. The seal image is :func:`tongban.seals.images.render_png` of the seal that
signed the license. The QR code carries :func:`verify_url` (the public verify page, which is not
built yet: it will look the identifier up); the short-lived QR of the wallet is
:func:`tongban.licenses.presentation.present`.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import segno
from django.conf import settings
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    Flowable,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from tongban.licenses.models import HolderKind, License
from tongban.seals import images

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def verify_url(lic: License) -> str:
    return f"{settings.TONGBAN_PUBLIC_URL.rstrip('/')}/licenses/verify?id={quote(lic.identifier)}"


class _QR(Flowable):
    """A QR code drawn as filled squares (crisp at any print resolution)."""

    def __init__(self, text: str, size: float):
        super().__init__()
        self.matrix = segno.make(text, error="m", micro=False).matrix
        self.size = self.width = self.height = size

    def draw(self):
        count = len(self.matrix) + 4
        module = self.size / count
        canvas = self.canv
        canvas.setFillColor(colors.black)
        for y, row in enumerate(self.matrix):
            for x, dark in enumerate(row):
                if dark:
                    top = self.size - (y + 3) * module
                    canvas.rect((x + 2) * module, top, module, module, stroke=0, fill=1)


def _esc(text: object) -> str:
    value = str(text or "")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_pdf(lic: License) -> bytes:
    """The PDF bytes of ``lic`` (the holder's own copy: name and ID number in full)."""
    lic = License.objects.select_related(
        "license_type", "issuer", "signature__seal__organization"
    ).get(pk=lic.pk)
    title = ParagraphStyle("title", fontName=FONT, fontSize=22, leading=30, alignment=TA_CENTER)
    body = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=16)
    label = ParagraphStyle("label", parent=body, textColor=colors.HexColor("#555555"))
    mono = ParagraphStyle("mono", fontName="Helvetica", fontSize=9, leading=12)
    code_label = "公民身份号码" if lic.holder_kind == HolderKind.PERSON else "统一社会信用代码"
    rows = [
        ("持证主体", lic.holder_name),
        (code_label, lic.holder_code),
    ]
    for spec in lic.license_type.field_specs():
        if spec["key"] in lic.data:
            rows.append((spec["label"], lic.data[spec["key"]]))
    end = lic.valid_to.isoformat() if lic.valid_to else "长期"
    rows += [
        ("有效期", f"{lic.valid_from.isoformat()} 至 {end}"),
        ("颁发机构", lic.issuer.name),
        ("颁发日期", timezone.localdate(lic.issued_at).isoformat()),
    ]
    table = Table(
        [[Paragraph(_esc(k), label), Paragraph(_esc(v), body)] for k, v in rows],
        colWidths=[40 * mm, 120 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#dddddd")),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    seal = lic.signature.seal
    seal_png = images.seal_png(seal.organization.name, seal.seal_type, seal.get_seal_type_display())
    seal_image = Image(io.BytesIO(seal_png), width=40 * mm, height=40 * mm, mask="auto")
    footer = Table(
        [[_QR(verify_url(lic), 32 * mm), seal_image]],
        colWidths=[80 * mm, 80 * mm],
    )
    footer.setStyle(
        TableStyle([("ALIGN", (1, 0), (1, 0), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")])
    )
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=lic.license_type.name,
        subject=lic.identifier,
        author=lic.issuer.name,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=20 * mm,
    )
    doc.build(
        [
            Paragraph(_esc(lic.license_type.name), title),
            Spacer(1, 10 * mm),
            table,
            Spacer(1, 10 * mm),
            footer,
            Spacer(1, 6 * mm),
            Paragraph(_esc("电子证照标识"), label),
            Paragraph(_esc(lic.identifier), mono),
            Paragraph(_esc("扫描二维码核验本证照，或在平台“证照核验”中输入标识。"), label),
        ]
    )
    return out.getvalue()


__all__ = ["render_pdf", "verify_url"]
