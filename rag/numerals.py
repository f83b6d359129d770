"""Chinese numerals (中文数字) to integers and back, for article labels like 第六十二条.

Covers the numerals that label articles, chapters and items: 〇零一…九十百千万,
and 两. Left out: financial numerals (壹贰叁) and anything above 万.
"""

from __future__ import annotations

import unicodedata

_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
CHINESE_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_UNITS)


def chinese_to_int(text: str) -> int:
    """Read a Chinese or Arabic (also full-width) numeral.

    >>> chinese_to_int("十二"), chinese_to_int("六十二"), chinese_to_int("一百零三")
    (12, 62, 103)
    >>> chinese_to_int("十"), chinese_to_int("二十"), chinese_to_int("１２")
    (10, 20, 12)
    >>> chinese_to_int("二〇二三")
    2023
    >>> chinese_to_int("条")
    Traceback (most recent call last):
    ...
    ValueError: not a numeral: '条'
    """
    text = unicodedata.normalize("NFKC", text).strip()
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        raise ValueError(f"not a numeral: {text!r}")
    if not any(ch in _UNITS for ch in text):  # digit by digit: 二〇二三
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch == "万":
            total += (section + digit) * 10000
            section, digit = 0, 0
        else:
            section += (digit or 1) * _UNITS[ch]
            digit = 0
    return total + section + digit


def int_to_chinese(number: int) -> str:
    """Write an integer from 0 to 9999 the way article labels print it.

    >>> [int_to_chinese(n) for n in (1, 10, 12, 20, 62, 100, 103, 110, 1000)]
    ['一', '十', '十二', '二十', '六十二', '一百', '一百零三', '一百一十', '一千']
    """
    if not 0 <= number <= 9999:
        raise ValueError(f"out of range 0..9999: {number}")
    if number == 0:
        return "零"
    digits = "零一二三四五六七八九"
    parts: list[str] = []
    zero_pending = False
    for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = number // unit_value % 10
        if d == 0:
            zero_pending = bool(parts)
            continue
        if zero_pending:
            parts.append("零")
            zero_pending = False
        parts.append(digits[d] + unit)
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text
