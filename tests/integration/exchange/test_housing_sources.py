"""Housing-side shared sources: property registry, housing transactions, tax invoices.

Local lookups and the CSV loader run on both engines (`db_url`); the HTTP implementations
talk to a real HTTP server on 127.0.0.1 started here (a thread), including a timeout, a 500,
a malformed answer and a closed port, each of which must be "cannot answer", never "nothing".
"""

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hpf.cli import app
from hpf.config import get_settings
from hpf.exchange import housing_load
from hpf.exchange.housing import (
    HttpHousingSource,
    LocalHousingSource,
    MaintenancePayment,
    PurchaseContract,
    housing_source,
)
from hpf.exchange.housing_models import (
    RegHousingContract,
    RegHousingContractBuyer,
    RegProperty,
    RegPropertyOwner,
    RegTaxInvoice,
)
from hpf.exchange.property import Home, HttpPropertySource, LocalPropertySource, property_source
from hpf.exchange.tax import HttpTaxSource, Invoice, LocalTaxSource, tax_source
from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.kit.errors import InvalidInput, UpstreamUnavailable
from hpf.kit.ids import id_check_digit

TODAY = date(2026, 11, 22)


def pid(first17: str) -> str:
    """A valid ID number from its first 17 digits."""
    return first17 + id_check_digit(first17)


def wrong_check(id_number: str) -> str:
    """The same ID number with a wrong check character."""
    return id_number[:-1] + ("1" if id_number[-1] == "0" else "0")


WIFE = pid("53010219880304002")
HUSBAND = pid("53010319860711001")
OTHER = pid("53011119900101003")
NOBODY = pid("53011219920202004")
CERT = "云(2025)昆明市不动产权第0000001号"
OLD_CERT = "云(2019)昆明市不动产权第0000009号"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def load(url: str, source: str, path: Path, **kw) -> housing_load.LoadReport:
    with clock.frozen(TODAY):
        return housing_load.load_file(url, source, path, **kw)


@pytest.fixture
def loaded(db_url: str, tmp_path: Path) -> str:
    """The four files of a couple who bought a new home in 2025, and an older, sold home."""
    files = {
        "property": "cert_no,address,floor_area_m2,registered_on,use,status,owner_id_numbers\n"
                    f"{CERT},五华区人民中路8号3-2-501,89.50,2025-06-30,住宅,现势,{WIFE};{HUSBAND}\n"
                    f"{OLD_CERT},盘龙区青年路1号,60,2019-01-15,住宅,注销,{WIFE}\n",
        "contract": "contract_no,kind,buyer_id_numbers,price_yuan,signed_on,filed_on,address,"
                    "floor_area_m2\n"
                    f"YS202500000001,商品房,{HUSBAND};{WIFE},1074000.00,2025-04-01,2025-04-10,"
                    "五华区人民中路8号3-2-501,89.50\n"
                    f"CS201800000007,resale,{WIFE},650000,2018-11-01,2018-11-20,盘龙区青年路1号,60\n",
        "maintenance": "receipt_no,id_number,amount_yuan,paid_on,address\n"
                       f"WX202500000001,{WIFE},5370.00,2025-04-10,五华区人民中路8号3-2-501\n",
        "invoice": "invoice_no,kind,buyer_id_number,amount_yuan,issued_on,address,seller\n"
                   f"2025000000000001,契税,{WIFE},10740.00,2025-04-20,五华区人民中路8号3-2-501,"
                   "国家税务总局昆明市五华区税务局\n"
                   f"2025000000000002,house_sale,{WIFE},1074000,2025-04-02,五华区人民中路8号3-2-501,"
                   "春城房地产开发有限公司\n"
                   f"2026000000000003,物业费,{HUSBAND},2685.00,2026-01-15,五华区人民中路8号3-2-501,"
                   "翠湖物业服务有限公司\n",
    }
    for source, text in files.items():
        report = load(db_url, source, write(tmp_path / f"{source}.csv", text))
        assert report.refused == [], report.refused
    return db_url


# --- local lookups -------------------------------------------------------------------------------

