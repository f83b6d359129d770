"""Which documents quote each regulation's 《title》: found once at build time.

The result is stored in the index folder (``quotations.json``) and read by the title
resolver, so a question that names a regulation also searches the explanations and
reports that discuss it.

Left out: quotations by short title (节约能源条例 without 《》) and by document number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rag.types import Document, Passage


def quotations(documents: Sequence[Document], passages: Iterable[Passage]) -> dict[str, list[str]]:
    """For each regulation, the other documents whose passages quote 《its title》.

    One pass at build time (the result is stored in the index folder): every 《…》 in
    every passage is looked up among the regulations' titles.
    """
    regulation_of = {d.title: d.id for d in documents if d.doc_type == "regulation"}
    quoting: dict[str, set[str]] = {}
    for p in passages:
        if "《" not in p.text:
            continue
        for title in set(re.findall(r"《([^《》]{2,60})》", p.text)):
            doc_id = regulation_of.get(title)
            if doc_id is not None and doc_id != p.doc_id:
                quoting.setdefault(doc_id, set()).add(p.doc_id)
    return {k: sorted(v) for k, v in sorted(quoting.items())}
