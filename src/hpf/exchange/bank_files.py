"""Payout batch files and statements exchanged with commissioned banks (guideline §4.3).

A withdrawal is paid as one detail record of a payout batch file (代发批量文件) the centre sends
to a bank; the bank answers with a statement file (回盘/对账文件) giving each record's result.
Both are UTF-8 text, one `|`-delimited record per line ending in LF: a header record (H), the
detail records (D) and a trailer (T) carrying the control totals and the SHA-256 of every byte
before it. docs/bank-files.md documents the formats field by field.

Everything here is pure: no database, no files, no network. Reading checks, in this order, the
encoding and record layout, each field, the hash, then the control totals; the first failure
is refused with a code and the 1-based line number (`details["line"]`).
"""

import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hpf.kit.errors import InvalidInput
from hpf.kit.money import MAX_AMOUNT_FEN

BATCH_FORMAT = "PAY1"
STATEMENT_FORMAT = "STM1"

# Upper bounds on what one file may hold (a bank splits larger runs into several batches).
MAX_ITEMS = 100_000
MAX_FILE_BYTES = 32 * 1024 * 1024

SUCCESS = "0000"
CARD_INVALID = "1001"
CARD_CLOSED = "1002"
NAME_MISMATCH = "1003"
ACCOUNT_FROZEN = "1004"
OTHER_FAILURE = "9999"

# Result codes a bank returns for a payout record, with the reason it prints beside them.
# Banks may send other four-character codes: every code but SUCCESS means "not paid".
FAILURE_REASONS: dict[str, str] = {
    CARD_INVALID: "卡号不存在或与开户行不符",
    CARD_CLOSED: "账户已销户",
    NAME_MISMATCH: "户名与卡号不符",
    ACCOUNT_FROZEN: "账户已冻结",
    OTHER_FAILURE: "其他原因，交易失败",
}

SEPARATOR = "|"


class BankFileRefused(InvalidInput):
    """A batch or statement file that breaks the documented format (details carry the line)."""

    code = "BANK_FILE_MALFORMED"
    message = "银行文件格式有误"


@dataclass(frozen=True)
class PayoutInstruction:
    """One payout record (D) of a batch: pay amount_fen to this card for our reference."""

    seq: int
    reference: str  # our application number (业务编号)
    bank_code: str  # the card's bank (收款行)
    card_no: str
    account_name: str  # the card holder's name (户名)
    amount_fen: int
    memo: str = ""


@dataclass(frozen=True)
class Batch:
    """A payout batch file as read back: header fields and its payout records in order."""

    batch_no: str
    created_on: date
    payer_account: str  # the centre's settlement account (付款账号)
    items: tuple[PayoutInstruction, ...]

    @property
    def count(self) -> int:
        """Number of payout records."""
        return len(self.items)

    @property
    def total_fen(self) -> int:
        """Sum of the records' amounts."""
        return sum(item.amount_fen for item in self.items)


@dataclass(frozen=True)
class StatementLine:
    """The bank's result for one payout record."""

    seq: int
    reference: str
    bank_txn_id: str  # the bank's serial; may be empty only on a failed record
    amount_fen: int
    result_code: str  # SUCCESS ('0000') or a failure code (FAILURE_REASONS)
    reason: str  # empty on success, the bank's reason text on failure
    value_date: date  # date credited (success) or processed (failure)

    @property
    def succeeded(self) -> bool:
        """True when the money reached the card."""
        return self.result_code == SUCCESS


@dataclass(frozen=True)
class Statement:
    """A statement file as read back: which bank answered which batch, line by line."""

    batch_no: str
    bank_code: str
    statement_date: date
    lines: tuple[StatementLine, ...]

    @property
    def count(self) -> int:
        """Number of result records."""
        return len(self.lines)

    @property
    def total_fen(self) -> int:
        """Sum of all records' amounts, paid or not."""
        return sum(line.amount_fen for line in self.lines)

    @property
    def paid_count(self) -> int:
        """Number of records paid."""
        return sum(1 for line in self.lines if line.succeeded)

    @property
    def paid_fen(self) -> int:
        """Sum of the amounts paid."""
        return sum(line.amount_fen for line in self.lines if line.succeeded)


