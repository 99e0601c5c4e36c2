"""Just enough PDF reading for tests: the text reportlab writes with the CID font STSong-Light.

reportlab writes page content as ASCII85 + Flate streams and CID text (encoding UniGB-UCS2-H)
as literal strings of UTF-16BE code units. No PDF library is needed to read it back.
"""

from __future__ import annotations

import base64
import re
import zlib

_STREAM = re.compile(rb"<<([^<>]*?)>>\s*stream\r?\n(.*?)\s*endstream", re.S)
_LITERAL = re.compile(rb"\((?:\\.|[^\\)])*\)", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _decode_stream(header: bytes, body: bytes) -> bytes:
    if b"ASCII85Decode" in header:
        body = body.strip()
        body = base64.a85decode(body[:-2] if body.endswith(b"~>") else body)
    if b"FlateDecode" in header:
        body = zlib.decompress(body)
    return body


def _unescape(literal: bytes) -> bytes:
    out = bytearray()
    i = 1
    end = len(literal) - 1
    while i < end:
        c = literal[i : i + 1]
        if c != b"\\":
            out += c
            i += 1
            continue
        nxt = literal[i + 1 : i + 2]
        if nxt in _ESCAPES:
            out += _ESCAPES[nxt]
            i += 2
        elif nxt.isdigit():
            digits = re.match(rb"[0-7]{1,3}", literal[i + 1 : i + 4]).group(0)
            out.append(int(digits, 8) & 0xFF)
            i += 1 + len(digits)
        else:
            out += nxt
            i += 2
    return bytes(out)


def pdf_text(data: bytes) -> str:
    """Every CID text string of the PDF, decoded and joined by newlines."""
    pieces: list[str] = []
    for header, body in _STREAM.findall(data):
        try:
            content = _decode_stream(header, body)
        except (ValueError, zlib.error):
            continue
        for literal in _LITERAL.findall(content):
            raw = _unescape(literal)
            if len(raw) % 2 == 0 and raw:
                pieces.append(raw.decode("utf-16-be", errors="replace"))
    return "\n".join(pieces)
