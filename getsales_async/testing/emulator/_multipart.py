"""Reading ``multipart/form-data`` request bodies (the CSV upload), bounded and strict.

Hand-rolled on purpose: python-multipart is not a dependency of the emulator, the stdlib ``cgi``
module is gone in Python 3.13, and ``email.parser`` is slow on a 15 MB part and lenient where the
emulator should refuse. Only what uploads need is read: each part's ``name``, ``filename``,
``Content-Type`` and bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_PARTS", "MultipartBody", "Part", "parse_multipart"]

MAX_PARTS = 16  # a CSV upload has two (file, type); more is not an upload
MAX_HEADER_BYTES = 8 * 1024  # per part
_BOUNDARY = re.compile(r'boundary=(?:"([^"]{1,200})"|([^;,\s]{1,200}))', re.IGNORECASE)
_PARAM = re.compile(r';\s*([a-zA-Z*]+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Part:
    """One part of a multipart body."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes

    def text(self) -> str | None:
        """The part as UTF-8 text, or ``None`` when it is not UTF-8."""
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            return None


@dataclass(frozen=True)
class MultipartBody:
    """A decoded ``multipart/form-data`` request body: its parts, in order."""

    parts: tuple[Part, ...]

    def get(self, name: str) -> Part | None:
        """The first part named ``name``, if any."""
        return next((p for p in self.parts if p.name == name), None)


def _boundary(content_type: str) -> bytes:
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise ValueError("multipart/form-data without a boundary")
    return (found.group(1) or found.group(2)).encode("latin-1")


def _part(raw: bytes) -> Part:
    head, separator, data = raw.partition(b"\r\n\r\n")
    if not separator:
        if raw.startswith(b"\r\n"):  # no headers at all
            head, data = b"", raw[2:]
        else:
            raise ValueError("a part without a blank line after its headers")
    if len(head) > MAX_HEADER_BYTES:
        raise ValueError("part headers too long")
    name: str | None = None
    filename: str | None = None
    content_type: str | None = None
    for line in head.decode("latin-1").split("\r\n"):
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "content-disposition":
            params = {k.lower(): v.replace('\\"', '"') for k, v in _PARAM.findall(value)}
            name = params.get("name")
            filename = params.get("filename")
        elif key == "content-type":
            content_type = value.strip()
    if name is None:
        raise ValueError("a part without a Content-Disposition name")
    return Part(name=name, filename=filename, content_type=content_type, data=data)


def parse_multipart(body: bytes, content_type: str) -> MultipartBody:
    """Split a ``multipart/form-data`` body into its parts.

    Raises:
        ValueError: no boundary, no closing delimiter, a malformed part, or more than
            :data:`MAX_PARTS` parts.
    """
    delimiter = b"--" + _boundary(content_type)
    position = body.find(delimiter)
    if position < 0:
        raise ValueError("the body does not contain its boundary")
    parts: list[Part] = []
    position += len(delimiter)
    while True:
        if body.startswith(b"--", position):
            return MultipartBody(tuple(parts))
        if not body.startswith(b"\r\n", position):
            raise ValueError("a boundary not followed by a line break")
        end = body.find(b"\r\n" + delimiter, position)
        if end < 0:
            raise ValueError("a part without a closing boundary")
        if len(parts) == MAX_PARTS:
            raise ValueError(f"more than {MAX_PARTS} parts")
        parts.append(_part(body[position + 2 : end]))
        position = end + 2 + len(delimiter)
