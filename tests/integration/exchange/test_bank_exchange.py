"""Payout batches through the local bank (card registry outcomes, files, resubmission) and the
HTTP bank front-end against a real server on 127.0.0.1."""

import json
import sys
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hpf.config import get_settings
from hpf.exchange.bank_exchange import (
    HttpBankFileExchange,
    LocalBankFileExchange,
    bank_file_exchange,
)
from hpf.exchange.bank_files import (
    BankFileRefused,
    PayoutInstruction,
    StatementLine,
    read_statement,
    write_batch,
    write_statement,
)
from hpf.exchange.models import RegBankCard
from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.kit.errors import Conflict, InvalidInput, NotFound, UpstreamUnavailable

DAY = date(2026, 11, 23)
PAYER = "3100001234567890"
CARDS = [  # card_no, bank, holder, status
    ("6222020200000000001", "ICBC", "张三", "active"),
    ("6222020200000000002", "ICBC", "李四", "closed"),
    ("6222020200000000003", "ICBC", "王五", "frozen"),
    ("6222020200000000004", "ICBC", "赵六", "active"),
    ("6217000000000000005", "CCB", "孙七", "active"),
    ("6222020200000000006", "ICBC", "周八", "suspended"),
]
# seq, card, name on the instruction, amount, expected result code
CASES = [
    (1, "6222020200000000001", "张三", 150_000, "0000"),  # active, right bank and name: paid
    (2, "6222020200000000002", "李四", 20_000, "1002"),  # closed
    (3, "6222020200000000003", "王五", 30_000, "1004"),  # frozen
    (4, "6222020200000000004", "赵小六", 40_000, "1003"),  # name mismatch
    (5, "6222020200000009999", "吴九", 50_000, "1001"),  # not in the registry
    (6, "6217000000000000005", "孙七", 60_000, "1001"),  # a CCB card sent as ICBC
    (7, "6222020200000000006", "周八", 70_000, "9999"),  # a status the bank cannot pay to
    (8, "6222020200000000001", "张三", 1, "0000"),  # a second payment to the same card
]


def _items() -> list[PayoutInstruction]:
    return [PayoutInstruction(seq, f"WD{seq:04d}", "ICBC", card, name, amount, "公积金提取")
            for seq, card, name, amount, _ in CASES]


def _batch(batch_no: str = "P20261123001", items: list[PayoutInstruction] | None = None) -> bytes:
    return write_batch(batch_no, DAY, PAYER, items or _items())


@pytest.fixture
def cards(db_url: str) -> str:
    with transaction(db_url) as s:
        for card_no, bank, holder, status in CARDS:
            s.add(RegBankCard(card_no=card_no, bank_code=bank, holder_name=holder,
                              holder_id_number="110101199001011237", status=status))
    return db_url


def test_local_bank_pays_what_the_registry_allows_and_fails_the_rest(cards, tmp_path):
    with transaction(cards) as s, clock.frozen(DAY):
        bank = LocalBankFileExchange(s, tmp_path)
        bank.submit("ICBC", "P20261123001", _batch())
        content = bank.statement("ICBC", "P20261123001")
    assert content is not None
    statement = read_statement(content)
    assert [(line.seq, line.reference, line.result_code) for line in statement.lines] == [
        (seq, f"WD{seq:04d}", code) for seq, _, _, _, code in CASES]
    assert [line.reason for line in statement.lines] == [
        "", "账户已销户", "账户已冻结", "户名与卡号不符", "卡号不存在或与开户行不符",
        "卡号不存在或与开户行不符", "其他原因，交易失败", ""]
    assert [line.amount_fen for line in statement.lines] == [c[3] for c in CASES]
    assert all(line.bank_txn_id.startswith("ICBC-P") for line in statement.lines)
    assert len({line.bank_txn_id for line in statement.lines}) == len(CASES)
    assert {line.value_date for line in statement.lines} == {DAY}
    # 8 records of 150000+20000+30000+40000+50000+60000+70000+1 = 420001 fen; paid 150001.
    assert (statement.batch_no, statement.bank_code, statement.statement_date) == (
        "P20261123001", "ICBC", DAY)
    assert (statement.count, statement.total_fen, statement.paid_count, statement.paid_fen) == (
        8, 420_001, 2, 150_001)
    assert (tmp_path / "ICBC" / "P20261123001.req").read_bytes() == _batch()
    assert (tmp_path / "ICBC" / "P20261123001.stmt").read_bytes() == content
    assert sorted(p.name for p in (tmp_path / "ICBC").iterdir()) == [
        "P20261123001.req", "P20261123001.stmt"]  # no temporary file left behind


def test_statement_is_written_once(cards, tmp_path):
    with transaction(cards) as s:
        bank = LocalBankFileExchange(s, tmp_path)
        bank.submit("ICBC", "P1", _batch("P1"))
        first = bank.statement("ICBC", "P1")
        # The card closes afterwards: the bank's answer about this batch does not change.
        s.get(RegBankCard, "6222020200000000001").status = "closed"
        s.flush()
        assert bank.statement("ICBC", "P1") == first
        assert bank.process("ICBC", "P1") == first


