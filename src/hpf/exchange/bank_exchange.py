"""Payout batches sent to commissioned banks and the statements they answer with.

Interface + local implementation + HTTP implementation, like `hpf.exchange.bank`. The local
bank behaves like a real one on the data we hold: it refuses a file that breaks the format
(hpf.exchange.bank_files), and pays each record whose card is in reg_bank_card, active, of
the record's bank and held by the record's name; the others fail with the bank's code. Files
live under `settings.bank_files_dir` as `{bank}/{batch}.req` and `{bank}/{batch}.stmt`.
The HTTP implementation talks to the bank front-end (前置机) at `settings.bank_adapter_url`.
"""

import contextlib
import os
import re
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.config import get_settings
from hpf.exchange.bank_files import (
    ACCOUNT_FROZEN,
    CARD_CLOSED,
    CARD_INVALID,
    MAX_FILE_BYTES,
    NAME_MISMATCH,
    OTHER_FAILURE,
    SUCCESS,
    BankFileRefused,
    PayoutInstruction,
    StatementLine,
    failure_reason,
    read_batch,
    write_statement,
)
from hpf.exchange.models import RegBankCard
from hpf.kit import clock
from hpf.kit.errors import Conflict, InvalidInput, NotFound, UpstreamUnavailable

# Bank codes and batch numbers become file and URL path segments: nothing else gets through.
_BANK_CODE_RE = re.compile(r"[A-Z0-9]{2,8}")
_BATCH_NO_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
# Cards looked up per statement in one query each this many.
_LOOKUP_CHUNK = 500


class BankFileExchange(Protocol):
    """What the payout business asks of a commissioned bank."""

    def submit(self, bank_code: str, batch_no: str, content: bytes) -> None:
        """Hand a payout batch file to the bank (the same file again is accepted once more)."""
        ...

    def statement(self, bank_code: str, batch_no: str) -> bytes | None:
        """The bank's statement file of a batch, or None while it is not processed."""
        ...


def _check_names(bank_code: str, batch_no: str) -> None:
    if not isinstance(bank_code, str) or not _BANK_CODE_RE.fullmatch(bank_code):
        raise InvalidInput("银行代码应为2至8位大写字母或数字", code="BANK_CODE_INVALID")
    if not isinstance(batch_no, str) or not _BATCH_NO_RE.fullmatch(batch_no):
        raise InvalidInput("批次号应为1至32位字母、数字、“-”或“_”", code="BANK_BATCH_NO_INVALID")


def _batch_conflict(bank_code: str, batch_no: str) -> Conflict:
    return Conflict(f"批次{batch_no}已向银行提交过不同内容的文件", code="BANK_BATCH_CONFLICT",
                    bank_code=bank_code, batch_no=batch_no)


def _write_once(path: Path, data: bytes) -> bytes | None:
    """Create `path` holding `data` atomically unless it exists; return what it already held.

    The content goes to a temporary file first and is linked into place only when complete,
    so a reader never sees half a file and two writers cannot both win.
    """
    # The files name card holders and card numbers: owner-only, like mkstemp's 0600 files.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_bytes()
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


class LocalBankFileExchange:
    """A bank that answers from the card registry we hold and keeps files in a directory.

    With `auto_process` (the default) the bank processes a batch the first time its statement
    is asked for; without it, `statement` answers None until `process` is called, the way a
    bank that works overnight answers on the same day.
    """

    def __init__(self, session: Session, directory: Path, *, auto_process: bool = True) -> None:
        self.session = session
        self.directory = Path(directory)
        self.auto_process = auto_process

    def _path(self, bank_code: str, batch_no: str, suffix: str) -> Path:
        _check_names(bank_code, batch_no)
        return self.directory / bank_code / f"{batch_no}{suffix}"

    def submit(self, bank_code: str, batch_no: str, content: bytes) -> None:
        """Check the file as the bank would and keep it; a different file for the batch is refused."""
        path = self._path(bank_code, batch_no, ".req")
        batch = read_batch(content)
        if batch.batch_no != batch_no:
            raise BankFileRefused(f"文件头记录的批次号{batch.batch_no}与提交的批次号{batch_no}不符",
                                  code="BANK_BATCH_MISMATCH", line=1)
        existing = _write_once(path, bytes(content))
        if existing is not None and existing != content:
            raise _batch_conflict(bank_code, batch_no)

    def statement(self, bank_code: str, batch_no: str) -> bytes | None:
        """The statement file; None for a batch not (yet) processed or never submitted."""
        path = self._path(bank_code, batch_no, ".stmt")
        if path.exists():
            return path.read_bytes()
        if not self.auto_process or not self._path(bank_code, batch_no, ".req").exists():
            return None
        return self.process(bank_code, batch_no)

    def process(self, bank_code: str, batch_no: str) -> bytes:
        """Pay the batch's records and write its statement (once; later calls return it)."""
        request = self._path(bank_code, batch_no, ".req")
        if not request.exists():
            raise NotFound(f"银行未收到批次{batch_no}", code="BANK_BATCH_UNKNOWN",
                           bank_code=bank_code, batch_no=batch_no)
        statement_path = self._path(bank_code, batch_no, ".stmt")
        if statement_path.exists():
            return statement_path.read_bytes()
        batch = read_batch(request.read_bytes())
        cards = self._cards([item.card_no for item in batch.items])
        today = clock.today()
        lines = []
        for item in batch.items:
            code = self._result(item, cards.get(item.card_no))
            lines.append(StatementLine(item.seq, item.reference,
                                       f"{bank_code}-P{uuid.uuid4().hex[:19]}", item.amount_fen,
                                       code, failure_reason(code), today))
        content = write_statement(batch_no, bank_code, today, lines)
        existing = _write_once(statement_path, content)
        return existing if existing is not None else content

    def _cards(self, card_numbers: Sequence[str]) -> dict[str, RegBankCard]:
        wanted = sorted(set(card_numbers))
        found: dict[str, RegBankCard] = {}
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            chunk = wanted[start:start + _LOOKUP_CHUNK]
            for card in self.session.scalars(
                    select(RegBankCard).where(RegBankCard.card_no.in_(chunk))):
                found[card.card_no] = card
        return found

    @staticmethod
    def _result(item: PayoutInstruction, card: RegBankCard | None) -> str:
        """The bank's result code for one record: the account first, then the name."""
        if card is None or card.bank_code != item.bank_code:
            return CARD_INVALID
        if card.status == "closed":
            return CARD_CLOSED
        if card.status == "frozen":
            return ACCOUNT_FROZEN
        if card.status != "active":
            return OTHER_FAILURE
        if card.holder_name != item.account_name:
            return NAME_MISMATCH
        return SUCCESS


