"""Payout batch and statement files: exact layout, round trips, and every refusal with its line."""

import hashlib
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpf.exchange.bank_files import (
    MAX_FILE_BYTES,
    BankFileRefused,
    PayoutInstruction,
    StatementLine,
    failure_reason,
    read_batch,
    read_statement,
    write_batch,
    write_statement,
)
from hpf.kit.money import MAX_AMOUNT_FEN

DAY = date(2026, 11, 23)
ITEMS = [
    PayoutInstruction(1, "WD2026000001", "ICBC", "6222020200112233445", "张三", 150_000,
                      "住房公积金提取"),
    PayoutInstruction(2, "WD2026000002", "CCB", "6217000010001234567", "李四", 2_345),
]
HEADER = "H|PAY1|P20261123001|20261123|2|152345|3100001234567890\n"
DETAILS = ("D|1|WD2026000001|ICBC|6222020200112233445|张三|150000|住房公积金提取\n"
           "D|2|WD2026000002|CCB|6217000010001234567|李四|2345|\n")


def _batch() -> bytes:
    return write_batch("P20261123001", DAY, "3100001234567890", ITEMS)


def _signed(body: str, count: int, total: int) -> bytes:
    """`body` closed by a trailer with these control totals and the true hash."""
    digest = hashlib.sha256(body.encode()).hexdigest()
    return f"{body}T|{count}|{total}|{digest}\n".encode()


def _refusal(content: bytes, reader=read_batch) -> BankFileRefused:
    with pytest.raises(BankFileRefused) as caught:
        reader(content)
    assert caught.value.status == 422
    return caught.value


# --- the documented layout -------------------------------------------------------------------

def test_batch_file_is_exactly_the_documented_layout():
    # Count 2; total 150000 + 2345 = 152345 fen; the hash covers header and details.
    content = _batch()
    body = HEADER + DETAILS
    assert content == _signed(body, 2, 152_345)
    assert content.decode().splitlines()[-1] == (
        "T|2|152345|" + hashlib.sha256(body.encode()).hexdigest())


def test_batch_round_trip():
    batch = read_batch(_batch())
    assert (batch.batch_no, batch.created_on, batch.payer_account) == (
        "P20261123001", DAY, "3100001234567890")
    assert batch.items == tuple(ITEMS)
    assert (batch.count, batch.total_fen) == (2, 152_345)


def _statement_lines() -> list[StatementLine]:
    return [
        StatementLine(1, "WD2026000001", "ICBC-P0001", 150_000, "0000", "", DAY),
        StatementLine(2, "WD2026000002", "", 2_345, "1003", failure_reason("1003"), DAY),
    ]


def test_statement_is_exactly_the_documented_layout_and_round_trips():
    content = write_statement("P20261123001", "ICBC", DAY, _statement_lines())
    # 2 records of 152345 fen in all; 1 paid, 150000 fen.
    body = ("H|STM1|P20261123001|ICBC|20261123|2|152345|1|150000\n"
            "D|1|WD2026000001|ICBC-P0001|150000|0000||20261123\n"
            "D|2|WD2026000002||2345|1003|户名与卡号不符|20261123\n")
    assert content == _signed(body, 2, 152_345)
    statement = read_statement(content)
    assert statement.lines == tuple(_statement_lines())
    assert (statement.batch_no, statement.bank_code, statement.statement_date) == (
        "P20261123001", "ICBC", DAY)
    assert (statement.count, statement.total_fen, statement.paid_count, statement.paid_fen) == (
        2, 152_345, 1, 150_000)
    assert [line.succeeded for line in statement.lines] == [True, False]


def test_failure_reasons():
    assert failure_reason("0000") == ""
    assert failure_reason("1001") == "卡号不存在或与开户行不符"
    assert failure_reason("1002") == "账户已销户"
    assert failure_reason("1003") == "户名与卡号不符"
    assert failure_reason("1004") == "账户已冻结"
    assert failure_reason("9999") == "其他原因，交易失败"
    assert failure_reason("7777") == "其他原因，交易失败"


# --- refusals of read_batch, each with its line -----------------------------------------------

