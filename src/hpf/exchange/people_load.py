"""Loading the people-side registry tables from the CSV files a data bureau sends.

One file per source (columns in docs/data-sources.md): `marriage` (婚姻登记), `low-income`
(低保), `retirement` (退休审批), `unemployment` (失业登记), `disability` (劳动能力鉴定),
`illness` (重大疾病医保记录), `housing-loan` (征信住房贷款). Each row is validated (ID number
checksums, dates, amounts in yuan with at most two decimals, known kinds, lengths, the order
of dates); a bad row is refused with its line number and the rest load. Rows are upserted by
their record number in chunks, each chunk its own transaction, so a rerun of the same file
changes nothing and a file that stops half-way can simply be loaded again.

The report and the refusal are the housing loader's, so `hpf registry load` shows both alike.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hpf.exchange.housing_load import LoadReport, RowRefused, load_rows
from hpf.exchange.people_models import (
    RegDisability,
    RegHousingLoan,
    RegLowIncome,
    RegMarriage,
    RegRetirement,
    RegSeriousIllness,
    RegUnemployment,
)
from hpf.kit.errors import HpfError, InvalidInput
from hpf.kit.ids import normalize_id_number
from hpf.kit.money import MAX_AMOUNT_FEN, yuan_to_fen

CHUNK_ROWS = 2_000
MAX_TERM_MONTHS = 600

LOW_INCOME_STATUS = {"active": "active", "在保": "active", "ended": "ended", "停保": "ended"}
RETIREMENT_KIND = {"normal": "normal", "正常退休": "normal", "early": "early",
                   "提前退休": "early", "disability": "disability", "因病退休": "disability"}
LOAN_KIND = {"commercial": "commercial", "商业贷款": "commercial", "fund": "fund",
             "公积金贷款": "fund", "portfolio": "portfolio", "组合贷款": "portfolio"}
LOAN_STATUS = {"normal": "normal", "正常": "normal", "overdue": "overdue", "逾期": "overdue",
               "settled": "settled", "结清": "settled"}
LOAN_ROLE = {"borrower": "borrower", "借款人": "borrower", "co_borrower": "co_borrower",
             "共同借款人": "co_borrower"}
YES_NO = {"1": True, "true": True, "是": True, "0": False, "false": False, "否": False}


# --- field parsers (each raises RowRefused with a Chinese reason) ------------------------------

def _raw(row: dict, column: str) -> str:
    return (row.get(column) or "").strip()


def _text(row: dict, column: str, max_len: int) -> str:
    value = _raw(row, column)
    if not value:
        raise RowRefused(f"{column} 不能为空")
    if len(value) > max_len:
        raise RowRefused(f"{column} 超过 {max_len} 个字符")
    return value


def _id(row: dict, column: str) -> str:
    value = _raw(row, column)
    try:
        return normalize_id_number(value)
    except HpfError as exc:
        raise RowRefused(f"{column} {exc.message}：{value}") from None


def _date(row: dict, column: str, today: date, *, future: bool = False) -> date:
    raw = _raw(row, column)
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise RowRefused(f"{column} 日期无效：{raw}（应为 YYYY-MM-DD）") from None
    if value.year < 1900:
        raise RowRefused(f"{column} 日期无效：{raw}")
    if not future and value > today:
        raise RowRefused(f"{column} 不能晚于今天：{raw}")
    return value


def _optional_date(row: dict, column: str, today: date, *, future: bool = False
                   ) -> date | None:
    return _date(row, column, today, future=future) if _raw(row, column) else None


def _fen(row: dict, column: str, *, zero: bool = False) -> int:
    raw = _raw(row, column)
    try:
        fen = yuan_to_fen(raw)
    except (ValueError, InvalidOperation):
        raise RowRefused(f"{column} 金额无效：{raw}（元，最多两位小数）") from None
    if fen < (0 if zero else 1) or fen > MAX_AMOUNT_FEN:
        raise RowRefused(f"{column} 金额超出合理范围：{raw}")
    return fen


def _int(row: dict, column: str, low: int, high: int) -> int:
    raw = _raw(row, column)
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise RowRefused(f"{column} 应为 {low}-{high} 的整数：{raw}")
    return int(raw)


def _choice(row: dict, column: str, choices: dict[str, Any]) -> Any:
    raw = _raw(row, column)
    if raw.lower() in choices:
        return choices[raw.lower()]
    if raw not in choices:
        raise RowRefused(f"{column} 取值无效：{raw}")
    return choices[raw]


def _not_before(later: date | None, earlier: date, later_col: str, earlier_col: str) -> None:
    if later is not None and later < earlier:
        raise RowRefused(f"{later_col} 不能早于 {earlier_col}")


# --- the seven files ---------------------------------------------------------------------------

def _marriage(row: dict, today: date) -> dict:
    parsed = {"record_no": _text(row, "record_no", 32),
              "party_a_id_number": _id(row, "party_a_id_number"),
              "party_a_name": _text(row, "party_a_name", 50),
              "party_b_id_number": _id(row, "party_b_id_number"),
              "party_b_name": _text(row, "party_b_name", 50),
              "married_on": _date(row, "married_on", today),
              "divorced_on": _optional_date(row, "divorced_on", today)}
    if parsed["party_a_id_number"] == parsed["party_b_id_number"]:
        raise RowRefused("双方身份证号码相同")
    _not_before(parsed["divorced_on"], parsed["married_on"], "divorced_on", "married_on")
    return parsed


def _low_income(row: dict, today: date) -> dict:
    parsed = {"certificate_no": _text(row, "certificate_no", 32),
              "id_number": _id(row, "id_number"), "name": _text(row, "name", 50),
              "since": _date(row, "since", today),
              "until": _optional_date(row, "until", today, future=True),
              "status": _choice(row, "status", LOW_INCOME_STATUS)}
    _not_before(parsed["until"], parsed["since"], "until", "since")
    if parsed["status"] == "ended" and parsed["until"] is None:
        raise RowRefused("停保记录须有 until 截止日期")
    return parsed


def _retirement(row: dict, today: date) -> dict:
    # An approval may take effect next month: retired_on may lie ahead.
    return {"id_number": _id(row, "id_number"), "name": _text(row, "name", 50),
            "approval_no": _text(row, "approval_no", 32),
            "retired_on": _date(row, "retired_on", today, future=True),
            "kind": _choice(row, "kind", RETIREMENT_KIND)}


def _unemployment(row: dict, today: date) -> dict:
    parsed = {"registration_no": _text(row, "registration_no", 32),
              "id_number": _id(row, "id_number"), "name": _text(row, "name", 50),
              "registered_on": _date(row, "registered_on", today),
              "ended_on": _optional_date(row, "ended_on", today),
              "receiving_benefit": _choice(row, "receiving_benefit", YES_NO)}
    _not_before(parsed["ended_on"], parsed["registered_on"], "ended_on", "registered_on")
    return parsed


def _disability(row: dict, today: date) -> dict:
    return {"assessment_no": _text(row, "assessment_no", 32),
            "id_number": _id(row, "id_number"), "name": _text(row, "name", 50),
            "level": _int(row, "level", 1, 10), "assessed_on": _date(row, "assessed_on", today),
            "labour_ended_on": _optional_date(row, "labour_ended_on", today)}


def _illness(row: dict, today: date) -> dict:
    parsed = {"record_no": _text(row, "record_no", 32), "id_number": _id(row, "id_number"),
              "name": _text(row, "name", 50), "diagnosis": _text(row, "diagnosis", 100),
              "hospital": _text(row, "hospital", 100),
              "out_of_pocket_fen": _fen(row, "out_of_pocket_yuan", zero=True),
              "from_date": _date(row, "from_date", today),
              "to_date": _date(row, "to_date", today)}
    _not_before(parsed["to_date"], parsed["from_date"], "to_date", "from_date")
    return parsed


def _housing_loan(row: dict, today: date) -> dict:
    parsed = {"contract_no": _text(row, "contract_no", 40), "id_number": _id(row, "id_number"),
              "name": _text(row, "name", 50), "role": _choice(row, "role", LOAN_ROLE),
              "lender": _text(row, "lender", 60), "kind": _choice(row, "kind", LOAN_KIND),
              "property_address": _text(row, "property_address", 200),
              "principal_fen": _fen(row, "principal_yuan"),
              "term_months": _int(row, "term_months", 1, MAX_TERM_MONTHS),
              "start_date": _date(row, "start_date", today),
              "outstanding_fen": _fen(row, "outstanding_yuan", zero=True),
              "repaid_12m_fen": _fen(row, "repaid_12m_yuan", zero=True),
              "status": _choice(row, "status", LOAN_STATUS),
              "reported_on": _date(row, "reported_on", today)}
    _not_before(parsed["reported_on"], parsed["start_date"], "reported_on", "start_date")
    if parsed["outstanding_fen"] > parsed["principal_fen"]:
        raise RowRefused("outstanding_yuan 余额不能大于 principal_yuan 本金")
    if parsed["status"] == "settled" and parsed["outstanding_fen"]:
        raise RowRefused("已结清的贷款余额应为零")
    return parsed


@dataclass(frozen=True)
class PeopleFile:
    """How one source's file maps onto its table."""

    name: str
    title: str
    columns: tuple[str, ...]  # required header columns (others are ignored)
    parse: Callable[[dict, date], dict]
    table: type
    key: tuple[str, ...]  # the unique key rows are upserted by