_BANK_ERROR_CODE_RE = re.compile(r"BANK_[A-Z_]{1,40}")


def _unavailable() -> UpstreamUnavailable:
    return UpstreamUnavailable("银行系统暂时无法响应，请稍后再试", code="BANK_UNAVAILABLE")


class HttpBankFileExchange:
    """Calls the bank front-end: PUT /payout-batches/{bank}/{batch_no} with the file,
    GET /payout-batches/{bank}/{batch_no}/statement (404: not processed yet)."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def _url(self, bank_code: str, batch_no: str) -> str:
        _check_names(bank_code, batch_no)
        return f"{self.base_url}/payout-batches/{bank_code}/{batch_no}"

    def submit(self, bank_code: str, batch_no: str, content: bytes) -> None:
        """PUT the file; 409 is a different file for the batch, other 4xx a refused file."""
        url = self._url(bank_code, batch_no)
        try:
            response = httpx.put(url, content=bytes(content), timeout=self.timeout_s,
                                 headers={"Content-Type": "text/plain; charset=utf-8"})
        except httpx.HTTPError as exc:
            raise _unavailable() from exc
        if response.status_code in (200, 201, 202, 204):
            return
        if response.status_code == 409:
            raise _batch_conflict(bank_code, batch_no)
        if 400 <= response.status_code < 500:
            raise self._refusal(response)
        raise _unavailable()

    @staticmethod
    def _refusal(response: httpx.Response) -> BankFileRefused:
        """The bank's refusal of a file, with its code and message when it sent them."""
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        code = body.get("code")
        message = body.get("message")
        details = {"line": body["line"]} if isinstance(body.get("line"), int) else {}
        return BankFileRefused(
            message if isinstance(message, str) and message else "银行拒收该批量文件",
            code=code if isinstance(code, str) and _BANK_ERROR_CODE_RE.fullmatch(code)
            else "BANK_FILE_REJECTED", **details)

    def statement(self, bank_code: str, batch_no: str) -> bytes | None:
        """GET the statement; 404 means the bank has not processed the batch yet."""
        url = f"{self._url(bank_code, batch_no)}/statement"
        try:
            with httpx.stream("GET", url, timeout=self.timeout_s) as response:
                if response.status_code == 404:
                    return None
                if response.status_code != 200:
                    raise _unavailable()
                received = bytearray()
                for chunk in response.iter_bytes():
                    received += chunk
                    if len(received) > MAX_FILE_BYTES:
                        raise BankFileRefused(f"银行对账文件超过{MAX_FILE_BYTES}字节",
                                              code="BANK_FILE_TOO_LARGE")
                return bytes(received)
        except httpx.HTTPError as exc:
            raise _unavailable() from exc


def bank_file_exchange(session: Session) -> BankFileExchange:
    """The configured payout exchange (the local one reads reg_bank_card through `session`)."""
    settings = get_settings()
    if settings.bank_adapter == "http" and settings.bank_adapter_url:
        return HttpBankFileExchange(settings.bank_adapter_url, settings.http_timeout_s)
    return LocalBankFileExchange(session, settings.bank_files_dir
                                 or settings.var_dir / "bank-files")
