"""Loading the platform's population table (PopulationRecord) from a CSV file of
``name,id_number`` rows, for the local L2 provider.

Each row is checked (the name as on an ID card, the ID number by GB 11643 with the reason); bad
rows are reported by line number. By default a file with any bad row changes nothing; with
``skip_bad`` the good rows are loaded. A number already in the table gets the new name. Rows are
written in batches (one digest query, one ``bulk_create`` and one ``bulk_update`` per batch), so
a file of millions of rows loads in constant memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from tongban.accounts.errors import AccountError
from tongban.accounts.models import PopulationRecord
from tongban.accounts.verification.services import clean_id_number, clean_real_name
from tongban.core.personal import lookup_digest

BATCH_SIZE = 2000


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return _("第%(line)d行：%(reason)s") % {"line": self.line, "reason": self.reason}


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: list[BadRow] = field(default_factory=list)
    loaded: bool = False

    def summary(self) -> str:
        return _("新增 %(c)d 条，更新 %(u)d 条，未变 %(n)d 条，错误 %(b)d 行") % {
            "c": self.created,
            "u": self.updated,
            "n": self.unchanged,
            "b": len(self.bad),
        }


def _rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(lines)
    for row in reader:
        yield reader.line_num, row


def _parse(lines: Iterable[str], report: LoadReport) -> Iterator[tuple[str, str]]:
    seen: dict[str, int] = {}
    for line, row in _rows(lines):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if line == 1 and [c.lower() for c in cells[:2]] in (
            ["name", "id_number"],
            ["姓名", "身份证号"],
        ):
            continue
        if len(cells) != 2:
            report.bad.append(
                BadRow(line, _("应有姓名、身份证号两列，实有%(n)d列") % {"n": len(cells)})
            )
            continue
        try:
            name = clean_real_name(cells[0])
            number = clean_id_number(cells[1])
        except AccountError as exc:
            report.bad.append(BadRow(line, exc.message))
            continue
        if number in seen:
            report.bad.append(
                BadRow(line, _("身份证号与第%(line)d行重复") % {"line": seen[number]})
            )
            continue
        seen[number] = line
        yield name, number


def _write(batch: list[tuple[str, str]], source: str, report: LoadReport) -> None:
    digests = {lookup_digest("id_number", number): (name, number) for name, number in batch}
    existing = {
        rec.id_number_digest: rec
        for rec in PopulationRecord.objects.filter(id_number_digest__in=list(digests)).only(
            "pk", "name", "id_number_digest", "source"
        )
    }
    new, changed = [], []
    for digest, (name, number) in digests.items():
        rec = existing.get(digest)
        if rec is None:
            new.append(PopulationRecord(name=name, id_number=number, source=source))
        elif rec.name != name or rec.source != source:
            rec.name, rec.source = name, source
            changed.append(rec)
        else:
            report.unchanged += 1
    PopulationRecord.objects.bulk_create(new)
    if changed:
        PopulationRecord.objects.bulk_update(changed, ["name", "source"])
    report.created += len(new)
    report.updated += len(changed)


def load_population(
    lines: Iterable[str], *, source: str = "", skip_bad: bool = False
) -> LoadReport:
    """Load ``name,id_number`` rows (a header line is optional); see the module doc."""
    report = LoadReport()
    rows = list(_parse(lines, report)) if not skip_bad else None
    if rows is not None and report.bad:
        return report
    with transaction.atomic():
        batch: list[tuple[str, str]] = []
        for row in rows if rows is not None else _parse(lines, report):
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                _write(batch, source, report)
                batch = []
        if batch:
            _write(batch, source, report)
    report.loaded = True
    return report


def load_population_file(
    path: str | Path, *, source: str = "", skip_bad: bool = False
) -> LoadReport:
    """:func:`load_population` on a UTF-8 file (a byte-order mark is accepted)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return load_population(handle, source=source or Path(path).name, skip_bad=skip_bad)