def failure_reason(result_code: str) -> str:
    """The Chinese reason for a bank result code ('' for success)."""
    if result_code == SUCCESS:
        return ""
    return FAILURE_REASONS.get(result_code, FAILURE_REASONS[OTHER_FAILURE])


# --- fields ---------------------------------------------------------------------------------

class _BadField(Exception):
    """A field value that breaks its rule; the caller adds where it was found."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field
        self.text = text


_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_BANK_RE = re.compile(r"[A-Z0-9]{2,8}")
_CARD_RE = re.compile(r"[0-9]{12,19}")
_ACCOUNT_RE = re.compile(r"[0-9]{6,32}")
_TXN_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")
_RESULT_RE = re.compile(r"[0-9A-Z]{4}")
_DATE_RE = re.compile(r"[0-9]{8}")
_COUNT_RE = re.compile(r"0|[1-9][0-9]{0,17}")
_HASH_RE = re.compile(r"[0-9a-f]{64}")


def _pattern(field: str, label: str, regex: re.Pattern[str], rule: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not regex.fullmatch(value):
            raise _BadField(field, f"{label}应为{rule}")
        return value
    return parse


def _text(field: str, label: str, min_chars: int, max_chars: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not min_chars <= len(value) <= max_chars:
            raise _BadField(field, f"{label}长度应为{min_chars}至{max_chars}个字符")
        if SEPARATOR in value or any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")
                                     for c in value):
            raise _BadField(field, f"{label}不能含有分隔符“|”或控制字符")
        if value != value.strip():
            raise _BadField(field, f"{label}首尾不能有空白")
        return value
    return parse


def _integer(field: str, label: str, minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not _COUNT_RE.fullmatch(value) or not minimum <= int(value) <= maximum:
            raise _BadField(field, f"{label}应为{minimum}至{maximum}之间不带符号的整数")
        return int(value)
    return parse


def _day(field: str, label: str) -> Callable[[str], date]:
    def parse(value: str) -> date:
        try:
            if not _DATE_RE.fullmatch(value):
                raise ValueError(value)
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise _BadField(field, f"{label}应为有效日期（YYYYMMDD）") from None
    return parse


_MAX_TOTAL_FEN = MAX_ITEMS * MAX_AMOUNT_FEN

_batch_no = _pattern("batch_no", "批次号", _NAME_RE, "1至32位字母、数字、“-”或“_”")
_reference = _pattern("reference", "业务编号", _NAME_RE, "1至32位字母、数字、“-”或“_”")
_bank_code = _pattern("bank_code", "银行代码", _BANK_RE, "2至8位大写字母或数字")
_card_no = _pattern("card_no", "卡号", _CARD_RE, "12至19位数字")
_payer_account = _pattern("payer_account", "付款账号", _ACCOUNT_RE, "6至32位数字")
_txn_id = _pattern("bank_txn_id", "银行流水号", _TXN_RE, "1至40位字母、数字、“-”或“_”")
_result_code = _pattern("result_code", "结果码", _RESULT_RE, "4位数字或大写字母")
_hash = _pattern("sha256", "校验值", _HASH_RE, "64位小写十六进制SHA-256")
_account_name = _text("account_name", "户名", 1, 50)
_memo = _text("memo", "附言", 0, 60)
_reason = _text("reason", "原因", 0, 60)
_seq = _integer("seq", "序号", 1, MAX_ITEMS)
_amount = _integer("amount_fen", "金额（分）", 1, MAX_AMOUNT_FEN)
# Zero is well-formed in the control totals so that an empty file is refused as such.
_count = _integer("count", "笔数", 0, MAX_ITEMS)
_total = _integer("total_fen", "总金额（分）", 0, _MAX_TOTAL_FEN)
_paid_count = _integer("paid_count", "成功笔数", 0, MAX_ITEMS)
_paid_total = _integer("paid_fen", "成功金额（分）", 0, _MAX_TOTAL_FEN)
_created_on = _day("created_on", "日期")
_statement_date = _day("statement_date", "对账日期")
_value_date = _day("value_date", "入账日期")


def _field_text(value: Any) -> str:
    """A typed value as the text a record holds (dates YYYYMMDD, integers plain)."""
    if isinstance(value, bool):
        return repr(value)  # never a valid field: True must not pass as 1
    if isinstance(value, datetime):
        return value.isoformat()  # a moment is not a date: refused by the date rule
    if isinstance(value, date):
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"  # strftime drops zeros before 1000
    return str(value)


# --- reading ----------------------------------------------------------------------------------

def _refuse(line: int, text: str, code: str = "BANK_FILE_MALFORMED", **details: Any) -> BankFileRefused:
    return BankFileRefused(f"第{line}行：{text}", code=code, line=line, **details)


def _records(content: bytes, kind: str) -> list[list[str]]:
    """Split a file into records of fields, checking encoding and line endings."""
    if not isinstance(content, bytes | bytearray):
        raise _refuse(1, f"{kind}内容应为字节串")
    if len(content) > MAX_FILE_BYTES:
        raise BankFileRefused(f"{kind}超过{MAX_FILE_BYTES}字节", code="BANK_FILE_TOO_LARGE",
                              line=1)
    if not content:
        raise _refuse(1, f"{kind}为空")
    raw_lines = bytes(content).split(b"\n")
    if raw_lines[-1] != b"":
        raise _refuse(len(raw_lines), "最后一行缺少换行符")
    records = []
    for number, raw in enumerate(raw_lines[:-1], start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse(number, "不是有效的UTF-8编码") from None
        if "\r" in text:
            raise _refuse(number, "行尾应为LF，不能含回车符")
        records.append(text.split(SEPARATOR))
    return records


def _parse(number: int, fields: list[str],
           parsers: Sequence[Callable[[str], Any]]) -> list[Any]:
    """Parse one record's fields after its type; the count must match exactly."""
    if len(fields) != len(parsers) + 1:
        raise _refuse(number, f"记录{fields[0]}应有{len(parsers) + 1}个字段，实有{len(fields)}个")
    try:
        return [parse(value) for parse, value in zip(parsers, fields[1:], strict=True)]
    except _BadField as bad:
        raise _refuse(number, bad.text, field=bad.field) from None