@pytest.mark.parametrize(("content", "code", "line"), [
    (b"", "BANK_FILE_MALFORMED", 1),
    (_signed(HEADER + DETAILS, 2, 152_345)[:-1], "BANK_FILE_MALFORMED", 4),  # no final LF
    (HEADER.encode() + b"D|1|WD1|ICBC|6222020200112233445|\xff\xfe|1|\n", "BANK_FILE_MALFORMED",
     2),
    (_signed(HEADER.replace("\n", "\r\n") + DETAILS, 2, 152_345), "BANK_FILE_MALFORMED", 1),
    (_signed(DETAILS, 2, 152_345), "BANK_FILE_MALFORMED", 1),  # no header
    (_signed(HEADER.replace("PAY1", "STM1") + DETAILS, 2, 152_345), "BANK_FILE_MALFORMED", 1),
    (_signed(HEADER.replace("|3100001234567890", "") + DETAILS, 2, 152_345),
     "BANK_FILE_MALFORMED", 1),
    (_signed(HEADER.replace("20261123", "20261131") + DETAILS, 2, 152_345),
     "BANK_FILE_MALFORMED", 1),
    (_signed(HEADER + DETAILS.replace("|2345|", "|2345|x|"), 2, 152_345),
     "BANK_FILE_MALFORMED", 3),  # one field too many
    (_signed(HEADER + DETAILS.replace("|2345|", "|0|"), 2, 150_000), "BANK_FILE_MALFORMED", 3),
    (_signed(HEADER + DETAILS.replace("|2345|", "|-2345|"), 2, 152_345),
     "BANK_FILE_MALFORMED", 3),
    (_signed(HEADER + DETAILS.replace("|2345|", "|23.45|"), 2, 152_345),
     "BANK_FILE_MALFORMED", 3),
    (_signed(HEADER + DETAILS.replace("|2345|", "|02345|"), 2, 152_345),
     "BANK_FILE_MALFORMED", 3),
    (_signed(HEADER + DETAILS.replace("6217000010001234567", "62170000100012345X7"), 2,
             152_345), "BANK_FILE_MALFORMED", 3),
    (_signed(HEADER + DETAILS.replace("|李四|", "||"), 2, 152_345), "BANK_FILE_MALFORMED", 3),
    (_signed(HEADER + DETAILS.replace("D|2|", "D|3|"), 2, 152_345), "BANK_FILE_MALFORMED", 3),
    (_signed(HEADER + DETAILS.replace("WD2026000002", "WD2026000001"), 2, 152_345),
     "BANK_FILE_DUPLICATE", 3),
    (_signed(HEADER + DETAILS.replace("D|2|", "X|2|"), 2, 152_345), "BANK_FILE_MALFORMED", 3),
    ((HEADER + DETAILS).encode(), "BANK_FILE_MALFORMED", 3),  # no trailer
    (_signed(HEADER + DETAILS, 2, 152_345) + b"D|3|WD3|ICBC|6222020200112233445|A|1|\n",
     "BANK_FILE_MALFORMED", 5),  # something after the trailer
    (_signed(HEADER.replace("|2|152345|", "|0|0|"), 0, 0), "BANK_FILE_EMPTY", 2),
    (_signed(HEADER.replace("|2|152345|", "|3|152345|") + DETAILS, 2, 152_345),
     "BANK_FILE_TOTALS", 1),
    (_signed(HEADER.replace("|2|152345|", "|2|152346|") + DETAILS, 2, 152_345),
     "BANK_FILE_TOTALS", 1),
    (_signed(HEADER + DETAILS, 2, 152_344), "BANK_FILE_TOTALS", 4),
    (_signed(HEADER + DETAILS, 1, 152_345), "BANK_FILE_TOTALS", 4),
])
def test_batch_refusals_name_their_line(content, code, line):
    refusal = _refusal(content)
    assert (refusal.code, refusal.details["line"]) == (code, line)
    assert refusal.message.startswith(f"第{line}行：")


def test_field_refusal_names_the_field():
    refusal = _refusal(_signed(HEADER + DETAILS.replace("|2345|", "|-2345|"), 2, 152_345))
    assert refusal.details == {"line": 3, "field": "amount_fen"}
    assert "金额（分）应为1至" in refusal.message


def test_tampered_hash_is_refused():
    content = bytearray(_batch())
    content[-2] = ord("0") if content[-2] != ord("0") else ord("1")  # last hex digit
    refusal = _refusal(bytes(content))
    assert (refusal.code, refusal.details["line"]) == ("BANK_FILE_HASH", 4)


def test_tampered_detail_is_caught_by_the_hash():
    # The amount moved from 2345 to 2346 and the header total along with it: only the hash
    # tells. (A bank would otherwise pay one fen more than the centre approved.)
    content = _batch().replace(b"|2345|", b"|2346|").replace(b"|152345|3100", b"|152346|3100")
    refusal = _refusal(content)
    assert (refusal.code, refusal.details["line"]) == ("BANK_FILE_HASH", 4)


