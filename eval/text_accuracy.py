"""Character accuracy of extracted text (OCR) against the source text.

Scored on letters and digits after NFKC: punctuation, spaces and full/half width do
not count (a scan cannot tell ``,`` from ``，`` reliably, and neither matters to
retrieval). Accuracy is ``1 - edit distance / length of the source``, floored at 0.

Left out: word-level scores, per-character confusion tables.
"""

from __future__ import annotations

import difflib
import unicodedata


def letters_and_digits(text: str) -> str:
    """Letters and digits after NFKC: what accuracy is scored on.

    >>> letters_and_digits("第１条　（一）ABC,。")
    '第1条一ABC'
    """
    return "".join(c for c in unicodedata.normalize("NFKC", text) if c.isalnum())


def char_accuracy(got: str, want: str) -> float:
    """1 - edit distance / len(want), on letters and digits.

    >>> char_accuracy("第一条本条例", "第一条　本条例。"), char_accuracy("第二条", "第一条")
    (1.0, 0.6666666666666667)
    """
    a, b = letters_and_digits(got), letters_and_digits(want)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    edits = sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes()
                if op != "equal")
    return max(0.0, 1 - edits / max(1, len(b)))