_TRAILER = (_count, _total, _hash)


def _read(content: bytes, kind: str, fmt: str, header_parsers: Sequence[Callable[[str], Any]],
          detail_parsers: Sequence[Callable[[str], Any]],
          ) -> tuple[list[Any], list[tuple[int, list[Any]]], list[Any]]:
    """The layout shared by both files: H, D..., T with hash; fields parsed, totals unchecked."""
    records = _records(content, kind)
    if records[0][0] != "H":
        raise _refuse(1, "首行应为头记录H")
    if len(records[0]) < 2 or records[0][1] != fmt:
        raise _refuse(1, f"文件格式标识应为{fmt}", field="format")
    header = _parse(1, records[0], (str, *header_parsers))[1:]
    details: list[tuple[int, list[Any]]] = []
    seen: set[str] = set()
    index = 1
    while index < len(records) and records[index][0] == "D":
        number = index + 1
        if len(details) == MAX_ITEMS:
            raise BankFileRefused(f"第{number}行：明细超过{MAX_ITEMS}笔",
                                  code="BANK_FILE_TOO_LARGE", line=number)
        values = _parse(number, records[index], detail_parsers)
        if values[0] != len(details) + 1:
            raise _refuse(number, f"序号应为{len(details) + 1}", field="seq")
        if values[1] in seen:
            raise _refuse(number, f"业务编号{values[1]}重复", code="BANK_FILE_DUPLICATE",
                          field="reference")
        seen.add(values[1])
        details.append((number, values))
        index += 1
    if index == len(records):
        raise _refuse(len(records), "缺少尾记录T")
    trailer_line = index + 1
    if records[index][0] != "T":
        raise _refuse(trailer_line, "记录类型应为D或T", field="type")
    trailer = _parse(trailer_line, records[index], _TRAILER)
    if index + 1 < len(records):
        raise _refuse(trailer_line + 1, "尾记录T之后不应再有内容")
    if not details:
        raise _refuse(trailer_line, "文件没有明细记录", code="BANK_FILE_EMPTY")
    body_bytes = bytes(content)[:len(content) - len(SEPARATOR.join(records[index]).encode()) - 1]
    if hashlib.sha256(body_bytes).hexdigest() != trailer[2]:
        raise _refuse(trailer_line, "校验值与文件内容不符，文件可能被篡改", code="BANK_FILE_HASH")
    return header, details, trailer


