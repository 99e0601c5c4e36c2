"""Case numbers (办件编号): region, date, serial and a check character.

``150602 20261123 000017 5`` — the 6-digit region code of the organization that handles the case,
the submission date in China time, a serial per region and day allocated under a row lock, and an
ISO 7064 MOD 11-2 check character (the one of the resident ID number, so a clerk reading a number
over the phone catches a wrong digit). 21 characters, digits and X, printable as a barcode.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F

from tongban.cases.models import CaseCounter

SERIAL_WIDTH = 6


def check_char(body: str) -> str:
    # ISO 7064 MOD 11-2 over any length; python-stdnum has it but is not a runtime dependency
    # for four lines.
    total = 0
    for ch in body:
        total = (total + int(ch)) * 2 % 11
    return "0123456789X"[(12 - total) % 11]


def is_valid(number: str) -> bool:
    number = (number or "").strip().upper()
    return len(number) == 21 and number[:20].isdigit() and check_char(number[:20]) == number[20]


def allocate(region_code: str, day: dt.date) -> str:
    """The next number for ``region_code`` on ``day``; call inside the case's transaction."""
    region = (region_code or "000000")[:6].ljust(6, "0")
    CaseCounter.objects.get_or_create(region_code=region, day=day)
    counter = CaseCounter.objects.select_for_update().get(region_code=region, day=day)
    CaseCounter.objects.filter(pk=counter.pk).update(last_serial=F("last_serial") + 1)
    serial = counter.last_serial + 1
    body = f"{region}{day:%Y%m%d}{serial:0{SERIAL_WIDTH}d}"
    return body + check_char(body)
