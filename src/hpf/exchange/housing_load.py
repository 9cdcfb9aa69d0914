"""Loading the housing-side registry tables from the CSV files a data bureau sends.

One file per source (columns in docs/data-sources.md): `property` (不动产登记),
`contract` (网签备案合同), `maintenance` (维修资金缴存), `invoice` (税务发票). Each row is
validated (ID number checksums, dates not in the future, amounts in yuan with at most two
decimals, areas in m² with at most two decimals, known kinds, lengths); a bad row is refused
with its line number and the rest load. Rows are upserted by their document number in chunks,
each chunk its own transaction, so a rerun of the same file changes nothing and a file that
stops half-way can simply be loaded again. Owners and buyers of a loaded document are replaced
by the file's list: the file states the document as it is now.
"""

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hpf.exchange.housing_models import (
    RegHousingContract,
    RegHousingContractBuyer,
    RegMaintenancePayment,
    RegProperty,
    RegPropertyOwner,
    RegTaxInvoice,
)
from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.kit.errors import HpfError, InvalidInput
from hpf.kit.ids import normalize_id_number
from hpf.kit.money import MAX_AMOUNT_FEN, yuan_to_fen

CHUNK_ROWS = 2_000
MAX_REPORTED = 1_000  # refusals listed in the report; the count goes on beyond
MAX_AREA_DM2 = 10_000_00  # 10,000 m²: far above any home, catches a unit mix-up
MAX_OWNERS = 20
MAX_FILE_BYTES = 2 * 1024**3

CONTRACT_KIND = {"new": "new", "商品房": "new", "resale": "resale", "二手房": "resale"}
INVOICE_KIND = {"deed_tax": "deed_tax", "契税": "deed_tax", "house_sale": "house_sale",
                "购房发票": "house_sale", "renovation": "renovation", "装修": "renovation",
                "property_fee": "property_fee", "物业费": "property_fee"}
PROPERTY_STATUS = {"active": "active", "现势": "active", "cancelled": "cancelled",
                   "注销": "cancelled"}


class RowRefused(ValueError):
    """One row of a registry file is not acceptable; the message is Chinese for the operator."""


@dataclass
class LoadReport:
    """What a load did: rows loaded, rows refused (line number, reason)."""

    source: str
    loaded: int = 0
    refused_count: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)

    def refuse(self, line: int, reason: str) -> None:
        """Count a refused row and keep its reason while the list is short enough to read."""
        self.refused_count += 1
        if len(self.refused) < MAX_REPORTED:
            self.refused.append((line, reason))


# --- field parsers (each raises RowRefused with a Chinese reason) ------------------------------

def _text(row: dict, column: str, max_len: int) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise RowRefused(f"{column} 不能为空")
    if len(value) > max_len:
        raise RowRefused(f"{column} 超过 {max_len} 个字符")
    return value


def _id(value: str, column: str) -> str:
    try:
        return normalize_id_number(value)
    except HpfError as exc:
        raise RowRefused(f"{column} {exc.message}：{value}") from None


def _ids(row: dict, column: str) -> list[str]:
    parts = [p.strip() for p in (row.get(column) or "").replace("；", ";").split(";")]
    parts = [p for p in parts if p]
    if not parts:
        raise RowRefused(f"{column} 不能为空")
    if len(parts) > MAX_OWNERS:
        raise RowRefused(f"{column} 超过 {MAX_OWNERS} 人")
    return sorted({_id(p, column) for p in parts})


def _date(row: dict, column: str, today: date) -> date:
    raw = (row.get(column) or "").strip()
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise RowRefused(f"{column} 日期无效：{raw}（应为 YYYY-MM-DD）") from None
    if value > today:
        raise RowRefused(f"{column} 不能晚于今天：{raw}")
    if value.year < 1900:
        raise RowRefused(f"{column} 日期无效：{raw}")
    return value


def _fen(row: dict, column: str) -> int:
    raw = (row.get(column) or "").strip()
    try:
        fen = yuan_to_fen(raw)
    except (ValueError, InvalidOperation):
        raise RowRefused(f"{column} 金额无效：{raw}（元，最多两位小数）") from None
    if not 0 < fen <= MAX_AMOUNT_FEN:
        raise RowRefused(f"{column} 金额必须大于零且在合理范围内：{raw}")
    return fen


