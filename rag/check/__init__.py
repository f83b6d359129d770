"""check: every clause reference in a text, resolved against the index and flagged.

- ``refs``: find the references (《title》第N条第M款第K项, 本条例第N条, 草案第N条, lists
  and ranges, Chinese and Arabic numerals) with the line they are on.
- ``resolve``: the ``Checker``: each reference to the indexed article (its words and its
  document's status), or a flag with the reason.

Comes after search: imports ``rag.ingest``, ``rag.index``, ``rag.search`` and the shared
values; nothing imports it but the front ends (``ragqa check``, ``/api/check``, the UI).
"""

from rag.check.refs import Reference, find_references
from rag.check.resolve import (
    OUTCOMES,
    Checker,
    CheckReport,
    Finding,
    clean_input,
    decode_input,
)

__all__ = ["OUTCOMES", "Checker", "CheckReport", "Finding", "Reference", "clean_input",
           "decode_input", "find_references"]