def _check_totals(header_count: int, header_total: int, trailer: list[Any], count: int,
                  total: int, trailer_line: int) -> None:
    if (header_count, header_total) != (count, total):
        raise _refuse(1, f"头记录笔数/金额{header_count}/{header_total}与明细{count}/{total}不符",
                      code="BANK_FILE_TOTALS")
    if (trailer[0], trailer[1]) != (count, total):
        raise _refuse(trailer_line,
                      f"尾记录笔数/金额{trailer[0]}/{trailer[1]}与明细{count}/{total}不符",
                      code="BANK_FILE_TOTALS")


_BATCH_HEADER = (_batch_no, _created_on, _count, _total, _payer_account)
_BATCH_DETAIL = (_seq, _reference, _bank_code, _card_no, _account_name, _amount, _memo)


def read_batch(content: bytes) -> Batch:
    """Read and check a payout batch file; any fault is a BankFileRefused with its line."""
    header, details, trailer = _read(content, "批量文件", BATCH_FORMAT, _BATCH_HEADER,
                                     _BATCH_DETAIL)
    batch_no, created_on, count, total, payer_account = header
    items = tuple(PayoutInstruction(*values) for _, values in details)
    trailer_line = details[-1][0] + 1
    _check_totals(count, total, trailer, len(items), sum(i.amount_fen for i in items),
                  trailer_line)
    return Batch(batch_no, created_on, payer_account, items)


_STATEMENT_HEADER = (_batch_no, _bank_code, _statement_date, _count, _total, _paid_count,
                     _paid_total)
_STATEMENT_DETAIL = (_seq, _reference, lambda v: v if v == "" else _txn_id(v), _amount,
                     _result_code, _reason, _value_date)


def _check_result(line: StatementLine) -> str | None:
    """Why a result record contradicts itself, or None."""
    if line.succeeded:
        if not line.bank_txn_id:
            return "成功记录应有银行流水号"
        if line.reason:
            return "成功记录的原因应为空"
    elif not line.reason:
        return "失败记录应写明原因"
    return None


def read_statement(content: bytes) -> Statement:
    """Read and check a statement file; any fault is a BankFileRefused with its line."""
    header, details, trailer = _read(content, "对账文件", STATEMENT_FORMAT, _STATEMENT_HEADER,
                                     _STATEMENT_DETAIL)
    batch_no, bank_code, statement_date, count, total, paid_count, paid_fen = header
    lines = []
    for number, values in details:
        line = StatementLine(*values)
        fault = _check_result(line)
        if fault:
            raise _refuse(number, fault, field="result_code")
        lines.append(line)
    statement = Statement(batch_no, bank_code, statement_date, tuple(lines))
    trailer_line = details[-1][0] + 1
    _check_totals(count, total, trailer, statement.count, statement.total_fen, trailer_line)
    if (paid_count, paid_fen) != (statement.paid_count, statement.paid_fen):
        raise _refuse(1, f"头记录成功笔数/金额{paid_count}/{paid_fen}与明细"
                         f"{statement.paid_count}/{statement.paid_fen}不符",
                      code="BANK_FILE_TOTALS")
    return statement


