"""Golden cases for the identifier validators (domain-rules §1).

Every check character below was computed by hand; the arithmetic is in the comments so that a
reviewer can redo it with pencil and paper instead of trusting the code under test.
"""

import contextlib
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpf.kit.errors import InvalidInput
from hpf.kit.ids import (
    id_birth_date,
    id_check_digit,
    id_is_male,
    luhn_ok,
    mask_id_number,
    mask_phone,
    normalize_bank_card,
    normalize_id_number,
    normalize_phone,
    normalize_uscc,
    upgrade_id15,
    uscc_check_char,
)

# --- Resident ID number (GB 11643) ------------------------------------------------------------
# weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2; sum mod 11 indexes "1 0 X 9 8 7 6 5 4 3 2".

# 11010519491231002X
#   digits   1  1  0  1  0  5  1  9  4  9  1  2  3  1  0  0  2
#   weights  7  9 10  5  8  4  2  1  6  3  7  9 10  5  8  4  2
#   products 7  9  0  5  0 20  2  9 24 27  7 18 30  5  0  0  4  -> sum 167
#   167 mod 11 = 167 - 165 = 2 -> "10X98765432"[2] = X.  Born 1949-12-31, digit 17 = 2: female.
ID_1949 = "11010519491231002X"

# 530123199907242329 (seed document)
#   digits    5  3  0  1  2  3  1  9  9  9  0  7  2  4  2  3  2
#   products 35 27  0  5 16 12  2  9 54 27  0 63 20 20 16 12  4  -> sum 322
#   322 mod 11 = 322 - 319 = 3 -> "10X98765432"[3] = 9; the number ends in 9, so it is VALID.
#   Born 1999-07-24, digit 17 = 2: female.
ID_SEED = "530123199907242329"

# 11010119900307123?
#   digits   1  1  0  1  0  1  1  9  9  0  0  3  0  7  1  2  3
#   products 7  9  0  5  0  4  2  9 54  0  0 27  0 35  8  8  6  -> sum 174
#   174 mod 11 = 174 - 165 = 9 -> "10X98765432"[9] = 3.  Born 1990-03-07, digit 17 = 3: male.
ID_1990 = "110101199003071233"

# 15-digit upgrade (升位) of 130503670401001: insert "19" after digit 6 -> 13050319670401001
#   digits   1  3  0  5  0  3  1  9  6  7  0  4  0  1  0  0  1
#   products 7 27  0 25  0 12  2  9 36 21  0 36  0  5  0  0  2  -> sum 182
#   182 mod 11 = 182 - 176 = 6 -> "10X98765432"[6] = 6.  Born 1967-04-01, digit 17 = 1: male.
ID15 = "130503670401001"
ID15_UPGRADED = "130503196704010016"

# 53012319990230232? (30 February: impossible date, but with a correct check digit so that only
# the date can be the reason for refusal)
#   digits    5  3  0  1  2  3  1  9  9  9  0  2  3  0  2  3  2
#   products 35 27  0  5 16 12  2  9 54 27  0 18 30  0 16 12  4  -> sum 267
#   267 mod 11 = 267 - 264 = 3 -> 9
ID_FEB30 = "530123199902302329"

# 11010518991231002? (born 1899: before 1900)
#   digits   1  1  0  1  0  5  1  8  9  9  1  2  3  1  0  0  2
#   products 7  9  0  5  0 20  2  8 54 27  7 18 30  5  0  0  4  -> sum 196
#   196 mod 11 = 196 - 187 = 9 -> 3
ID_1899 = "110105189912310023"


@pytest.mark.parametrize(
    ("number", "check", "born", "male"),
    [
        (ID_1949, "X", date(1949, 12, 31), False),
        (ID_SEED, "9", date(1999, 7, 24), False),
        (ID_1990, "3", date(1990, 3, 7), True),
        (ID15_UPGRADED, "6", date(1967, 4, 1), True),
    ],
)
def test_valid_id_numbers(number: str, check: str, born: date, male: bool) -> None:
    assert id_check_digit(number[:17]) == check
    assert normalize_id_number(number) == number
    assert id_birth_date(number) == born
    assert id_is_male(number) is male


