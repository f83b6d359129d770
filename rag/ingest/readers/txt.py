"""Plain text (.txt) in any common Chinese encoding: the corpus's own format.

The text is returned whole; the .txt cleaning path (page furniture by pattern,
pages from the gazettes' own markers) reads it as before.
"""

from __future__ import annotations

import re

from rag.errors import DocumentReadError
from rag.ingest.readers.base import Extracted


def decode(data: bytes) -> tuple[str, str]:
    """Decode text bytes; returns (text, encoding). Raises ValueError for binary data.

    >>> decode("条例".encode("utf-8-sig")), decode("条例".encode("gb18030"))
    (('条例', 'utf-8-sig'), ('条例', 'gb18030'))
    >>> decode("条例".encode("utf-16"))
    ('条例', 'utf-16')
    >>> decode(bytes(range(256)))
    Traceback (most recent call last):
    ...
    ValueError: binary data (NUL bytes), not text
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    if b"\x00" in data:
        raise ValueError("binary data (NUL bytes), not text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8"
        return text, encoding
    raise ValueError("not UTF-8, UTF-16 or GB18030 text")


def decode_html(data: bytes) -> str:
    """An HTML page's text: its declared charset first, else as ``decode``.

    >>> decode_html('<meta charset="gbk"><p>条例</p>'.encode("gbk"))
    '<meta charset="gbk"><p>条例</p>'
    """
    m = re.search(rb"""charset\s*=\s*["']?([A-Za-z0-9_-]+)""", data[:4096])
    if m:
        try:
            return data.decode(m.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    return decode(data)[0]


def read(name: str, data: bytes, progress=None) -> Extracted:
    try:
        text, encoding = decode(data)
    except ValueError as exc:
        raise DocumentReadError(f"{name}: {exc}; save it as UTF-8 text") from exc
    if not text.strip():
        raise DocumentReadError(f"{name}: only white space; remove it or add its text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Extracted(name, "txt", (), text=text, encoding=encoding)