# --- writing ----------------------------------------------------------------------------------

def _render(values: Sequence[Any], parsers: Sequence[Callable[[str], Any]],
            where: str, **details: Any) -> list[str]:
    """Field texts of typed values, each checked by the rule its reader applies."""
    texts = [_field_text(value) for value in values]
    for parse, text in zip(parsers, texts, strict=True):
        try:
            parse(text)
        except _BadField as bad:
            raise BankFileRefused(f"{where}：{bad.text}", field=bad.field, **details) from None
    return texts


def _assemble(header: list[str], details: list[list[str]], count: int, total: int) -> bytes:
    body = "".join(SEPARATOR.join(record) + "\n" for record in [header, *details]).encode()
    digest = hashlib.sha256(body).hexdigest()
    return body + f"T{SEPARATOR}{count}{SEPARATOR}{total}{SEPARATOR}{digest}\n".encode()


def _check_sequence(seqs: Sequence[int], references: Sequence[str], kind: str) -> None:
    if not seqs:
        raise BankFileRefused(f"{kind}至少应有一笔明细", code="BANK_FILE_EMPTY")
    if len(seqs) > MAX_ITEMS:
        raise BankFileRefused(f"{kind}明细超过{MAX_ITEMS}笔", code="BANK_FILE_TOO_LARGE")
    seen: set[str] = set()
    for expected, (seq, reference) in enumerate(zip(seqs, references, strict=True), start=1):
        if seq != expected:
            raise BankFileRefused(f"第{expected}笔明细的序号应为{expected}", field="seq",
                                  seq=seq)
        if reference in seen:
            raise BankFileRefused(f"业务编号{reference}重复", code="BANK_FILE_DUPLICATE",
                                  seq=seq)
        seen.add(reference)


def write_batch(batch_no: str, created_on: date, payer_account: str,
                items: Sequence[PayoutInstruction]) -> bytes:
    """The payout batch file of these records (seq 1..n in order, references unique)."""
    _check_sequence([i.seq for i in items], [i.reference for i in items], "批量文件")
    total = sum(item.amount_fen for item in items if isinstance(item.amount_fen, int))
    details = [["D", *_render((i.seq, i.reference, i.bank_code, i.card_no, i.account_name,
                                i.amount_fen, i.memo), _BATCH_DETAIL,
                               f"第{i.seq}笔明细", seq=i.seq)] for i in items]
    header = ["H", BATCH_FORMAT, *_render((batch_no, created_on, len(items), total,
                                           payer_account), _BATCH_HEADER, "头记录")]
    return _assemble(header, details, len(items), total)


def write_statement(batch_no: str, bank_code: str, statement_date: date,
                    lines: Sequence[StatementLine]) -> bytes:
    """The statement file answering a batch with these result records (seq 1..n in order)."""
    _check_sequence([line.seq for line in lines], [line.reference for line in lines],
                    "对账文件")
    details = []
    for line in lines:
        texts = _render((line.seq, line.reference, line.bank_txn_id, line.amount_fen,
                         line.result_code, line.reason, line.value_date), _STATEMENT_DETAIL,
                        f"第{line.seq}笔明细", seq=line.seq)
        fault = _check_result(line)
        if fault:
            raise BankFileRefused(f"第{line.seq}笔明细：{fault}", field="result_code",
                                  seq=line.seq)
        details.append(["D", *texts])
    statement = Statement(batch_no, bank_code, statement_date, tuple(lines))
    header = ["H", STATEMENT_FORMAT, *_render(
        (batch_no, bank_code, statement_date, statement.count, statement.total_fen,
         statement.paid_count, statement.paid_fen), _STATEMENT_HEADER, "头记录")]
    return _assemble(header, details, statement.count, statement.total_fen)
