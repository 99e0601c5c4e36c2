"""The one-time notice (一次性告知单) as a printable A4 PDF, and the guide's QR code.

Font: reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1, encoding UniGB-UCS2-H). It needs
no font file, keeps the PDF small (about 10 KB) and every PDF reader shows it with its own Song
typeface (Acrobat's Asian font pack, PDFium, pdf.js and poppler all map it). The CJK fonts that
Debian ships are OpenType/CFF, which reportlab cannot embed; a TrueType font could be embedded
instead, at about 10 MB per file. Mongolian script needs shaping that reportlab does not do, so
the notice is printed in Chinese when the page is in Mongolian (see ``views.notice_pdf``).
"""

from __future__ import annotations

import datetime as dt
import io

import segno
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from tongban.catalog import guides
from tongban.catalog.models import Implementation, TimeUnit

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def qr_svg(url: str, *, title: str) -> str:
    """An inline SVG QR code (error correction M) of ``url``."""
    return segno.make(url, error="m", micro=False).svg_inline(
        scale=4, border=2, title=title, dark="#111111", light="#ffffff"
    )


class QRFlowable(Flowable):
    """A QR code drawn as filled squares (crisp at any print resolution)."""

    def __init__(self, url: str, size: float):
        super().__init__()
        self.matrix = segno.make(url, error="m", micro=False).matrix
        self.size = size
        self.width = self.height = size

    def draw(self):
        count = len(self.matrix) + 4  # two modules of quiet zone on each side
        module = self.size / count
        canvas = self.canv
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        for y, row in enumerate(self.matrix):
            for x, dark in enumerate(row):
                if dark:
                    canvas.rect(
                        (x + 2) * module,
                        self.size - (y + 3) * module,
                        module,
                        module,
                        stroke=0,
                        fill=1,
                    )


def _esc(text: object) -> str:
    """Text for a reportlab Paragraph (its markup is XML-like); newlines become breaks."""
    value = str(text or "")
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value.replace("\n", "<br/>")


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=10, leading=15, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle(
            "title", parent=base, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=2 * mm
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, fontSize=12, leading=18, alignment=TA_CENTER
        ),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=12, leading=18, spaceBefore=4 * mm, spaceAfter=1.5 * mm
        ),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=13),
    }


def _limit_text(limit: int, unit: str) -> str:
    return f"{limit} {TimeUnit(unit).label}"