def _area(row: dict, column: str) -> int:
    raw = (row.get(column) or "").strip()
    try:
        hundredths = Decimal(raw) * 100
    except InvalidOperation:
        raise RowRefused(f"{column} 面积无效：{raw}（平方米，最多两位小数）") from None
    if not hundredths.is_finite() or hundredths != hundredths.to_integral_value():
        raise RowRefused(f"{column} 面积无效：{raw}（平方米，最多两位小数）")
    if not 0 < hundredths <= MAX_AREA_DM2:
        raise RowRefused(f"{column} 面积必须大于零且在合理范围内：{raw}")
    return int(hundredths)


def _choice(row: dict, column: str, choices: dict[str, str], default: str | None = None) -> str:
    raw = (row.get(column) or "").strip()
    if not raw and default is not None:
        return default
    if raw not in choices:
        raise RowRefused(f"{column} 取值无效：{raw}")
    return choices[raw]


# --- the four files ----------------------------------------------------------------------------

Parsed = tuple[dict[str, Any], list[str]]  # the document row, its people (owners / buyers)


def _property(row: dict, today: date) -> Parsed:
    return ({"cert_no": _text(row, "cert_no", 64), "address": _text(row, "address", 200),
             "floor_area_dm2": _area(row, "floor_area_m2"),
             "registered_on": _date(row, "registered_on", today),
             "use": _text(row, "use", 20) if (row.get("use") or "").strip() else "住宅",
             "status": _choice(row, "status", PROPERTY_STATUS, "active")},
            _ids(row, "owner_id_numbers"))


def _contract(row: dict, today: date) -> Parsed:
    parsed = {"contract_no": _text(row, "contract_no", 40),
              "kind": _choice(row, "kind", CONTRACT_KIND),
              "price_fen": _fen(row, "price_yuan"),
              "signed_on": _date(row, "signed_on", today),
              "filed_on": _date(row, "filed_on", today),
              "address": _text(row, "address", 200),
              "floor_area_dm2": _area(row, "floor_area_m2")}
    if parsed["filed_on"] < parsed["signed_on"]:
        raise RowRefused("filed_on 备案日期不能早于 signed_on 签约日期")
    return parsed, _ids(row, "buyer_id_numbers")


def _maintenance(row: dict, today: date) -> Parsed:
    return ({"receipt_no": _text(row, "receipt_no", 40),
             "id_number": _id((row.get("id_number") or "").strip(), "id_number"),
             "amount_fen": _fen(row, "amount_yuan"), "paid_on": _date(row, "paid_on", today),
             "address": _text(row, "address", 200)}, [])


def _invoice(row: dict, today: date) -> Parsed:
    return ({"invoice_no": _text(row, "invoice_no", 40),
             "kind": _choice(row, "kind", INVOICE_KIND),
             "buyer_id_number": _id((row.get("buyer_id_number") or "").strip(),
                                    "buyer_id_number"),
             "amount_fen": _fen(row, "amount_yuan"), "issued_on": _date(row, "issued_on", today),
             "address": _text(row, "address", 200), "seller": _text(row, "seller", 100)}, [])


@dataclass(frozen=True)
class RegistryFile:
    """How one source's file maps onto its tables."""

    name: str
    title: str
    columns: tuple[str, ...]  # required header columns (others are ignored)
    parse: Callable[[dict, date], Parsed]
    table: type
    key: str
    people: type | None = None  # child table of (key, id_number)


SOURCES: dict[str, RegistryFile] = {
    "property": RegistryFile(
        "property", "不动产登记",
        ("cert_no", "address", "floor_area_m2", "registered_on", "owner_id_numbers"),
        _property, RegProperty, "cert_no", RegPropertyOwner),
    "contract": RegistryFile(
        "contract", "网签备案合同",
        ("contract_no", "kind", "buyer_id_numbers", "price_yuan", "signed_on", "filed_on",
         "address", "floor_area_m2"),
        _contract, RegHousingContract, "contract_no", RegHousingContractBuyer),
    "maintenance": RegistryFile(
        "maintenance", "住宅专项维修资金缴存",
        ("receipt_no", "id_number", "amount_yuan", "paid_on", "address"),
        _maintenance, RegMaintenancePayment, "receipt_no"),
    "invoice": RegistryFile(
        "invoice", "税务发票",
        ("invoice_no", "kind", "buyer_id_number", "amount_yuan", "issued_on", "address",
         "seller"),
        _invoice, RegTaxInvoice, "invoice_no"),
}