def test_resubmitting_the_same_file_is_accepted_and_a_different_one_refused(cards, tmp_path):
    with transaction(cards) as s:
        bank = LocalBankFileExchange(s, tmp_path)
        bank.submit("ICBC", "P1", _batch("P1"))
        bank.submit("ICBC", "P1", _batch("P1"))  # a retry after a lost answer
        changed = _items()
        changed[0] = PayoutInstruction(1, "WD0001", "ICBC", "6222020200000000001", "张三",
                                       150_001, "公积金提取")
        with pytest.raises(Conflict) as caught:
            bank.submit("ICBC", "P1", _batch("P1", changed))
        assert (caught.value.code, caught.value.status) == ("BANK_BATCH_CONFLICT", 409)
        assert caught.value.details == {"bank_code": "ICBC", "batch_no": "P1"}
        # The same batch number at another bank is another batch.
        bank.submit("CCB", "P1", _batch("P1", changed))
        assert read_statement(bank.statement("ICBC", "P1")).lines[0].amount_fen == 150_000
        assert read_statement(bank.statement("CCB", "P1")).lines[0].amount_fen == 150_001
    assert (tmp_path / "ICBC" / "P1.req").read_bytes() == _batch("P1")


def test_a_bad_file_is_refused_and_nothing_is_kept(cards, tmp_path):
    content = bytearray(_batch("P1"))
    content[-2] = ord("0") if content[-2] != ord("0") else ord("1")
    with transaction(cards) as s:
        bank = LocalBankFileExchange(s, tmp_path)
        with pytest.raises(BankFileRefused) as caught:
            bank.submit("ICBC", "P1", bytes(content))
        assert (caught.value.code, caught.value.details["line"]) == ("BANK_FILE_HASH", 10)
        with pytest.raises(BankFileRefused) as caught:
            bank.submit("ICBC", "P2", _batch("P1"))
        assert (caught.value.code, caught.value.details["line"]) == ("BANK_BATCH_MISMATCH", 1)
        assert bank.statement("ICBC", "P1") is None
        assert bank.statement("ICBC", "P2") is None
    assert not (tmp_path / "ICBC").exists()


@pytest.mark.parametrize(("bank_code", "batch_no", "code"), [
    ("../x", "P1", "BANK_CODE_INVALID"),
    ("icbc", "P1", "BANK_CODE_INVALID"),
    ("ICBC", "../../etc/passwd", "BANK_BATCH_NO_INVALID"),
    ("ICBC", "", "BANK_BATCH_NO_INVALID"),
])
def test_names_that_would_leave_the_directory_are_refused(cards, tmp_path, bank_code, batch_no,
                                                         code):
    with transaction(cards) as s:
        bank = LocalBankFileExchange(s, tmp_path)
        for call in (lambda: bank.submit(bank_code, batch_no, _batch("P1")),
                     lambda: bank.statement(bank_code, batch_no)):
            with pytest.raises(InvalidInput) as caught:
                call()
            assert (caught.value.code, caught.value.status) == (code, 422)


def test_a_bank_that_has_not_processed_yet_answers_none(cards, tmp_path):
    with transaction(cards) as s:
        bank = LocalBankFileExchange(s, tmp_path, auto_process=False)
        with pytest.raises(NotFound) as caught:
            bank.process("ICBC", "P1")
        assert (caught.value.code, caught.value.status) == ("BANK_BATCH_UNKNOWN", 404)
        bank.submit("ICBC", "P1", _batch("P1"))
        assert bank.statement("ICBC", "P1") is None
        assert bank.statement("ICBC", "P9") is None  # never submitted
        processed = bank.process("ICBC", "P1")
        assert bank.statement("ICBC", "P1") == processed
        assert read_statement(processed).paid_count == 2


def test_factory_chooses_by_settings(cards, monkeypatch, tmp_path):
    with transaction(cards) as s:
        local = bank_file_exchange(s)
        assert isinstance(local, LocalBankFileExchange)
        assert local.directory == get_settings().var_dir / "bank-files"
        monkeypatch.setenv("HPF_BANK_FILES_DIR", str(tmp_path / "files"))
        get_settings.cache_clear()
        assert bank_file_exchange(s).directory == tmp_path / "files"
        monkeypatch.setenv("HPF_BANK_ADAPTER", "http")
        monkeypatch.setenv("HPF_BANK_ADAPTER_URL", "http://127.0.0.1:9/bank/")
        monkeypatch.setenv("HPF_HTTP_TIMEOUT_S", "1.5")
        get_settings.cache_clear()
        remote = bank_file_exchange(s)
        assert isinstance(remote, HttpBankFileExchange)
        assert (remote.base_url, remote.timeout_s) == ("http://127.0.0.1:9/bank", 1.5)
    get_settings.cache_clear()


