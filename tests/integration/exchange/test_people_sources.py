"""People-side shared sources: civil affairs, social security, the credit reference.

Local lookups, the CSV loader and the demo filler run on both engines (`db_url`); the HTTP
implementations talk to a real HTTP server on 127.0.0.1 started here (a thread), including a
timeout, a 500 and a malformed answer, each of which must be "cannot answer", never "nothing".
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
from hpf.demo import people_registries as demo
from hpf.demo.seed import seed_city
from hpf.deposits.models import Member
from hpf.exchange import people_load
from hpf.exchange.civil import (
    Allowance,
    HttpCivilAffairs,
    LocalCivilAffairs,
    Marriage,
    civil_affairs_source,
)
from hpf.exchange.credit import (
    HousingLoan,
    HttpCreditReference,
    LocalCreditReference,
    credit_reference_source,
)
from hpf.exchange.housing_models import RegPropertyOwner
from hpf.exchange.models import RegPerson
from hpf.exchange.people_models import (
    RegDisability,
    RegHousingLoan,
    RegLowIncome,
    RegMarriage,
    RegRetirement,
    RegSeriousIllness,
    RegUnemployment,
)
from hpf.exchange.social import (
    Disability,
    HttpSocialSecurity,
    LocalSocialSecurity,
    Retirement,
    SeriousIllness,
    Unemployment,
    social_security_source,
)
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
EX_WIFE = pid("53011119870101002")
OTHER = pid("53011119900101003")
NOBODY = pid("53011219920202004")

FILES = {
    "marriage": "record_no,party_a_id_number,party_a_name,party_b_id_number,party_b_name,"
                "married_on,divorced_on\n"
                f"J2012-1,{HUSBAND},张伟,{EX_WIFE},李娜,2012-05-01,2016-08-01\n"
                f"J2018-7,{HUSBAND},张伟,{WIFE},王芳,2018-10-01,\n"
                f"J2014-3,{OTHER},赵强,{EX_WIFE},李娜,2014-01-01,2015-01-01\n",
    "low-income": "certificate_no,id_number,name,since,until,status\n"
                  f"DB2019-1,{WIFE},王芳,2019-01-01,2020-12-31,停保\n"
                  f"DB2025-9,{WIFE},王芳,2025-03-01,,在保\n"
                  f"DB2021-4,{OTHER},赵强,2021-01-01,2022-06-30,ended\n",
    "retirement": "id_number,name,approval_no,retired_on,kind\n"
                  f"{OTHER},赵强,TX2026-1,2026-07-15,正常退休\n",
    "unemployment": "registration_no,id_number,name,registered_on,ended_on,receiving_benefit\n"
                    f"SY2023-1,{HUSBAND},张伟,2023-02-01,2023-09-30,否\n"
                    f"SY2026-5,{HUSBAND},张伟,2026-06-01,,是\n",
    "disability": "assessment_no,id_number,name,level,assessed_on,labour_ended_on\n"
                  f"JD2024-1,{WIFE},王芳,7,2024-03-01,\n"
                  f"JD2026-2,{WIFE},王芳,3,2026-05-10,2026-06-30\n",
    "illness": "record_no,id_number,name,diagnosis,hospital,out_of_pocket_yuan,from_date,to_date\n"
               f"ZB1,{HUSBAND},张伟,恶性肿瘤,云南省肿瘤医院,52000.50,2026-01-05,2026-02-20\n"
               f"ZB2,{HUSBAND},张伟,恶性肿瘤,云南省肿瘤医院,18000,2026-04-01,2026-04-15\n",
    "housing-loan": "contract_no,id_number,name,role,lender,kind,property_address,"
                    "principal_yuan,term_months,start_date,outstanding_yuan,repaid_12m_yuan,"
                    "status,reported_on\n"
                    f"HL1,{HUSBAND},张伟,借款人,中国建设银行,商业贷款,五华区人民中路8号501,"
                    "1000000,360,2019-06-20,859000.12,63687.24,正常,2026-10-31\n"
                    f"HL1,{WIFE},王芳,共同借款人,中国建设银行,商业贷款,五华区人民中路8号501,"
                    "1000000,360,2019-06-20,859000.12,63687.24,正常,2026-10-31\n"
                    f"HL0,{HUSBAND},张伟,borrower,中国银行,commercial,盘龙区北京路1号,"
                    "300000,120,2008-01-10,0,0,settled,2026-10-31\n",
}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def load(url: str, source: str, path: Path, **kw) -> people_load.LoadReport:
    with clock.frozen(TODAY):
        return people_load.load_file(url, source, path, **kw)


@pytest.fixture
def loaded(db_url: str, tmp_path: Path) -> str:
    """A couple (the husband divorced before), a retired man, and their records."""
    for source, text in FILES.items():
        report = load(db_url, source, write(tmp_path / f"{source}.csv", text))
        assert report.refused == [], (source, report.refused)
        assert report.loaded == text.count("\n") - 1
    return db_url


# --- local lookups ----------------------------------------------------------------------------

def test_civil_affairs_lookups(loaded: str) -> None:
    with transaction(loaded) as s:
        civil = LocalCivilAffairs(s)
        # The divorce of 2016 ended the first marriage; the 2018 one stands, seen from both.
        assert civil.marriage_of(HUSBAND) == Marriage("J2018-7", WIFE, "王芳", date(2018, 10, 1))
        assert civil.marriage_of(WIFE) == Marriage("J2018-7", HUSBAND, "张伟",
                                                   date(2018, 10, 1))
        assert civil.marriage_of(EX_WIFE) is None  # two divorces, no current marriage
        assert civil.marriage_of(NOBODY) is None
        allowance = civil.low_income_of(WIFE)
        assert allowance == Allowance("DB2025-9", date(2025, 3, 1), None, "active")
        assert allowance.active_on(TODAY) and allowance.active_on(date(2025, 3, 1))
        assert not allowance.active_on(date(2025, 2, 28))
        ended = civil.low_income_of(OTHER)
        assert ended == Allowance("DB2021-4", date(2021, 1, 1), date(2022, 6, 30), "ended")
        assert ended.active_on(date(2022, 6, 30)) and not ended.active_on(date(2022, 7, 1))
        assert civil.low_income_of(HUSBAND) is None


def test_social_security_lookups(loaded: str) -> None:
    with transaction(loaded) as s:
        social = LocalSocialSecurity(s)
        assert social.retirement_of(OTHER) == Retirement("TX2026-1", date(2026, 7, 15), "normal")
        assert social.retirement_of(WIFE) is None
        unemployed = social.unemployment_of(HUSBAND)
        assert unemployed == Unemployment("SY2026-5", date(2026, 6, 1), None, True)
        assert unemployed.active_on(TODAY) and not unemployed.active_on(date(2026, 5, 31))
        assert social.unemployment_of(WIFE) is None
        # The reassessment of 2026 replaces the level 7 of 2024.
        assert social.disability_of(WIFE) == Disability("JD2026-2", 3, date(2026, 5, 10),
                                                        date(2026, 6, 30))
        assert social.disability_of(HUSBAND) is None
        assert social.serious_illness_of(HUSBAND) == [
            SeriousIllness("ZB2", "恶性肿瘤", "云南省肿瘤医院", 1_800_000, date(2026, 4, 1),
                           date(2026, 4, 15)),
            SeriousIllness("ZB1", "恶性肿瘤", "云南省肿瘤医院", 5_200_050, date(2026, 1, 5),
                           date(2026, 2, 20))]
        assert social.serious_illness_of(WIFE) == []


def test_credit_reference_lookups(loaded: str) -> None:
    with transaction(loaded) as s:
        credit = LocalCreditReference(s)
        current = HousingLoan("HL1", "中国建设银行", "commercial", "borrower",
                              "五华区人民中路8号501", 100_000_000, 360, date(2019, 6, 20),
                              85_900_012, 6_368_724, "normal", date(2026, 10, 31))
        settled = HousingLoan("HL0", "中国银行", "commercial", "borrower", "盘龙区北京路1号",
                              30_000_000, 120, date(2008, 1, 10), 0, 0, "settled",
                              date(2026, 10, 31))
        assert credit.housing_loans_of(HUSBAND) == [current, settled]  # latest first
        assert credit.housing_loans_of(WIFE) == [
            HousingLoan(**{**current.__dict__, "role": "co_borrower"})]
        assert credit.housing_loans_of(NOBODY) == []


def test_factories_choose_local_by_default(db_url: str) -> None:
    with transaction(db_url) as s:
        assert isinstance(civil_affairs_source(s), LocalCivilAffairs)
        assert isinstance(social_security_source(s), LocalSocialSecurity)
        assert isinstance(credit_reference_source(s), LocalCreditReference)


# --- the loader -------------------------------------------------------------------------------

def test_loader_rerun_is_idempotent_and_updates(loaded: str, tmp_path: Path) -> None:
    def counts() -> list[int]:
        with transaction(loaded) as s:
            return [s.scalar(select(func.count()).select_from(t)) for t in (
                RegMarriage, RegLowIncome, RegRetirement, RegUnemployment, RegDisability,
                RegSeriousIllness, RegHousingLoan)]

    before = counts()
    assert before == [3, 3, 1, 2, 2, 2, 3]
    for source, text in FILES.items():
        assert load(loaded, source, write(tmp_path / f"{source}.csv", text)).loaded
    assert counts() == before
    # A later file states the record as it is now: the 2018 marriage ended in a divorce, and
    # the loan's figures moved on. In one file the later line of a record wins.
    write(tmp_path / "m.csv", FILES["marriage"].splitlines()[0] + "\n"
          f"J2018-7,{HUSBAND},张伟,{WIFE},王芳,2018-10-01,2026-09-01\n")
    assert load(loaded, "marriage", tmp_path / "m.csv").loaded == 1
    lines = FILES["housing-loan"].splitlines()
    moved = lines[1].replace("859000.12", "857000.00")
    write(tmp_path / "l.csv", "\n".join([lines[0], lines[1], moved]) + "\n")
    assert load(loaded, "housing-loan", tmp_path / "l.csv", chunk_rows=5).loaded == 2
    assert counts() == before
    with transaction(loaded) as s:
        assert LocalCivilAffairs(s).marriage_of(WIFE) is None
        loans = LocalCreditReference(s).housing_loans_of(HUSBAND)
        assert loans[0].outstanding_fen == 85_700_000


def test_loader_refuses_bad_rows_by_line(db_url: str, tmp_path: Path) -> None:
    header = FILES["marriage"].splitlines()[0]
    path = write(tmp_path / "m.csv", "\n".join([
        header,
        f"J1,{HUSBAND},张伟,{WIFE},王芳,2018-10-01,",                       # 2 good
        f"J2,{wrong_check(HUSBAND)},张伟,{WIFE},王芳,2018-10-01,",          # 3
        f"J3,{HUSBAND},张伟,{WIFE},王芳,2027-01-01,",                       # 4 future
        f"J4,{HUSBAND},张伟,{WIFE},王芳,2018-10-01,2018-09-30",             # 5 order
        f"J5,{HUSBAND},张伟,{HUSBAND},张伟,2018-10-01,",                    # 6 one person
        f"J6,{HUSBAND},,{WIFE},王芳,2018-10-01,",                           # 7 no name
        f"J7,{HUSBAND},张伟,{WIFE},王芳,2018/10/01,",                       # 8 date format
        f"J8,{HUSBAND},张伟,{WIFE},王芳,2018-10-01,,extra",                 # 9 extra column
    ]) + "\n")
    report = load(db_url, "marriage", path)
    assert report.loaded == 1 and report.refused_count == 7
    assert report.refused == [
        (3, f"party_a_id_number 身份证号码校验位错误：{wrong_check(HUSBAND)}"),
        (4, "married_on 不能晚于今天：2027-01-01"),
        (5, "divorced_on 不能早于 married_on"),
        (6, "双方身份证号码相同"),
        (7, "party_a_name 不能为空"),
        (8, "married_on 日期无效：2018/10/01（应为 YYYY-MM-DD）"),
        (9, "列数多于表头"),
    ]


def test_loader_refuses_bad_values_of_each_source(db_url: str, tmp_path: Path) -> None:
    cases = {
        "low-income": (f"DB1,{WIFE},王芳,2025-03-01,,ended", "停保记录须有 until 截止日期"),
        "retirement": (f"{OTHER},赵强,TX1,2026-07-15,retired", "kind 取值无效：retired"),
        "unemployment": (f"SY1,{HUSBAND},张伟,2026-06-01,,maybe",
                         "receiving_benefit 取值无效：maybe"),
        "disability": (f"JD1,{WIFE},王芳,11,2026-05-10,", "level 应为 1-10 的整数：11"),
        "illness": (f"ZB1,{HUSBAND},张伟,恶性肿瘤,医院,100.005,2026-01-05,2026-02-20",
                    "out_of_pocket_yuan 金额无效：100.005（元，最多两位小数）"),
    }
    loan = FILES["housing-loan"].splitlines()[1]
    loan_cases = [
        (loan.replace("859000.12", "1000000.01"), "outstanding_yuan 余额不能大于 principal_yuan 本金"),
        (loan.replace("正常", "结清"), "已结清的贷款余额应为零"),
        (loan.replace(",360,", ",0,"), "term_months 应为 1-600 的整数：0"),
        (loan.replace("商业贷款", "信用贷款"), "kind 取值无效：信用贷款"),
        (loan.replace("1000000,", "-5,"), "principal_yuan 金额超出合理范围：-5"),
    ]
    for source, (line, reason) in cases.items():
        header = FILES[source].splitlines()[0]
        report = load(db_url, source, write(tmp_path / "f.csv", f"{header}\n{line}\n"))
        assert (report.loaded, report.refused) == (0, [(2, reason)]), source
    header = FILES["housing-loan"].splitlines()[0]
    text = "\n".join([header] + [line for line, _ in loan_cases]) + "\n"
    report = load(db_url, "housing-loan", write(tmp_path / "l.csv", text))
    assert report.loaded == 0
    assert report.refused == [(n, reason) for n, (_, reason) in enumerate(loan_cases, 2)]


def test_loader_refuses_whole_file(db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "record_no,party_a_id_number\nJ1,x\n")
    with pytest.raises(InvalidInput) as exc:
        load(db_url, "marriage", path)
    assert exc.value.code == "REGISTRY_FILE_COLUMNS"
    assert exc.value.details["missing"][0] == "party_a_name"
    with pytest.raises(InvalidInput) as exc:
        load(db_url, "pets", path)
    assert exc.value.code == "REGISTRY_UNKNOWN_SOURCE"
    with pytest.raises(InvalidInput) as exc:
        load(db_url, "marriage", tmp_path / "none.csv")
    assert exc.value.code == "REGISTRY_FILE_MISSING"
    path.write_bytes(FILES["retirement"].encode("gbk"))
    with pytest.raises(InvalidInput) as exc:
        load(db_url, "retirement", path)
    assert exc.value.code == "REGISTRY_FILE_UNREADABLE"
    assert load(db_url, "retirement", path, encoding="gbk").loaded == 1  # when told so


def test_cli_registry_load(db_url: str, tmp_path: Path) -> None:
    header = FILES["retirement"].splitlines()[0]
    path = write(tmp_path / "r.csv", f"{header}\n{OTHER},赵强,TX1,2026-07-15,normal\n"
                                     f"{wrong_check(WIFE)},王芳,TX2,2026-07-15,normal\n")
    with clock.frozen(TODAY):
        result = CliRunner().invoke(app, ["registry", "load", "retirement", str(path)])
    assert result.exit_code == 1, result.output
    assert "line 3" in result.output and "loaded 1, refused 1" in result.output
    with transaction(db_url) as s:
        assert LocalSocialSecurity(s).retirement_of(OTHER).approval_no == "TX1"


# --- HTTP implementations against a real local server -------------------------------------------

MARRIAGE_JSON = {"record_no": "J2018-7", "spouse_id_number": WIFE, "spouse_name": "王芳",
                 "married_on": "2018-10-01"}
ALLOWANCE_JSON = {"certificate_no": "DB2025-9", "since": "2025-03-01", "until": None,
                  "status": "active"}
RETIREMENT_JSON = {"approval_no": "TX2026-1", "retired_on": "2026-07-15", "kind": "normal"}
UNEMPLOYMENT_JSON = {"registration_no": "SY2026-5", "registered_on": "2026-06-01",
                     "ended_on": None, "receiving_benefit": True}
DISABILITY_JSON = {"assessment_no": "JD2026-2", "level": 3, "assessed_on": "2026-05-10",
                   "labour_ended_on": "2026-06-30"}
ILLNESS_JSON = [{"record_no": "ZB1", "diagnosis": "恶性肿瘤", "hospital": "云南省肿瘤医院",
                 "out_of_pocket_fen": 5_200_050, "from_date": "2026-01-05",
                 "to_date": "2026-02-20"},
                {"record_no": "ZB2", "diagnosis": "恶性肿瘤", "hospital": "云南省肿瘤医院",
                 "out_of_pocket_fen": 1_800_000, "from_date": "2026-04-01",
                 "to_date": "2026-04-15"}]
LOAN_JSON = {"contract_no": "HL1", "lender": "中国建设银行", "kind": "commercial",
             "role": "borrower", "property_address": "五华区人民中路8号501",
             "principal_fen": 100_000_000, "term_months": 360, "start_date": "2019-06-20",
             "outstanding_fen": 85_900_012, "repaid_12m_fen": 6_368_724, "status": "normal",
             "reported_on": "2026-10-31"}


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
        known = body.get("id_number") == HUSBAND
        answers = {
            "/civil/marriage": {"marriage": MARRIAGE_JSON if known else None},
            "/civil/low-income": {"allowance": ALLOWANCE_JSON if known else None},
            "/social/retirement": {"retirement": RETIREMENT_JSON if known else None},
            "/social/unemployment": {"unemployment": UNEMPLOYMENT_JSON if known else None},
            "/social/disability": {"disability": DISABILITY_JSON if known else None},
            "/social/serious-illness": {"records": ILLNESS_JSON if known else []},
            "/credit/housing-loans": {"loans": [LOAN_JSON] if known else []},
        }
        answer = answers.get(self.path.removeprefix("/exchange"))
        if answer is None:
            self.send_response(404)
            self.end_headers()
            return
        if Platform.mode == "bad":  # a shape the sources do not speak: one field per answer
            answer = {k: ({**v, "status": "frozen", "kind": "other", "level": 12,
                           "receiving_benefit": "yes", "married_on": "2018/10/01"}
                          if isinstance(v, dict) else [{**v[0], "out_of_pocket_fen": 1.5,
                                                        "principal_fen": "1000"}])
                      for k, v in answer.items()}
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
    civil, social = civil_affairs_source(None), social_security_source(None)
    credit = credit_reference_source(None)
    assert isinstance(civil, HttpCivilAffairs) and isinstance(social, HttpSocialSecurity)
    assert isinstance(credit, HttpCreditReference)
    assert civil.marriage_of(HUSBAND) == Marriage("J2018-7", WIFE, "王芳", date(2018, 10, 1))
    assert civil.low_income_of(HUSBAND) == Allowance("DB2025-9", date(2025, 3, 1), None,
                                                     "active")
    assert social.retirement_of(HUSBAND) == Retirement("TX2026-1", date(2026, 7, 15), "normal")
    assert social.unemployment_of(HUSBAND) == Unemployment("SY2026-5", date(2026, 6, 1), None,
                                                           True)
    assert social.disability_of(HUSBAND) == Disability("JD2026-2", 3, date(2026, 5, 10),
                                                       date(2026, 6, 30))
    assert [r.record_no for r in social.serious_illness_of(HUSBAND)] == ["ZB2", "ZB1"]
    assert credit.housing_loans_of(HUSBAND) == [HousingLoan(
        "HL1", "中国建设银行", "commercial", "borrower", "五华区人民中路8号501", 100_000_000,
        360, date(2019, 6, 20), 85_900_012, 6_368_724, "normal", date(2026, 10, 31))]
    # Nothing on record is an answer too, and not a failure.
    assert civil.marriage_of(NOBODY) is None and civil.low_income_of(NOBODY) is None
    assert social.retirement_of(NOBODY) is None and social.unemployment_of(NOBODY) is None
    assert social.disability_of(NOBODY) is None and social.serious_illness_of(NOBODY) == []
    assert credit.housing_loans_of(NOBODY) == []
    assert ("/exchange/civil/marriage", {"id_number": HUSBAND}) in Platform.seen


CALLS = [
    (lambda: civil_affairs_source(None).marriage_of(HUSBAND), "CIVIL_AFFAIRS_UNAVAILABLE"),
    (lambda: civil_affairs_source(None).low_income_of(HUSBAND), "CIVIL_AFFAIRS_UNAVAILABLE"),
    (lambda: social_security_source(None).retirement_of(HUSBAND),
     "SOCIAL_SECURITY_UNAVAILABLE"),
    (lambda: social_security_source(None).unemployment_of(HUSBAND),
     "SOCIAL_SECURITY_UNAVAILABLE"),
    (lambda: social_security_source(None).disability_of(HUSBAND),
     "SOCIAL_SECURITY_UNAVAILABLE"),
    (lambda: social_security_source(None).serious_illness_of(HUSBAND),
     "SOCIAL_SECURITY_UNAVAILABLE"),
    (lambda: credit_reference_source(None).housing_loans_of(HUSBAND),
     "CREDIT_REFERENCE_UNAVAILABLE"),
]


@pytest.mark.parametrize("mode", ["slow", "error", "bad"])
def test_http_sources_cannot_answer(platform: str, mode: str) -> None:
    Platform.mode = mode
    for call, code in CALLS:
        with pytest.raises(UpstreamUnavailable) as exc:
            call()  # "slow": the platform never answers; only the 0.3 s limit ends the call
        assert exc.value.code == code and exc.value.status == 503
        assert "暂时无法响应" in exc.value.message


def test_http_source_closed_port() -> None:
    with pytest.raises(UpstreamUnavailable) as exc:
        HttpCreditReference("http://127.0.0.1:9", 0.3).housing_loans_of(HUSBAND)
    assert exc.value.code == "CREDIT_REFERENCE_UNAVAILABLE"


# --- worked examples of the demo's arithmetic ---------------------------------------------------

def test_demo_loan_arithmetic_worked_examples() -> None:
    # 1,000,000 yuan over 30 years at 4.9% (commercial) and 3.25% (fund): the instalments
    # every bank's table shows, 5,307.27 and 4,352.06 yuan.
    assert demo.monthly_payment_fen(100_000_000, 490, 360) == 530_727
    assert demo.monthly_payment_fen(100_000_000, 325, 360) == 435_206
    # After the first instalment: interest 1,000,000 × 4.9% / 12 = 4,083.33; principal
    # 5,307.27 − 4,083.33 = 1,223.94; outstanding 998,776.06 yuan.
    assert demo.balance_after_fen(100_000_000, 490, 530_727, 1) == 99_877_606
    assert demo.balance_after_fen(100_000_000, 490, 530_727, 0) == 100_000_000


def test_demo_statutory_retirement_worked_examples() -> None:
    # Men born 1966-03: 14 months after 1965-01 → 14 // 4 + 1 = 4 months → 60 years 4 months.
    assert demo.statutory_retirement_date(date(1966, 3, 15), "M60") == date(2026, 7, 15)
    # Born before the start month: the old age.
    assert demo.statutory_retirement_date(date(1964, 12, 1), "M60") == date(2024, 12, 1)
    # Women of the 50 group born 1976-05: 16 // 2 + 1 = 9 months; 31 Feb is 28 Feb.
    assert demo.statutory_retirement_date(date(1976, 5, 31), "F50") == date(2027, 2, 28)
    # The delay stops at its maximum: 36 months for the 55 group.
    assert demo.statutory_retirement_date(date(1990, 1, 1), "F55") == date(2048, 1, 1)


# --- the demo city --------------------------------------------------------------------------------

def _registries(url: str) -> dict[str, list[tuple]]:
    tables = {"marriage": RegMarriage, "low_income": RegLowIncome, "retirement": RegRetirement,
              "unemployment": RegUnemployment, "disability": RegDisability,
              "illness": RegSeriousIllness, "loan": RegHousingLoan}
    with transaction(url) as s:
        return {key: sorted(tuple(getattr(row, c.key) for c in t.__table__.c
                                  if c.key != "id") for row in s.scalars(select(t)))
                for key, t in tables.items()}


def test_demo_city_registries_are_consistent(db_url: str) -> None:
    with clock.frozen(TODAY):
        seed_city(db_url, members=300, seed=5, years=1)
    with transaction(db_url) as s:
        members = {m.id_number: m for m in s.scalars(select(Member))}
        persons = {p.id_number: p for p in s.scalars(select(RegPerson))}
        civil, social, credit = LocalCivilAffairs(s), LocalSocialSecurity(s), \
            LocalCreditReference(s)
        married = {n: civil.marriage_of(n) for n in members}
        married = {n: m for n, m in married.items() if m is not None}
        assert 0.30 <= len(married) / len(members) <= 0.50
        pairs = 0
        for id_number, marriage in married.items():
            spouse = persons[marriage.spouse_id_number]  # every spouse has an identity record
            assert spouse.name == marriage.spouse_name
            assert spouse.gender != members[id_number].gender
            assert marriage.married_on <= TODAY
            for person in (members[id_number], spouse):
                adult = 22 if person.gender == "M" else 20
                assert marriage.married_on >= demo._years_after(person.birth_date, adult)
            if marriage.spouse_id_number in members:  # the spouse sees the same marriage
                pairs += 1
                assert married[marriage.spouse_id_number].spouse_id_number == id_number
        assert pairs >= len(married) / 2  # mostly members married to each other
        # Some divorced records, never the current marriage's.
        assert s.scalar(select(func.count()).select_from(RegMarriage)
                        .where(RegMarriage.divorced_on.is_not(None))) >= 1

        people = set(members)
        for table in (RegLowIncome, RegRetirement, RegUnemployment, RegDisability,
                      RegSeriousIllness):
            for row in s.scalars(select(table)):
                assert row.id_number in people and row.name == members[row.id_number].name
        active = [n for n in members if (a := civil.low_income_of(n)) and a.active_on(TODAY)]
        assert 1 <= len(active) <= 20
        unemployed = [n for n in members if (u := social.unemployment_of(n)) and
                      u.active_on(TODAY)]
        assert 2 <= len(unemployed) <= 25
        retired = [(n, social.retirement_of(n)) for n in members]
        retired = [(n, r) for n, r in retired if r is not None]
        assert any(r.kind == "normal" for _, r in retired)
        for id_number, record in retired:
            m = members[id_number]
            statutory = demo.statutory_retirement_date(m.birth_date, m.retire_group)
            assert record.retired_on <= TODAY
            assert record.retired_on == statutory if record.kind == "normal" else \
                record.retired_on < statutory
        for row in s.scalars(select(RegDisability)):
            assert 1 <= row.level <= 10 and row.assessed_on <= TODAY
            assert row.labour_ended_on is not None or row.level > 4

        # Loans: ~20% of members, each on a home the property registry says they own.
        borrowers = {n for n in members if credit.housing_loans_of(n)}
        assert 0.10 <= len(borrowers) / len(members) <= 0.30
        owned = {(o.id_number) for o in s.scalars(select(RegPropertyOwner))}
        for id_number in borrowers:
            assert id_number in owned
            for loan in credit.housing_loans_of(id_number):
                assert loan.reported_on == date(2026, 10, 31)
                assert loan.start_date <= loan.reported_on
                payment = demo.monthly_payment_fen(
                    loan.principal_fen, demo.annual_rate_bps(loan.kind, loan.start_date),
                    loan.term_months)
                # Interest is positive and bounded: the schedule repays the principal.
                assert loan.principal_fen < payment * loan.term_months < 2 * loan.principal_fen
                if loan.status == "normal":
                    assert loan.repaid_12m_fen % payment == 0
                    assert loan.repaid_12m_fen <= 12 * payment
                    assert 0 < loan.outstanding_fen <= loan.principal_fen
                if loan.status == "settled":
                    assert loan.outstanding_fen == 0


def test_demo_registries_are_deterministic(sqlite_url: str, tmp_path: Path) -> None:
    from hpf.kit import migrate

    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    migrate.upgrade(other)
    with clock.frozen(TODAY):
        seed_city(sqlite_url, members=120, seed=9, years=1)
        seed_city(other, members=120, seed=9, years=1)
    first, second = _registries(sqlite_url), _registries(other)
    assert first["marriage"] and first == second