def test_id_check_digit_for_hand_computed_invalid_cases() -> None:
    # The refusals below must come from the date, not from the check digit.
    assert id_check_digit(ID_FEB30[:17]) == "9"
    assert id_check_digit(ID_1899[:17]) == "3"


def test_lowercase_x_is_accepted_and_uppercased() -> None:
    assert normalize_id_number("11010519491231002x") == ID_1949


def test_surrounding_whitespace_is_stripped() -> None:
    assert normalize_id_number("  11010519491231002X \n") == ID_1949


def test_upgrade_15_digit_worked_example() -> None:
    assert upgrade_id15(ID15) == ID15_UPGRADED
    assert normalize_id_number(ID15) == ID15_UPGRADED


@pytest.mark.parametrize(
    "raw",
    [
        "110101199003071234",  # check digit should be 3 (see ID_1990)
        "11010519491231002Y",  # letter other than X
        "110105194912310029",  # 9 where X is due
        "530123199907242320",  # seed number with the check digit altered
        ID_FEB30,  # 1999-02-30 does not exist
        "110101199013011234",  # month 13
        "110101199000001234",  # month 00 / day 00
        ID_1899,  # year < 1900
        "11010519491231002",  # 17 characters
        "1101051949123100",  # 16 characters
        "11010519491231002X1",  # 19 characters
        "1101051949123100XX",  # X not in the last position
        "11010A19491231002X",  # letter in the region code
        "X10105194912310022",
        "13050367040100X",  # 15 characters with a letter
        "130503670230001",  # 15-digit form with 1967-02-30
        "",
        "   ",
    ],
)
def test_invalid_id_numbers_raise_invalid_id_number(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_id_number(raw)
    assert caught.value.code == "INVALID_ID_NUMBER"
    assert caught.value.status == 422


def test_none_id_number_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_id_number(None)  # type: ignore[arg-type]
    assert caught.value.code == "INVALID_ID_NUMBER"


def test_full_width_digits_are_not_returned_as_canonical() -> None:
    # Chinese input methods often produce full-width digits. The canonical form must be the
    # ASCII one (or the input must be refused); otherwise the same person can be stored twice.
    full_width = "１１０１０５１９４９１２３１００２X"
    try:
        result = normalize_id_number(full_width)
    except InvalidInput:
        return
    assert result == ID_1949


_MOD11_VALUE = {**{str(i): i for i in range(10)}, "X": 10}


@given(
    region=st.integers(100000, 999999),
    born=st.dates(date(1900, 1, 1), date(2099, 12, 31)),
    seq=st.integers(0, 999),
)
def test_exactly_one_check_character_is_accepted(region: int, born: date, seq: int) -> None:
    # ISO 7064 MOD 11-2, stated without the lookup table: with the 18th character weighted 1
    # and X = 10, Σ a_i·W_i ≡ 1 (mod 11), where W_i = 2^(18-i) mod 11.
    first17 = f"{region:06d}{born:%Y%m%d}{seq:03d}"
    accepted = []
    for candidate in "0123456789X":
        with contextlib.suppress(InvalidInput):
            accepted.append(normalize_id_number(first17 + candidate))
    assert len(accepted) == 1
    number = accepted[0]
    total = sum(_MOD11_VALUE[c] * pow(2, 17 - i, 11) for i, c in enumerate(number))
    assert total % 11 == 1
    assert id_birth_date(number) == born


# --- Unified social credit code (GB 32100) ------------------------------------------------------
# alphabet 0-9 -> 0-9, A10 B11 C12 D13 E14 F15 G16 H17 J18 K19 L20 M21 N22 P23 Q24 R25 T26 U27
#          W28 X29 Y30  (no I, O, S, V, Z)
# weights  1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28; check = (31 - sum mod 31) mod 31

# 91350100M000100Y43
#   chars    9  1  3   5  0  1  0  0   M  0  0  0  1  0  0   Y   4
#   values   9  1  3   5  0  1  0  0  21  0  0  0  1  0  0  30   4
#   products 9  3 27 135  0 26  0  0 420  0  0  0  8  0  0 900 112  -> sum 1640
#   1640 mod 31 = 1640 - 1612 = 28; 31 - 28 = 3 -> "3"
USCC_FUJIAN = "91350100M000100Y43"

# 91110108MA0123456?
#   chars    9  1  1  1  0  1  0   8   M   A  0  1  2  3  4   5   6
#   values   9  1  1  1  0  1  0   8  21  10  0  1  2  3  4   5   6
#   products 9  3  9 27  0 26  0 136 420 290  0 13 16 72 40 150 168  -> sum 1379
#   1379 mod 31 = 1379 - 1364 = 15; 31 - 15 = 16 -> "G"
USCC_G = "91110108MA0123456G"

# 91110108MA012345B?: same first 16 characters (partial sum 1379 - 168 = 1211), last char
#   B = 11, 11 * 28 = 308 -> sum 1519 = 31 * 49, mod 31 = 0; (31 - 0) mod 31 = 0 -> "0"
USCC_0 = "91110108MA012345B0"

# 91110108MA012345M?: M = 21, 21 * 28 = 588 -> sum 1799 = 31 * 58 + 1; 31 - 1 = 30 -> "Y"
USCC_Y = "91110108MA012345MY"


@pytest.mark.parametrize(
    ("code", "check"),
    [(USCC_FUJIAN, "3"), (USCC_G, "G"), (USCC_0, "0"), (USCC_Y, "Y")],
)
def test_valid_uscc(code: str, check: str) -> None:
    assert uscc_check_char(code[:17]) == check
    assert normalize_uscc(code) == code


def test_uscc_lowercase_and_whitespace_are_normalized() -> None:
    assert normalize_uscc(" 91350100m000100y43 ") == USCC_FUJIAN
    assert normalize_uscc("91110108ma012345my") == USCC_Y


@pytest.mark.parametrize(
    "raw",
    [
        "91350100M000100Y44",  # check should be 3
        "91350100M000100Y4Y",
        "91110108MA0123456H",  # check should be G
        "91110108MA012345B1",  # check should be 0
        "91110108MA012345MX",  # check should be Y
        # letters outside the alphabet, anywhere
        "91350100I000100Y43",
        "91350100O000100Y43",
        "91350100Z000100Y43",
        "91350100S000100Y43",
        "91350100V000100Y43",
        "91350100M000100Y4I",
        "91350100M000100Y4O",
        "91350100M000100Y4Z",
        "91350100M000100Y4S",
        "91350100M000100Y4V",
        # lengths and other characters
        "91350100M000100Y4",
        "91350100M000100Y433",
        "91350100M000100Y-3",
        "",
    ],
)
def test_invalid_uscc_raise_invalid_uscc(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_uscc(raw)
    assert caught.value.code == "INVALID_USCC"


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@given(st.text(alphabet=_USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_exactly_one_check_char_and_sum_is_multiple_of_31(first17: str) -> None:
    # check = (31 - s mod 31) mod 31 is the same as: s + value(check) ≡ 0 (mod 31).
    weights = [pow(3, i, 31) for i in range(17)]  # 1 3 9 27 19 26 16 ... as in GB 32100
    accepted = []
    for c in _USCC_ALPHABET:
        with contextlib.suppress(InvalidInput):
            accepted.append(normalize_uscc(first17 + c))
    assert len(accepted) == 1
    code = accepted[0]
    total = sum(_USCC_ALPHABET.index(ch) * w for ch, w in zip(code, weights, strict=False))
    assert (total + _USCC_ALPHABET.index(code[17])) % 31 == 0


def test_uscc_weights_are_powers_of_3_mod_31() -> None:
    # Sanity check of the statement used in the property above against the spec's list.
    assert [pow(3, i, 31) for i in range(17)] == [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ]


# --- Bank cards (Luhn) ---------------------------------------------------------------------------
# 622848001234567890? (19 digits). From the right of the 18-digit payload, double every other
# digit starting with the rightmost payload digit (subtract 9 when the double exceeds 9):
#   payload reversed 0 9 8 7 6 5 4 3 2 1 0 0 8 4 8 2 2 6
#   after doubling   0 9 7 7 3 5 8 3 4 1 0 0 7 4 7 2 4 6  -> sum 77
#   check = (10 - 77 mod 10) mod 10 = 3
CARD_19 = "6228480012345678903"
# 621226000000000?: reversed payload 0 0 0 0 0 0 0 0 0 6 2 2 1 2 6
#   after doubling 0 0 0 0 0 0 0 0 0 6 4 2 2 2 3 -> sum 19 -> check 1
CARD_16 = "6212260000000001"


@pytest.mark.parametrize("card", [CARD_19, CARD_16, "4111111111111111", "79927398713"])
def test_luhn_valid(card: str) -> None:
    assert luhn_ok(card)


@pytest.mark.parametrize(
    "card", ["6228480012345678904", "6212260000000000", "4111111111111112", "79927398710"]
)
def test_luhn_invalid(card: str) -> None:
    assert not luhn_ok(card)


def test_normalize_bank_card_accepts_grouped_digits() -> None:
    assert normalize_bank_card("6228 4800 1234 5678 903") == CARD_19
    assert normalize_bank_card(CARD_16) == CARD_16


@pytest.mark.parametrize(
    "raw",
    [
        "6228480012345678904",  # wrong check digit
        "79927398713",  # Luhn-valid but only 11 digits
        "62284800123456789030",  # 20 digits
        "6228-4800-1234-5678-903",
        "622848001234567890A",
        "",
    ],
)
def test_normalize_bank_card_refuses(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_bank_card(raw)
    assert caught.value.code == "INVALID_BANK_CARD"


@given(st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_luhn_exactly_one_check_digit(payload: str) -> None:
    valid = [d for d in "0123456789" if luhn_ok(payload + d)]
    assert len(valid) == 1
    # Independent formulation: the doubled-digit string sums to a multiple of 10.
    number = payload + valid[0]
    doubled = "".join(
        str(int(c) * 2) if i % 2 == 1 else c for i, c in enumerate(reversed(number))
    )
    assert sum(int(c) for c in doubled) % 10 == 0


# --- Phones and masking --------------------------------------------------------------------------
@pytest.mark.parametrize("phone", ["13800138000", "19912345678", "15000000000", " 17712345678 "])
def test_valid_phones(phone: str) -> None:
    assert normalize_phone(phone) == phone.strip()


@pytest.mark.parametrize(
    "phone",
    [
        "12345678901",  # second digit 2
        "10012345678",
        "1380013800",  # 10 digits
        "138001380000",  # 12 digits
        "+8613800138000",
        "23800138000",
        "138-0013-8000",
        "1380013800a",
        "",
    ],
)
def test_invalid_phones(phone: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_phone(phone)
    assert caught.value.code == "INVALID_PHONE"


def test_masking() -> None:
    assert mask_id_number(ID_1949) == "110105********002X"
    assert mask_id_number(ID_SEED) == "530123********2329"
    assert mask_phone("13800138000") == "138****8000"
    # The birth date must not survive masking.
    assert "19491231" not in mask_id_number(ID_1949)
    # Something shorter than an ID number or a phone is hidden whole, not echoed.
    assert mask_id_number("ab") == "**" and mask_id_number("5301999999") == "*" * 10
    assert mask_phone("12329") == "*****"
