"""The demo's forms as files: a fillable blank form (空表, ``.xlsx``) and a filled-in sample
(示范样表, ``.pdf`` marked 示范样表 on every page) for each form of ``data/demo/forms.json``.

Files are written once to the default storage under a name that carries a digest of the form and
of :data:`FORM_RENDERER_VERSION`: an existing file is the right one, a changed form (or renderer)
gets a new file, and a deleted file is written again on the next run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

# Bump when the form renderers change, so that new files are written under new names.
FORM_RENDERER_VERSION = "1"


@dataclass
class FormFiles:
    """The stored (blank, sample) paths by form key, and how many files were written or found."""

    paths: dict[str, tuple[str, str]] = field(default_factory=dict)
    created: int = 0
    unchanged: int = 0


def ensure_forms(forms: dict[str, dict]) -> FormFiles:
    """Write each form's blank and sample files unless a file of that content exists."""
    files = FormFiles()
    for key, form in forms.items():
        digest = form_digest(form)
        blank = _store(files, f"catalog/forms/demo/{key}-{digest}.xlsx", render_blank_form, form)
        sample = _store(files, f"catalog/samples/demo/{key}-{digest}.pdf", render_sample_form, form)
        files.paths[key] = (blank, sample)
    return files


def form_digest(form: dict) -> str:
    """Ten hex digits of the form's content and the renderer version."""
    text = json.dumps(form, ensure_ascii=False, sort_keys=True) + FORM_RENDERER_VERSION
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _store(files: FormFiles, path: str, render: Callable[[dict], bytes], form: dict) -> str:
    if default_storage.exists(path):
        files.unchanged += 1
        return path
    saved = default_storage.save(path, ContentFile(render(form)))
    files.created += 1
    return saved


def render_blank_form(form: dict) -> bytes:
    """A fillable blank form (空表) as an Excel workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="center")
    book = Workbook()
    sheet = book.active
    sheet.title = "申请表"
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 60
    sheet.merge_cells("A1:B1")
    sheet["A1"] = form["title"]
    sheet["A1"].font = Font(size=16, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    row = 3
    for section in form["sections"]:
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        cell = sheet.cell(row=row, column=1, value=section["heading"])
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EEF4")
        row += 1
        for label, _sample in section["fields"]:
            sheet.cell(row=row, column=1, value=label).border = border
            sheet.cell(row=row, column=2).border = border
            sheet.row_dimensions[row].height = 24
            row += 1
        row += 1
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
    sheet.cell(row=row, column=1, value=form["declaration"]).alignment = wrap
    sheet.row_dimensions[row].height = 90
    row += 2
    for label in form["signatures"]:
        sheet.cell(row=row, column=1, value=f"{label}：")
        sheet.cell(row=row, column=2).border = Border(bottom=thin)
        row += 1
    fixed = dt.datetime(2026, 1, 1)
    book.properties.creator = "通办 Tongban"
    book.properties.title = form["title"]
    book.properties.created = fixed
    book.properties.modified = fixed
    return _stable_xlsx(book, fixed)


def _stable_xlsx(book, moment: dt.datetime) -> bytes:
    """The workbook's bytes, identical on every run.

    ``Workbook.save`` stamps ``modified`` with the current time and every zip entry with the
    current local time, so two renders a second apart differ. The same file must always have the
    same digest (the demo loader compares them), hence openpyxl's writer is called directly and the
    archive re-packed with one fixed timestamp.
    """
    import zipfile

    from openpyxl.writer.excel import ExcelWriter

    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).write_data()
    stable = io.BytesIO()
    stamp = moment.timetuple()[:6]
    with (
        zipfile.ZipFile(raw) as source,
        zipfile.ZipFile(stable, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = entry.external_attr
            target.writestr(info, source.read(entry.filename))
    return stable.getvalue()


def render_sample_form(form: dict) -> bytes:
    """A filled-in sample (示范样表) as a PDF, marked 示范样表 on every page."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=1)
    heading = ParagraphStyle("heading", parent=body, fontSize=12, leading=18)

    def watermark(canvas, _doc):
        canvas.saveState()
        canvas.setFont(font, 60)
        canvas.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.18))
        canvas.translate(A4[0] / 2, A4[1] / 2)
        canvas.rotate(35)
        canvas.drawCentredString(0, 0, "示范样表")
        canvas.restoreState()

    story: list = [Paragraph(form["title"], title), Spacer(1, 4 * mm)]
    story.append(Paragraph("（示范样表：以下内容为填写示例，姓名、号码均为虚构）", body))
    story.append(Spacer(1, 4 * mm))
    for section in form["sections"]:
        story.append(Paragraph(section["heading"], heading))
        rows = [
            [Paragraph(label, body), Paragraph(sample, body)] for label, sample in section["fields"]
        ]
        table = Table(rows, colWidths=[55 * mm, 115 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("BACKGROUND", (0, 0), (0, -1), colors.Color(0.93, 0.95, 0.97)),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        story += [table, Spacer(1, 4 * mm)]
    story += [Paragraph(form["declaration"], body), Spacer(1, 6 * mm)]
    for label in form["signatures"]:
        story.append(Paragraph(f"{label}：＿＿＿＿＿＿＿＿＿＿", body))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, invariant=1, title=form["title"], author="通办 Tongban",
        leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
    )  # fmt: skip
    document.build(story, onFirstPage=watermark, onLaterPages=watermark)
    return buffer.getvalue()