def test_property_lookups(loaded: str) -> None:
    with transaction(loaded) as s:
        source = LocalPropertySource(s)
        home = Home(CERT, "五华区人民中路8号3-2-501", 8950, date(2025, 6, 30),
                    tuple(sorted([WIFE, HUSBAND])), "住宅", "active")
        # Co-owners both see the home; the sold (cancelled) one is no longer hers.
        assert source.homes_of(WIFE) == [home]
        assert source.homes_of(HUSBAND) == [home]
        assert source.homes_of(OTHER) == []
        assert source.home(CERT) == home
        assert source.home(OLD_CERT).status == "cancelled"
        assert source.home(OLD_CERT).owner_id_numbers == (WIFE,)
        assert source.home("云(2025)昆明市不动产权第9999999号") is None
        assert isinstance(property_source(s), LocalPropertySource)


def test_a_load_leaves_planner_statistics(loaded: str) -> None:
    """Lookups by ID number are planned on statistics of the loaded tables, not on none."""
    from sqlalchemy import text

    with transaction(loaded) as s:
        if loaded.startswith("sqlite"):
            analysed = set(s.scalars(text("SELECT tbl FROM sqlite_stat1")))
        else:
            analysed = set(s.scalars(text(
                "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")))
    assert {"reg_property", "reg_property_owner", "reg_housing_contract",
            "reg_tax_invoice"} <= analysed


def test_housing_lookups(loaded: str) -> None:
    with transaction(loaded) as s:
        source = LocalHousingSource(s)
        new = PurchaseContract("YS202500000001", "new", tuple(sorted([WIFE, HUSBAND])),
                               107_400_000, date(2025, 4, 1), date(2025, 4, 10),
                               "五华区人民中路8号3-2-501", 8950)
        old = PurchaseContract("CS201800000007", "resale", (WIFE,), 65_000_000,
                               date(2018, 11, 1), date(2018, 11, 20), "盘龙区青年路1号", 6000)
        assert source.contract("YS202500000001") == new
        assert source.contract("nope") is None
        assert source.contracts_of(WIFE) == [old, new]  # oldest first
        assert source.contracts_of(HUSBAND) == [new]
        assert source.contracts_of(OTHER) == []
        assert source.maintenance_payments_of(WIFE) == [MaintenancePayment(
            "WX202500000001", WIFE, 537_000, date(2025, 4, 10), "五华区人民中路8号3-2-501")]
        assert source.maintenance_payments_of(HUSBAND) == []
        assert isinstance(housing_source(s), LocalHousingSource)


def test_tax_lookups(loaded: str) -> None:
    with transaction(loaded) as s:
        source = LocalTaxSource(s)
        deed = Invoice("2025000000000001", "deed_tax", WIFE, 1_074_000, date(2025, 4, 20),
                       "五华区人民中路8号3-2-501", "国家税务总局昆明市五华区税务局")
        assert source.invoice("2025000000000001") == deed
        assert source.invoice("0") is None
        assert [i.kind for i in source.invoices_of(WIFE)] == ["house_sale", "deed_tax"]
        assert [(i.kind, i.amount_fen) for i in source.invoices_of(HUSBAND)] == [
            ("property_fee", 268_500)]
        assert source.invoices_of(OTHER) == []
        assert isinstance(tax_source(s), LocalTaxSource)


# --- the CSV loader ------------------------------------------------------------------------------

def _table_state(url: str) -> dict:
    with transaction(url) as s:
        return {m.__tablename__: sorted(tuple(getattr(r, c.key) for c in m.__table__.c)
                                        for r in s.scalars(select(m)))
                for m in (RegProperty, RegPropertyOwner, RegHousingContract,
                          RegHousingContractBuyer, RegTaxInvoice)}


def test_loader_rerun_is_idempotent_and_replaces_owners(loaded: str, tmp_path: Path) -> None:
    before = _table_state(loaded)
    for source in ("property", "contract", "maintenance", "invoice"):
        assert load(loaded, source, tmp_path / f"{source}.csv").loaded > 0
    assert _table_state(loaded) == before
    # The bureau's next file says the husband alone owns the home now (a divorce settlement):
    # the owner list is replaced, not merged; a chunk of 1 row exercises the chunking.
    write(tmp_path / "p2.csv",
          "cert_no,address,floor_area_m2,registered_on,owner_id_numbers\n"
          f"{CERT},五华区人民中路8号3-2-501,89.5,2026-02-01,{HUSBAND}\n"
          f"{CERT},五华区人民中路8号3-2-501,89.5,2026-02-01,{HUSBAND}\n")
    report = load(loaded, "property", tmp_path / "p2.csv", chunk_rows=1)
    assert (report.loaded, report.refused_count) == (2, 0)
    with transaction(loaded) as s:
        assert LocalPropertySource(s).homes_of(WIFE) == []
        home = LocalPropertySource(s).home(CERT)
        assert (home.owner_id_numbers, home.registered_on) == ((HUSBAND,), date(2026, 2, 1))
        assert s.scalar(select(func.count()).select_from(RegProperty)) == 2