def build_notice_pdf(
    impl: Implementation,
    answers: dict[int, set[int]],
    *,
    guide_url: str,
    site_name: str,
    issued_on: dt.date,
) -> bytes:
    """The notice for ``impl`` (from ``guides.guide``) and the applicant's ``answers``."""
    styles = _styles()
    s, cell = styles["base"], styles["cell"]
    story: list = []
    name = guides.item_name(impl.item)

    story.append(Paragraph(_esc(_("一次性告知单")), styles["title"]))
    story.append(Paragraph(_esc(name), styles["subtitle"]))
    story.append(Spacer(1, 4 * mm))

    depth_meaning = guides.DEPTH_MEANINGS[impl.online_depth]
    header = [
        [_("事项名称"), name],
        [_("实施主体"), impl.organization.name],
        [_("实施编码"), impl.code],
        [
            _("办结时限"),
            _("即办件")
            if impl.is_instant
            else _("法定 %(statutory)s；承诺 %(promised)s")
            % {
                "statutory": _limit_text(impl.statutory_limit, impl.statutory_unit),
                "promised": _limit_text(impl.promised_limit, impl.promised_unit),
            },
        ],
        [
            _("网办深度"),
            guides.DEPTH_NUMERALS[impl.online_depth] + " · " + str(depth_meaning),
        ],
        [_("到现场次数"), _("%(count)d 次") % {"count": impl.visits_required}],
        [_("办理结果"), impl.result_name],
    ]
    qr = QRFlowable(guide_url, 32 * mm)
    info = Table(
        [[Paragraph(_esc(k), cell), Paragraph(_esc(v), cell)] for k, v in header],
        colWidths=[24 * mm, 110 * mm],
    )
    info.setStyle(_grid())
    top = Table(
        [[info, [qr, Paragraph(_esc(_("扫码查看办事指南")), styles["small"])]]],
        colWidths=[136 * mm, 38 * mm],
    )
    top.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (1, 0), (1, 0), 4 * mm)])
    )
    story.append(top)

    story.append(Paragraph(_esc(_("受理条件")), styles["h2"]))
    story.append(Paragraph(_esc(impl.conditions), s))

    chosen = _chosen_situations(impl, answers)
    if chosen:
        story.append(Paragraph(_esc(_("您选择的情形")), styles["h2"]))
        for question, labels in chosen:
            story.append(Paragraph(_esc(f"{question}：{'、'.join(labels)}"), s))

    story.append(Paragraph(_esc(_("需要准备的材料")), styles["h2"]))
    rows = [
        [
            Paragraph(_esc(h), cell)
            for h in (
                _("序号"),
                _("材料名称"),
                _("来源 / 出具单位"),
                _("原件"),
                _("复印件"),
                _("类型 / 形式"),
                _("必要性"),
            )
        ]
    ]
    for index, choice in enumerate(guides.material_choices(impl, answers), start=1):
        m = choice.material
        title = m.name
        if choice.depends:
            title += "（" + _("视情形：") + "；".join(p.question for p in choice.pending) + "）"
        if m.requirements:
            title += "\n" + m.requirements
        rows.append(
            [
                Paragraph(str(index), cell),
                Paragraph(_esc(title), cell),
                Paragraph(_esc(f"{m.get_source_display()}\n{m.issuer}".strip()), cell),
                Paragraph(str(m.originals), cell),
                Paragraph(str(m.copies), cell),
                Paragraph(_esc(f"{m.get_form_display()} / {m.get_medium_display()}"), cell),
                Paragraph(_esc(m.get_necessity_display()), cell),
            ]
        )
    if len(rows) == 1:
        rows.append([Paragraph("", cell), Paragraph(_esc(_("无需提交材料")), cell), *[""] * 5])
    materials = Table(
        rows,
        colWidths=[10 * mm, 52 * mm, 36 * mm, 12 * mm, 14 * mm, 28 * mm, 22 * mm],
        repeatRows=1,
    )
    materials.setStyle(_grid(header=True))
    story.append(materials)

    story.append(Paragraph(_esc(_("办理地点与时间")), styles["h2"]))
    for loc in impl.locations.all():
        line = f"{loc.name}：{loc.street}{loc.number} {loc.room} {loc.window}"
        if loc.note:
            line += f"（{loc.note}）"
        story.append(Paragraph(_esc(line), s))
    for hours in impl.hours.all():
        line = str(hours) + (f"（{hours.note}）" if hours.note else "")
        story.append(Paragraph(_esc(line), s))

    story.append(Paragraph(_esc(_("收费")), styles["h2"]))
    fees = list(impl.fees.all())
    if not impl.charges_fee or not fees:
        story.append(Paragraph(_esc(_("不收费")), s))
    for fee in fees:
        story.append(Paragraph(_esc(f"{fee.name}：{fee.standard}（{_('依据')}：{fee.basis}）"), s))

    phones = []
    if impl.consultation_phone:
        phones.append(f"{_('咨询电话')}：{impl.consultation_phone}")
    if impl.complaint_phone:
        phones.append(f"{_('监督投诉电话')}：{impl.complaint_phone}")
    if phones:
        story.append(Paragraph(_esc(_("咨询与投诉")), styles["h2"]))
        story.append(Paragraph(_esc("　　".join(phones)), s))

    story.append(Spacer(1, 6 * mm))
    story.append(
        KeepTogether(
            [
                Paragraph(
                    _esc(
                        _("本告知单依据 %(date)s 发布的办事指南（第 %(version)d 版）生成。")
                        % {"date": impl.updated_at.date().isoformat(), "version": impl.version}
                    ),
                    styles["small"],
                ),
                Paragraph(
                    _esc(
                        _("出具日期：%(date)s　　%(site)s")
                        % {"date": issued_on.isoformat(), "site": site_name}
                    ),
                    styles["small"],
                ),
                Paragraph(_esc(guide_url), styles["small"]),
            ]
        )
    )

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{_('一次性告知单')} {name}",
        author=impl.organization.name,
        subject=impl.code,
        creator=site_name,
    )
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()


def _chosen_situations(
    impl: Implementation, answers: dict[int, set[int]]
) -> list[tuple[str, list[str]]]:
    chosen = []
    for situation in impl.situations.all():
        picked = answers.get(situation.id)
        if picked:
            labels = [o.label for o in situation.options.all() if o.id in picked]
            chosen.append((situation.question, labels))
    return chosen


def _grid(header: bool = False) -> TableStyle:
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#7a8699")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f5fa")))
    return TableStyle(commands)


def _footer(canvas, doc):
    canvas.saveState()
    canvas.setFont(FONT, 8)
    canvas.setFillColor(colors.HexColor("#555555"))
    canvas.drawRightString(A4[0] - 18 * mm, 9 * mm, _("第 %(page)d 页") % {"page": doc.page})
    canvas.restoreState()
