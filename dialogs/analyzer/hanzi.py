"""Traditional to simplified Chinese, one character for one character.

The table comes from OpenCC's traditional-to-simplified conversion of every ideograph
taken alone (one call, one per line), so that the mapping keeps string length and
evidence offsets stay valid after normalisation. Characters that simplified Chinese
itself uses (GB2312) are left alone, because folding them would change simplified text:
著 in 显著, 乾 in 乾坤.
"""

from __future__ import annotations

import opencc

# Blocks of CJK ideographs: extension A, the unified block, compatibility ideographs.
_IDEOGRAPHS = (range(0x3400, 0x4DC0), range(0x4E00, 0xA000), range(0xF900, 0xFB00))
# Traditional forms that GB2312 also encodes but simplified writing does not use, and 帳,
# whose accounting sense (帳號, 帳戶) is written 账 on the mainland where OpenCC gives 帐.
_OVERRIDES = {"後": "后", "於": "于", "麽": "么", "徵": "征", "帳": "账"}


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _table() -> dict[int, str]:
    chars = [chr(code) for block in _IDEOGRAPHS for code in block]
    # One call over newline-separated characters: no phrase can span two of them.
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    table = {ord(t): s for t, s in zip(chars, converted, strict=True)
             if s != t and len(s) == 1 and not _in_gb2312(t)}
    table.update({ord(t): s for t, s in _OVERRIDES.items()})
    return table


TRAD_TO_SIMP: dict[int, str] = _table()