def test_loader_refuses_bad_rows_by_line(db_url: str, tmp_path: Path) -> None:
    text = ("invoice_no,kind,buyer_id_number,amount_yuan,issued_on,address,seller\n"
            f"A1,deed_tax,{OTHER},100.00,2026-01-01,某地,某税务局\n"          # line 2 good
            f"A2,deed_tax,{wrong_check(OTHER)},100.00,2026-01-01,某地,某税务局\n"     # 3 checksum
            f"A3,deed_tax,{OTHER},100.001,2026-01-01,某地,某税务局\n"          # 4 3 decimals
            f"A4,deed_tax,{OTHER},0,2026-01-01,某地,某税务局\n"                # 5 zero
            f"A5,deed_tax,{OTHER},-5,2026-01-01,某地,某税务局\n"               # 6 negative
            f"A6,deed_tax,{OTHER},100,2026-13-01,某地,某税务局\n"              # 7 bad date
            f"A7,deed_tax,{OTHER},100,2026-11-23,某地,某税务局\n"              # 8 future
            f"A8,lottery,{OTHER},100,2026-01-01,某地,某税务局\n"               # 9 kind
            f"A9,deed_tax,{OTHER},100,2026-01-01,,某税务局\n"                  # 10 empty
            f"A10,deed_tax,{OTHER},100,2026-01-01,某地,某税务局,extra\n"       # 11 extra
            f"A11,装修,{OTHER},30000,2026-01-01,某地,某装饰公司\n")            # 12 good
    report = load(db_url, "invoice", write(tmp_path / "i.csv", text))
    assert report.loaded == 2 and report.refused_count == 9
    lines = dict(report.refused)
    assert sorted(lines) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "校验位" in lines[3] and "两位小数" in lines[4] and "大于零" in lines[5]
    assert "大于零" in lines[6] and "日期无效" in lines[7] and "晚于今天" in lines[8]
    assert "取值无效" in lines[9] and "address 不能为空" in lines[10] and "列数" in lines[11]
    with transaction(db_url) as s:
        assert LocalTaxSource(s).invoice("A11").amount_fen == 3_000_000
        assert LocalTaxSource(s).invoice("A2") is None


def test_loader_refuses_bad_property_and_contract_rows(db_url: str, tmp_path: Path) -> None:
    prop = ("cert_no,address,floor_area_m2,registered_on,owner_id_numbers\n"
            f"C1,某地,89.505,2025-01-01,{OTHER}\n"           # 2 area has 3 decimals
            f"C2,某地,0,2025-01-01,{OTHER}\n"                # 3 area zero
            f"C3,某地,90,2025-01-01,\n"                      # 4 no owner
            f"C4,某地,90,2025-01-01,{OTHER};bad\n")          # 5 one bad owner
    report = load(db_url, "property", write(tmp_path / "p.csv", prop))
    assert (report.loaded, sorted(dict(report.refused))) == (0, [2, 3, 4, 5])
    contract = ("contract_no,kind,buyer_id_numbers,price_yuan,signed_on,filed_on,address,"
                "floor_area_m2\n"
                f"K1,new,{OTHER},100000,2025-02-01,2025-01-01,某地,90\n")   # filed before signed
    report = load(db_url, "contract", write(tmp_path / "c.csv", contract))
    assert report.refused == [(2, "filed_on 备案日期不能早于 signed_on 签约日期")]