def test_oversized_file_is_refused_before_reading():
    refusal = _refusal(b"H" * (MAX_FILE_BYTES + 1))
    assert refusal.code == "BANK_FILE_TOO_LARGE"


# --- refusals of read_statement ----------------------------------------------------------------

ST_HEADER = "H|STM1|P1|ICBC|20261123|2|152345|1|150000\n"
ST_DETAILS = ("D|1|WD1|ICBC-P0001|150000|0000||20261123\n"
              "D|2|WD2||2345|1003|户名与卡号不符|20261123\n")


@pytest.mark.parametrize(("content", "code", "line"), [
    (_signed(ST_HEADER + ST_DETAILS, 2, 152_345).replace(b"STM1", b"PAY1"),
     "BANK_FILE_MALFORMED", 1),
    (_signed(ST_HEADER + ST_DETAILS.replace("|0000||", "|0000|成功|"), 2, 152_345),
     "BANK_FILE_MALFORMED", 2),  # success with a reason
    (_signed(ST_HEADER + ST_DETAILS.replace("ICBC-P0001", ""), 2, 152_345),
     "BANK_FILE_MALFORMED", 2),  # success without the bank's serial
    (_signed(ST_HEADER + ST_DETAILS.replace("户名与卡号不符", ""), 2, 152_345),
     "BANK_FILE_MALFORMED", 3),  # failure without a reason
    (_signed(ST_HEADER + ST_DETAILS.replace("|1003|", "|13|"), 2, 152_345),
     "BANK_FILE_MALFORMED", 3),
    (_signed(ST_HEADER + ST_DETAILS.replace("|20261123\nD|2", "|2026-11-23\nD|2"), 2,
             152_345), "BANK_FILE_MALFORMED", 2),
    (_signed(ST_HEADER.replace("|1|150000", "|2|152345") + ST_DETAILS, 2, 152_345),
     "BANK_FILE_TOTALS", 1),  # claims both paid
    (_signed(ST_HEADER + ST_DETAILS, 2, 152_000), "BANK_FILE_TOTALS", 4),
    (_signed(ST_HEADER + ST_DETAILS, 2, 152_345).replace(b"|150000|0000", b"|150001|0000"),
     "BANK_FILE_HASH", 4),
])
def test_statement_refusals_name_their_line(content, code, line):
    refusal = _refusal(content, read_statement)
    assert (refusal.code, refusal.details["line"]) == (code, line)


def test_statement_reads_unknown_failure_codes_as_unpaid():
    body = ST_HEADER + ST_DETAILS.replace("|1003|户名与卡号不符|", "|8001|行内风控拦截|")
    line = read_statement(_signed(body, 2, 152_345)).lines[1]
    assert (line.result_code, line.reason, line.succeeded) == ("8001", "行内风控拦截", False)


# --- refusals of the writers -------------------------------------------------------------------

def _item(**changes) -> PayoutInstruction:
    values = dict(seq=1, reference="WD1", bank_code="ICBC", card_no="6222020200112233445",
                  account_name="张三", amount_fen=100, memo="")
    values.update(changes)
    return PayoutInstruction(**values)


@pytest.mark.parametrize(("items", "code", "field"), [
    ([], "BANK_FILE_EMPTY", None),
    ([_item(seq=2)], "BANK_FILE_MALFORMED", "seq"),
    ([_item(), _item(seq=2)], "BANK_FILE_DUPLICATE", None),
    ([_item(account_name="张|三")], "BANK_FILE_MALFORMED", "account_name"),
    ([_item(account_name="张三\n")], "BANK_FILE_MALFORMED", "account_name"),
    ([_item(account_name=" 张三")], "BANK_FILE_MALFORMED", "account_name"),
    ([_item(memo="x" * 61)], "BANK_FILE_MALFORMED", "memo"),
    ([_item(amount_fen=0)], "BANK_FILE_MALFORMED", "amount_fen"),
    ([_item(amount_fen=-1)], "BANK_FILE_MALFORMED", "amount_fen"),
    ([_item(amount_fen=True)], "BANK_FILE_MALFORMED", "amount_fen"),
    ([_item(amount_fen=1.5)], "BANK_FILE_MALFORMED", "amount_fen"),
    ([_item(amount_fen=MAX_AMOUNT_FEN + 1)], "BANK_FILE_MALFORMED", "amount_fen"),
    ([_item(card_no="6222 0202 0011")], "BANK_FILE_MALFORMED", "card_no"),
    ([_item(bank_code="icbc")], "BANK_FILE_MALFORMED", "bank_code"),
    ([_item(reference="WD/1")], "BANK_FILE_MALFORMED", "reference"),
])
def test_write_batch_refusals(items, code, field):
    with pytest.raises(BankFileRefused) as caught:
        write_batch("P1", DAY, "3100001234567890", items)
    assert caught.value.code == code
    assert caught.value.details.get("field") == field


