"""Validators for the identifiers the centre deals in (domain-rules §1).

Digit classes are spelled [0-9], never \\d: \\d also matches full-width digits from Chinese
input methods, which would store one person under two spellings of one number.
"""

import re
from datetime import date

from hpf.kit.errors import InvalidInput

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PHONE = re.compile(r"^1[3-9][0-9]{9}$")


def id_check_digit(first17: str) -> str:
    """GB 11643 check character for the first 17 digits of a resident ID number."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def upgrade_id15(id15: str) -> str:
    """Upgrade a 15-digit ID number to 18 digits (升位): insert '19', append the check digit."""
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + id_check_digit(first17)


def id_birth_date(id18: str) -> date:
    """Birth date encoded in digits 7-14 of a (valid) 18-digit ID number."""
    return date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))


def id_is_male(id18: str) -> bool:
    """Digit 17 odd means male."""
    return int(id18[16]) % 2 == 1


def normalize_id_number(raw: str) -> str:
    """Return the canonical 18-character ID number or raise INVALID_ID_NUMBER.

    Accepts the 15-digit form and upgrades it; a lowercase x check character is upper-cased.
    """
    value = (raw or "").strip().upper()
    if re.fullmatch(r"[0-9]{15}", value):
        value = upgrade_id15(value)
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        raise InvalidInput("身份证号码格式不正确", code="INVALID_ID_NUMBER")
    try:
        born = id_birth_date(value)
    except ValueError:
        raise InvalidInput("身份证号码中的出生日期无效", code="INVALID_ID_NUMBER") from None
    if born.year < 1900:
        raise InvalidInput("身份证号码中的出生日期无效", code="INVALID_ID_NUMBER")
    if id_check_digit(value[:17]) != value[17]:
        raise InvalidInput("身份证号码校验位错误", code="INVALID_ID_NUMBER")
    return value


def uscc_check_char(first17: str) -> str:
    """GB 32100 check character for the first 17 characters of a credit code."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(raw: str) -> str:
    """Return the canonical unified social credit code or raise INVALID_USCC."""
    value = (raw or "").strip().upper()
    if len(value) != 18 or any(c not in _USCC_ALPHABET for c in value):
        raise InvalidInput("统一社会信用代码格式不正确", code="INVALID_USCC")
    if uscc_check_char(value[:17]) != value[17]:
        raise InvalidInput("统一社会信用代码校验位错误", code="INVALID_USCC")
    return value


def luhn_ok(digits: str) -> bool:
    """True when a digit string passes the Luhn check."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = int(c)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The Luhn check digit that completes a digit string (card numbers we issue in demos)."""
    return next(d for d in "0123456789" if luhn_ok(payload + d))


def normalize_bank_card(raw: str) -> str:
    """Return a bank card number (12-19 digits, Luhn) or raise INVALID_BANK_CARD."""
    value = re.sub(r"\s", "", raw or "")
    if not re.fullmatch(r"[0-9]{12,19}", value) or not luhn_ok(value):
        raise InvalidInput("银行卡号无效", code="INVALID_BANK_CARD")
    return value


def normalize_phone(raw: str) -> str:
    """Return a mainland mobile number or raise INVALID_PHONE."""
    value = (raw or "").strip()
    if not _PHONE.fullmatch(value):
        raise InvalidInput("手机号码格式不正确", code="INVALID_PHONE")
    return value


def mask_id_number(id18: str) -> str:
    """Show only the first 6 and last 4 characters of an ID number (anything shorter than an
    ID number is hidden whole: its ends would be most of it)."""
    if len(id18) < 15:
        return "*" * len(id18)
    return id18[:6] + "*" * (len(id18) - 10) + id18[-4:]


def mask_phone(phone: str) -> str:
    """Show only the first 3 and last 4 digits of a phone number (a short one hidden whole)."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "****" + phone[-4:]


def mask_bank_card(card: str) -> str:
    """Show only the first 4 and last 4 digits of a bank card (a short one hidden whole)."""
    if len(card) < 12:
        return "*" * len(card)
    return card[:4] + "****" + card[-4:]