def test_loader_refuses_whole_file(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as exc:
        load(db_url, "mortgage", write(tmp_path / "x.csv", "a\n"))
    assert exc.value.code == "REGISTRY_UNKNOWN_SOURCE"
    with pytest.raises(InvalidInput) as exc:
        load(db_url, "invoice", write(tmp_path / "y.csv", "invoice_no,kind\nA,deed_tax\n"))
    assert exc.value.code == "REGISTRY_FILE_COLUMNS"
    assert "buyer_id_number" in exc.value.details["missing"]
    with pytest.raises(InvalidInput) as exc:
        load(db_url, "invoice", tmp_path / "absent.csv")
    assert exc.value.code == "REGISTRY_FILE_MISSING"
    (tmp_path / "gbk.csv").write_bytes("invoice_no,kind,buyer_id_number,amount_yuan,issued_on,"
                                       "address,seller\nA,契税\n".encode("gbk"))
    with pytest.raises(InvalidInput) as exc:
        load(db_url, "invoice", tmp_path / "gbk.csv")
    assert exc.value.code == "REGISTRY_FILE_UNREADABLE"


def test_cli_registry_load(db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", "receipt_no,id_number,amount_yuan,paid_on,address\n"
                                     f"R1,{OTHER},100,2026-01-01,某地\n"
                                     f"R2,{wrong_check(NOBODY)},100,2026-01-01,某地\n")
    with clock.frozen(TODAY):
        result = CliRunner().invoke(app, ["registry", "load", "maintenance", str(path)])
    assert result.exit_code == 1, result.output
    assert "line 3" in result.output and "loaded 1, refused 1" in result.output
    with clock.frozen(TODAY):
        result = CliRunner().invoke(app, ["registry", "load", "nope", str(path)])
    assert result.exit_code == 2 and "REGISTRY_UNKNOWN_SOURCE" in result.output


# --- HTTP implementations against a real local server --------------------------------------------

HOME_JSON = {"cert_no": CERT, "address": "五华区人民中路8号3-2-501", "floor_area_dm2": 8950,
             "registered_on": "2025-06-30", "owners": [WIFE, HUSBAND], "use": "住宅",
             "status": "active"}
CANCELLED_JSON = dict(HOME_JSON, cert_no=OLD_CERT, status="cancelled", owners=[WIFE])
CONTRACT_JSON = {"contract_no": "YS202500000001", "kind": "new", "buyers": [WIFE, HUSBAND],
                 "price_fen": 107_400_000, "signed_on": "2025-04-01", "filed_on": "2025-04-10",
                 "address": "五华区人民中路8号3-2-501", "floor_area_dm2": 8950}
PAYMENT_JSON = {"receipt_no": "WX1", "id_number": WIFE, "amount_fen": 537_000,
                "paid_on": "2025-04-10", "address": "五华区人民中路8号3-2-501"}
INVOICE_JSON = {"invoice_no": "2025000000000001", "kind": "deed_tax", "buyer_id_number": WIFE,
                "amount_fen": 1_074_000, "issued_on": "2025-04-20",
                "address": "五华区人民中路8号3-2-501", "seller": "国家税务总局昆明市五华区税务局"}


def floats(value):  # noqa: ANN001, ANN201
    """Every integer of an answer turned into a float (yuan-style 5370.5 instead of fen)."""
    if isinstance(value, dict):
        return {k: floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [floats(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return value + 0.5
    return value


class Platform(BaseHTTPRequestHandler):
    """The data-exchange platform: answers by path; `mode` makes it fail on purpose."""

    mode = "ok"  # ok | slow | error | bad
    seen: list = []
    # "slow" holds every request until the test ends: an answer can only come from the
    # client's own time limit, whatever the machine's speed.
    released = threading.Event()

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Platform.seen.append((self.path, body))
        if Platform.mode == "slow":
            Platform.released.wait(30)
            return
        if Platform.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        key = next(iter(body.values()))
        known = key in (WIFE, CERT, "YS202500000001", "2025000000000001")
        answers = {
            "/property/homes": {"homes": [HOME_JSON, CANCELLED_JSON] if known else []},
            "/property/home": {"home": HOME_JSON if known else None},
            "/housing/contract": {"contract": CONTRACT_JSON if known else None},
            "/housing/contracts": {"contracts": [CONTRACT_JSON] if known else []},
            "/housing/maintenance-payments": {"payments": [PAYMENT_JSON] if known else []},
            "/tax/invoice": {"invoice": INVOICE_JSON if known else None},
            "/tax/invoices": {"invoices": [INVOICE_JSON] if known else []},
        }
        answer = answers.get(self.path.removeprefix("/exchange"))  # the platform's base path
        if answer is None:
            self.send_response(404)
            self.end_headers()
            return
        if Platform.mode == "bad":  # amounts and areas as floats: never rounded silently
            answer = floats(answer)
        data = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Platform)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/exchange/"
    Platform.mode, Platform.seen = "ok", []
    Platform.released.clear()
    monkeypatch.setenv("HPF_SHARED_DATA_ADAPTER", "http")
    monkeypatch.setenv("HPF_SHARED_DATA_URL", url)
    monkeypatch.setenv("HPF_HTTP_TIMEOUT_S", "0.3")
    get_settings.cache_clear()
    try:
        yield url
    finally:
        Platform.released.set()
        server.shutdown()
        server.server_close()
        get_settings.cache_clear()


def test_http_sources_answer(platform: str) -> None:
    prop, housing, tax = property_source(None), housing_source(None), tax_source(None)
    assert isinstance(prop, HttpPropertySource) and isinstance(housing, HttpHousingSource)
    assert isinstance(tax, HttpTaxSource)
    home = Home(CERT, "五华区人民中路8号3-2-501", 8950, date(2025, 6, 30),
                tuple(sorted([WIFE, HUSBAND])))
    assert prop.homes_of(WIFE) == [home]  # the cancelled certificate is not a home she owns
    assert prop.homes_of(OTHER) == []
    assert prop.home(CERT) == home and prop.home("x") is None
    contract = PurchaseContract("YS202500000001", "new", tuple(sorted([WIFE, HUSBAND])),
                                107_400_000, date(2025, 4, 1), date(2025, 4, 10),
                                "五华区人民中路8号3-2-501", 8950)
    assert housing.contract("YS202500000001") == contract and housing.contract("x") is None
    assert housing.contracts_of(WIFE) == [contract] and housing.contracts_of(OTHER) == []
    assert housing.maintenance_payments_of(WIFE)[0].amount_fen == 537_000
    assert tax.invoice("2025000000000001").amount_fen == 1_074_000
    assert tax.invoice("x") is None and tax.invoices_of(OTHER) == []
    assert tax.invoices_of(WIFE)[0].kind == "deed_tax"
    assert ("/exchange/property/homes", {"id_number": WIFE}) in [
        (p, b) for p, b in Platform.seen]


CALLS = [
    (lambda: property_source(None).homes_of(WIFE), "PROPERTY_SOURCE_UNAVAILABLE"),
    (lambda: property_source(None).home(CERT), "PROPERTY_SOURCE_UNAVAILABLE"),
    (lambda: housing_source(None).contract("YS202500000001"), "HOUSING_SOURCE_UNAVAILABLE"),
    (lambda: housing_source(None).contracts_of(WIFE), "HOUSING_SOURCE_UNAVAILABLE"),
    (lambda: housing_source(None).maintenance_payments_of(WIFE), "HOUSING_SOURCE_UNAVAILABLE"),
    (lambda: tax_source(None).invoice("2025000000000001"), "TAX_SOURCE_UNAVAILABLE"),
    (lambda: tax_source(None).invoices_of(WIFE), "TAX_SOURCE_UNAVAILABLE"),
]


@pytest.mark.parametrize("mode", ["slow", "error", "bad"])
def test_http_sources_cannot_answer(platform: str, mode: str) -> None:
    Platform.mode = mode
    for call, code in CALLS:
        with pytest.raises(UpstreamUnavailable) as exc:
            call()  # "slow": the platform never answers; only the 0.3 s limit ends the call
        assert exc.value.code == code and exc.value.status == 503
        assert "暂时无法响应" in exc.value.message


def test_http_source_closed_port(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UpstreamUnavailable) as exc:
        HttpPropertySource("http://127.0.0.1:9", 0.3).homes_of(WIFE)
    assert exc.value.code == "PROPERTY_SOURCE_UNAVAILABLE"
    # A URL that was never configured means the local tables answer, as for identity.
    monkeypatch.setenv("HPF_SHARED_DATA_ADAPTER", "http")
    monkeypatch.delenv("HPF_SHARED_DATA_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert isinstance(tax_source(None), LocalTaxSource)
    finally:
        get_settings.cache_clear()