# --- the HTTP front-end ---------------------------------------------------------------------------

class _FakeFrontEnd(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.batches: dict[str, bytes] = {}
        self.statements: dict[str, bytes] = {}
        # Set: every request is held until the test ends, so only the client's own time
        # limit can end a call, whatever the machine's speed.
        self.hold = False
        self.released = threading.Event()
        self.fail_with: int | None = None
        self.requests: list[tuple[str, str, str]] = []

    def handle_error(self, request, client_address) -> None:
        # The time-out test's client hangs up before the answer: expected, not a fault.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/front"


class _Handler(BaseHTTPRequestHandler):
    server: _FakeFrontEnd

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def _answer(self, status: int, body: bytes = b"", content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self) -> None:  # noqa: N802 (the http.server naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append(("PUT", self.path, self.headers["Content-Type"]))
        if self.server.hold:
            self.server.released.wait(30)
            return None
        if self.server.fail_with:
            return self._answer(self.server.fail_with)
        key = self.path.removeprefix("/front/payout-batches/")
        if body.startswith(b"junk"):
            return self._answer(422, json.dumps({"code": "BANK_FILE_HASH", "message": "校验值不符",
                                                 "line": 3}).encode(), "application/json")
        if key in self.server.batches and self.server.batches[key] != body:
            return self._answer(409)
        self.server.batches[key] = body
        return self._answer(201)

    def do_GET(self) -> None:  # noqa: N802
        self.server.requests.append(("GET", self.path, ""))
        if self.server.hold:
            self.server.released.wait(30)
            return None
        if self.server.fail_with:
            return self._answer(self.server.fail_with)
        key = self.path.removeprefix("/front/payout-batches/").removesuffix("/statement")
        if key not in self.server.statements:
            return self._answer(404)
        return self._answer(200, self.server.statements[key])


@pytest.fixture
def front_end() -> Iterator[_FakeFrontEnd]:
    server = _FakeFrontEnd()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.released.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_exchange_puts_the_file_and_gets_the_statement(front_end):
    bank = HttpBankFileExchange(front_end.url + "/", 2.0)
    content = _batch("P1")
    bank.submit("ICBC", "P1", content)
    bank.submit("ICBC", "P1", content)
    assert front_end.batches == {"ICBC/P1": content}
    assert front_end.requests[0] == ("PUT", "/front/payout-batches/ICBC/P1",
                                     "text/plain; charset=utf-8")
    assert bank.statement("ICBC", "P1") is None  # 404: not processed yet
    answer = write_statement("P1", "ICBC", DAY, [
        StatementLine(1, "WD0001", "ICBC-9", 150_000, "0000", "", DAY)])
    front_end.statements["ICBC/P1"] = answer
    assert bank.statement("ICBC", "P1") == answer
    assert front_end.requests[-1] == ("GET", "/front/payout-batches/ICBC/P1/statement", "")


def test_http_exchange_refusals(front_end):
    bank = HttpBankFileExchange(front_end.url, 2.0)
    bank.submit("ICBC", "P1", _batch("P1"))
    with pytest.raises(Conflict) as caught:
        bank.submit("ICBC", "P1", _batch("P1", _items()[:1]))
    assert caught.value.code == "BANK_BATCH_CONFLICT"
    with pytest.raises(BankFileRefused) as refused:
        bank.submit("ICBC", "P2", b"junk")
    assert (refused.value.code, refused.value.message, refused.value.details) == (
        "BANK_FILE_HASH", "校验值不符", {"line": 3})
    with pytest.raises(InvalidInput) as caught:
        bank.submit("ICBC", "../P2", _batch("P1"))
    assert caught.value.code == "BANK_BATCH_NO_INVALID"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_exchange_server_errors_are_unavailable(front_end, status):
    front_end.fail_with = status
    bank = HttpBankFileExchange(front_end.url, 2.0)
    for call in (lambda: bank.submit("ICBC", "P1", _batch("P1")),
                 lambda: bank.statement("ICBC", "P1")):
        with pytest.raises(UpstreamUnavailable) as caught:
            call()
        assert (caught.value.code, caught.value.status) == ("BANK_UNAVAILABLE", 503)


def test_http_exchange_timeout_is_unavailable(front_end):
    front_end.hold = True  # the front end never answers: only the 0.2 s limit ends a call
    bank = HttpBankFileExchange(front_end.url, 0.2)
    for call in (lambda: bank.submit("ICBC", "P1", _batch("P1")),
                 lambda: bank.statement("ICBC", "P1")):
        with pytest.raises(UpstreamUnavailable) as caught:
            call()
        assert caught.value.code == "BANK_UNAVAILABLE"


def test_http_exchange_without_a_listener_is_unavailable():
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    bank = HttpBankFileExchange(f"http://127.0.0.1:{port}", 0.5)
    with pytest.raises(UpstreamUnavailable) as caught:
        bank.statement("ICBC", "P1")
    assert caught.value.code == "BANK_UNAVAILABLE"

