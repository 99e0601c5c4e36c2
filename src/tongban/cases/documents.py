"""Documents the platform draws up from a case: the decision (决定书) and the applicant's
commitment (告知承诺书). PDF through reportlab with its built-in CID font ``STSong-Light``."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from tongban.cases.models import Decision
from tongban.core import calendar

FONT = "STSong-Light"
if FONT not in pdfmetrics.getRegisteredFontNames():
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
BODY = ParagraphStyle("body", fontName=FONT, fontSize=12, leading=20, wordWrap="CJK")
TITLE = ParagraphStyle("title", parent=BODY, fontSize=20, leading=30, alignment=1)
RIGHT = ParagraphStyle("right", parent=BODY, alignment=2)


def _pdf(title: str, paragraphs: list[str], signed: str, day: dt.date) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=30 * mm,
        bottomMargin=25 * mm,
        title=title,
        author="通办 Tongban",
        invariant=1,
    )
    story: list[Any] = [Paragraph(escape(title), TITLE), Spacer(1, 8 * mm)]
    for text in paragraphs:
        story.append(Paragraph(escape(text), BODY))
        story.append(Spacer(1, 3 * mm))
    story += [
        Spacer(1, 12 * mm),
        Paragraph(escape(signed), RIGHT),
        Paragraph(f"{day.year}年{day.month}月{day.day}日", RIGHT),
    ]
    doc.build(story)
    return buffer.getvalue()


def decision_pdf(case: Any, decided_at: dt.datetime) -> bytes:
    item = case.implementation.item.name
    approved = case.decision == Decision.APPROVED
    title = _("准予行政许可决定书") if approved else _("不予行政许可决定书")
    applicant = case.company.name if case.company_id else case.applicant.real_name
    lines = [
        _("办件编号：%(n)s") % {"n": case.number},
        _("申请人：%(a)s") % {"a": applicant},
        _("申请事项：%(i)s") % {"i": item},
        _("申请时间：%(d)s") % {"d": calendar.china_date(case.submitted_at).isoformat()},
    ]
    if approved:
        lines.append(_("经审查，你（单位）提出的申请符合法定条件、标准，本机关决定准予许可。"))
    else:
        lines.append(_("经审查，你（单位）提出的申请不符合法定条件、标准，本机关决定不予许可。"))
        lines.append(_("理由：%(r)s") % {"r": case.decision_note})
        lines.append(
            _(
                "如不服本决定，可以在收到本决定书之日起六十日内依法申请行政复议，"
                "或者在六个月内依法提起行政诉讼。"
            )
        )
    if approved and case.decision_note:
        lines.append(_("说明：%(r)s") % {"r": case.decision_note})
    return _pdf(title, lines, case.organization.name, calendar.china_date(decided_at))


def commitment_pdf(case: Any, material: Any) -> bytes:
    applicant = case.company.name if case.company_id else case.applicant.real_name
    lines = [
        _("办件编号：%(n)s") % {"n": case.number},
        _("申请事项：%(i)s") % {"i": case.implementation.item.name},
        _("承诺事项：以本承诺书代替提交“%(m)s”。") % {"m": material.name},
        _(
            "本人（单位）已知晓审批部门告知的全部内容，承诺所填写的信息真实、准确，"
            "符合审批部门告知的条件、标准和要求，愿意承担不实承诺的法律责任。"
        ),
        _("审批部门将依法对承诺内容进行核查，发现承诺不实的，依法撤销相关决定并追究责任。"),
    ]
    return _pdf(
        _("告知承诺书"),
        lines,
        _("承诺人：%(a)s（已在线签署）") % {"a": applicant},
        calendar.china_date(case.submitted_at),
    )


def sample_pdf(title: str) -> bytes:
    """A one-page PDF standing in for a scanned material (demo data)."""
    import datetime as _dt

    return _pdf(
        title, [_("本文件为演示数据，不具有法律效力。")], "通办 Tongban", _dt.date(2026, 1, 1)
    )