def upsert_rows(session: Session, spec: RegistryFile, parsed: list[Parsed]) -> None:
    """Insert or update one chunk of documents and replace their people; flushes only."""
    if not parsed:
        return
    latest: dict[str, Parsed] = {}
    for doc, people in parsed:  # a document twice in one chunk: the later line wins
        latest[doc[spec.key]] = (doc, people)
    docs = [doc for doc, _ in latest.values()]
    table = spec.table.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    key_col = table.c[spec.key]
    stmt = stmt.on_conflict_do_update(
        index_elements=[key_col],
        set_={c.name: stmt.excluded[c.name] for c in table.c if c.name != spec.key})
    session.execute(stmt, docs)
    if spec.people is not None:
        people_table = spec.people.__table__
        session.execute(delete(people_table).where(people_table.c[spec.key].in_(list(latest))))
        session.execute(insert(people_table),
                        [{spec.key: key, "id_number": id_number}
                         for key, (_, people) in latest.items() for id_number in people])
    session.flush()


def _rows(path: Path, encoding: str) -> Iterator[tuple[int, dict]]:
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.DictReader(fh)
        yield 0, {"__header__": reader.fieldnames or []}
        for row in reader:
            yield reader.line_num, row


def load_file(url: str | None, source: str, path: Path, *, chunk_rows: int = CHUNK_ROWS
              ) -> LoadReport:
    """Validate and upsert a registry file; one transaction per chunk. Unknown source, a file
    too large or a header without a required column refuses the whole file."""
    spec = SOURCES.get(source)
    if spec is None:
        raise InvalidInput(f"未知的数据来源：{source}", code="REGISTRY_UNKNOWN_SOURCE",
                           known=sorted(SOURCES))
    return load_rows(url, source, spec, path, upsert_rows, chunk_rows=chunk_rows)


def load_rows(url: str | None, source: str, spec: Any, path: Path,
              upsert: Callable[[Session, Any, list], None], *, chunk_rows: int = CHUNK_ROWS,
              encoding: str = "utf-8-sig") -> LoadReport:
    """Read a registry CSV of any source (`spec`: its columns, title and row parser), refuse
    bad rows by line and `upsert` the good ones, one transaction per chunk."""
    if not path.is_file():
        raise InvalidInput(f"文件不存在：{path}", code="REGISTRY_FILE_MISSING")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InvalidInput("文件过大", code="REGISTRY_FILE_TOO_LARGE")
    today = clock.today()
    report = LoadReport(source)
    chunk: list = []

    def commit() -> int:
        if not chunk:
            return 0
        with transaction(url) as session:
            upsert(session, spec, chunk)
        return len(chunk)

    try:
        rows = _rows(path, encoding)
        _, header = next(rows)
        missing = [c for c in spec.columns if c not in header["__header__"]]
        if missing:
            raise InvalidInput(f"{spec.title}文件缺少列：{', '.join(missing)}",
                               code="REGISTRY_FILE_COLUMNS", missing=missing)
        for line, row in rows:
            if None in row:
                report.refuse(line, "列数多于表头")
                continue
            try:
                chunk.append(spec.parse(row, today))
            except RowRefused as exc:
                report.refuse(line, str(exc))
                continue
            if len(chunk) >= chunk_rows:
                report.loaded += commit()
                chunk = []
    except (UnicodeDecodeError, csv.Error) as exc:
        shown = "UTF-8" if encoding.lower() in ("utf-8", "utf-8-sig") else encoding
        raise InvalidInput(f"文件无法读取（应为 {shown} 编码的 CSV）：{exc}",
                           code="REGISTRY_FILE_UNREADABLE",
                           loaded_before_error=report.loaded) from None
    report.loaded += commit()
    if report.loaded:
        _analyse(url, spec)
    return report


def _analyse(url: str | None, spec: Any) -> None:
    """Fresh planner statistics for the tables a load filled: a lookup by ID number must not
    be planned as a scan until autovacuum gets round to them."""
    tables = [t.__tablename__ for t in (getattr(spec, "table", None), getattr(spec, "people", None))
              if t is not None]
    with transaction(url) as session:
        if session.get_bind().dialect.name == "sqlite":
            # A sample, not a full scan: the write lock other writers wait on is held briefly.
            session.execute(text("PRAGMA analysis_limit=1000"))
        for name in tables:
            session.execute(text(f"ANALYZE {name}"))
