"""Generate a corpus with a second, later version of one regulation (for status tests).

The corpus holds one version of each regulation. This script copies it and adds a file
in which the provincial government office issues 山西省尾矿库安全监督管理办法 again:
the notice and the rules as printed in 002, with a new document number, signature
date and date of entry into force, and one changed article; a second short notice
follows so the file reads as a numbered gazette.
"""

from __future__ import annotations

import shutil
from pathlib import Path

NEW_NUMBER = "晋政办发〔2025〕12号"
NEW_EFFECTIVE = "2025-04-01"
CHANGED_ARTICLE = "第四十条 尾矿库生产经营单位应当每年开展一次尾矿库安全风险评估。"
REVISED_FILE = "005_revised_tailings.txt"


def write_revised_corpus(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` and add the revised regulation's file; ``target``."""
    shutil.copytree(source, target)
    lines = (source / "002_97e5f3168bf50f07.txt").read_text(encoding="utf-8").splitlines()
    title = lines.index("关于印发山西省尾矿库安全监督管理办法的通知")
    start = title - 2  # the issuer line, a blank line, the title
    assert lines[start] == "山西省人民政府办公厅"
    end = next(i for i, x in enumerate(lines) if "本办法自2023年1月1日起施行" in x) + 1
    block = "\n".join(lines[start:end])
    block = (block.replace("晋政办发〔2022〕98号", NEW_NUMBER)
             .replace("2022年12月8日", "2025年3月1日")
             .replace("本办法自2023年1月1日起施行", "本办法自2025年4月1日起施行"))
    old_article = next(x for x in lines[start:end] if x.startswith("第四十条 "))
    block = block.replace(old_article, CHANGED_ARTICLE)
    closing = ("\n\n山西省人民政府办公厅关于公布规范性文件清理结果的通知\n\n晋政办发〔2025〕13号\n\n"
               "各市、县人民政府，省人民政府各委、办、厅、局：\n\n现将规范性文件清理结果予以公布。\n\n"
               "山西省人民政府办公厅\n\n2025年3月1日\n\n(此件公开发布)\n")
    (target / REVISED_FILE).write_text(block + closing, encoding="utf-8")
    manifest = target / "MANIFEST.tsv"
    if manifest.exists():
        with manifest.open("a", encoding="utf-8") as out:
            out.write(f"{REVISED_FILE}\t山西省人民政府公报\t2025年第3期\t2025-03-01\n")
    return target