SOURCES: dict[str, PeopleFile] = {f.name: f for f in (
    PeopleFile("marriage", "婚姻登记",
               ("record_no", "party_a_id_number", "party_a_name", "party_b_id_number",
                "party_b_name", "married_on", "divorced_on"),
               _marriage, RegMarriage, ("record_no",)),
    PeopleFile("low-income", "最低生活保障",
               ("certificate_no", "id_number", "name", "since", "until", "status"),
               _low_income, RegLowIncome, ("certificate_no",)),
    PeopleFile("retirement", "退休审批",
               ("id_number", "name", "approval_no", "retired_on", "kind"),
               _retirement, RegRetirement, ("id_number",)),
    PeopleFile("unemployment", "失业登记",
               ("registration_no", "id_number", "name", "registered_on", "ended_on",
                "receiving_benefit"),
               _unemployment, RegUnemployment, ("registration_no",)),
    PeopleFile("disability", "劳动能力鉴定",
               ("assessment_no", "id_number", "name", "level", "assessed_on",
                "labour_ended_on"),
               _disability, RegDisability, ("assessment_no",)),
    PeopleFile("illness", "重大疾病医保记录",
               ("record_no", "id_number", "name", "diagnosis", "hospital",
                "out_of_pocket_yuan", "from_date", "to_date"),
               _illness, RegSeriousIllness, ("record_no",)),
    PeopleFile("housing-loan", "征信住房贷款",
               ("contract_no", "id_number", "name", "role", "lender", "kind",
                "property_address", "principal_yuan", "term_months", "start_date",
                "outstanding_yuan", "repaid_12m_yuan", "status", "reported_on"),
               _housing_loan, RegHousingLoan, ("contract_no", "id_number")),
)}


def upsert_rows(session: Session, spec: PeopleFile, rows: list[dict]) -> None:
    """Insert or update one chunk of records by their key; flushes only."""
    if not rows:
        return
    latest: dict[tuple, dict] = {}
    for row in rows:  # a record twice in one chunk: the later line wins (one statement
        latest[tuple(row[k] for k in spec.key)] = row  # may not touch a row twice)
    table = spec.table.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c[k] for k in spec.key],
        set_={name: stmt.excluded[name] for name in rows[0] if name not in spec.key})
    session.execute(stmt, list(latest.values()))
    session.flush()


def load_file(url: str | None, source: str, path: Path, *, chunk_rows: int = CHUNK_ROWS,
              encoding: str = "utf-8-sig") -> LoadReport:
    """Validate and upsert a people registry file; one transaction per chunk. An unknown
    source, a missing or too large file or a header without a required column refuses the
    whole file."""
    spec = SOURCES.get(source)
    if spec is None:
        raise InvalidInput(f"未知的数据来源：{source}", code="REGISTRY_UNKNOWN_SOURCE",
                           known=sorted(SOURCES))
    return load_rows(url, source, spec, path, upsert_rows, chunk_rows=chunk_rows,
                     encoding=encoding)