@pytest.mark.parametrize(("batch_no", "created_on", "payer", "field"), [
    ("P 1", DAY, "3100001234567890", "batch_no"),
    ("P1", datetime(2026, 11, 23, 9, 0), "3100001234567890", "created_on"),
    ("P1", DAY, "31000", "payer_account"),
])
def test_write_batch_header_refusals(batch_no, created_on, payer, field):
    with pytest.raises(BankFileRefused) as caught:
        write_batch(batch_no, created_on, payer, [_item()])
    assert (caught.value.code, caught.value.details["field"]) == ("BANK_FILE_MALFORMED", field)


@pytest.mark.parametrize("line", [
    StatementLine(1, "WD1", "T1", 100, "0000", "成功", DAY),
    StatementLine(1, "WD1", "", 100, "0000", "", DAY),
    StatementLine(1, "WD1", "T1", 100, "1003", "", DAY),
])
def test_write_statement_refuses_contradicting_results(line):
    with pytest.raises(BankFileRefused) as caught:
        write_statement("P1", "ICBC", DAY, [line])
    assert (caught.value.code, caught.value.details["field"]) == (
        "BANK_FILE_MALFORMED", "result_code")


# --- property: whatever valid items go in come back out ----------------------------------------

_safe_text = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"),
                           exclude_characters="|")
_token = st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True)


def _stripped(min_size: int, max_size: int):
    return st.text(_safe_text, min_size=min_size, max_size=max_size).filter(
        lambda s: s == s.strip())


@st.composite
def _items(draw):
    n = draw(st.integers(1, 12))
    references = draw(st.lists(_token, min_size=n, max_size=n, unique=True))
    return [PayoutInstruction(
        seq=i + 1, reference=references[i],
        bank_code=draw(st.from_regex(r"[A-Z0-9]{2,8}", fullmatch=True)),
        card_no=draw(st.from_regex(r"[0-9]{12,19}", fullmatch=True)),
        account_name=draw(_stripped(1, 50)),
        amount_fen=draw(st.integers(1, MAX_AMOUNT_FEN)),
        memo=draw(_stripped(0, 60))) for i in range(n)]


@settings(max_examples=150, deadline=None)
@given(items=_items(), batch_no=_token, created_on=st.dates(),
       payer=st.from_regex(r"[0-9]{6,32}", fullmatch=True))
def test_write_then_read_returns_the_same_items(items, batch_no, created_on, payer):
    batch = read_batch(write_batch(batch_no, created_on, payer, items))
    assert batch.items == tuple(items)
    assert (batch.batch_no, batch.created_on, batch.payer_account) == (batch_no, created_on,
                                                                       payer)
    assert batch.total_fen == sum(item.amount_fen for item in items)


@settings(max_examples=100, deadline=None)
@given(items=_items(), paid=st.lists(st.booleans(), min_size=12, max_size=12),
       day=st.dates())
def test_statement_write_then_read_returns_the_same_lines(items, paid, day):
    lines = [StatementLine(item.seq, item.reference, f"T{item.seq}" if ok else "",
                           item.amount_fen, "0000" if ok else "1002",
                           "" if ok else "账户已销户", day)
             for item, ok in zip(items, paid, strict=False)]
    statement = read_statement(write_statement("P1", "ICBC", day, lines))
    assert statement.lines == tuple(lines)
    assert statement.paid_fen == sum(line.amount_fen for line in lines if line.succeeded)


def test_the_documented_examples_read():
    doc = (Path(__file__).resolve().parents[3] / "docs" / "bank-files.md").read_text("utf-8")
    blocks = [block.split("```")[0].lstrip("\n") for block in doc.split("```text")[1:]]
    batch = read_batch(blocks[0].encode())
    statement = read_statement(blocks[1].encode())
    assert (batch.count, batch.total_fen) == (2, 152_345)
    assert [item.reference for item in batch.items] == [line.reference for line in statement.lines]
    assert (statement.paid_count, statement.paid_fen) == (1, 150_000)
    assert statement.lines[1].reason == failure_reason(statement.lines[1].result_code)
