"""Concurrent calls: one idempotent result, one credit per month.

The point is PostgreSQL (row locks, unique-index waits); SQLite serialises writers and runs
the same tests as a baseline.
"""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hpf.deposits.models import Member, Receipt, RemitList
from hpf.gateway.models import Command
from hpf.kit.db import transaction
from hpf.ledger.models import LedgerAccount, Posting
from support import channels

from .conftest import CARD


def _together(city, n: int, requests) -> list:
    """Run n request sequences at once, each thread with its own client, started together."""
    barrier = Barrier(n)

    def run(i: int):
        client = TestClient(city.app)  # no shared cookie jar or connection between threads
        client.auth = channels.signer()
        barrier.wait()
        return requests(client, i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_twenty_identical_member_openings_create_one_member(city):
    unit = city.login("unit", "unit01")
    id_number = city.person(1, "卢青怡")
    body = {"name": "卢青怡", "id_number": id_number, "base_fen": 586_600, "first_month": 202601}
    headers = {**unit, "X-HPF-Channel": "hall", "Idempotency-Key": "open-lqy-20260316-01"}

    answers = _together(city, 20, lambda client, _i: client.post(
        "/api/v1/services/dep.member_open", json=body, headers=headers))
    assert {r.status_code for r in answers} == {200}, [r.text for r in answers]
    assert len({r.text for r in answers}) == 1  # byte for byte the same answer
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 19
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 1
        assert s.scalar(select(func.count()).select_from(Command).where(
            Command.service_code == "dep.member_open")) == 1


def test_ten_concurrent_remittances_of_one_month_credit_it_once(city):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 2, "王伟", 300_000)
    b = city.open_member(unit, 3, "赵敏", 586_600)
    headers = {**unit, "X-HPF-Channel": "hall"}

    def remit(client, i):
        codes = []
        for params in ({"action": "generate"}, {"action": "confirm"},
                       {"action": "pay", "method": "debit", "account_no": CARD}):
            r = client.post("/api/v1/services/dep.remit", json={**params, "period": 202601},
                            headers=headers)
            codes.append((r.status_code, r.json().get("code") or r.json()["result"]["status"]))
        return codes

    outcomes = _together(city, 10, remit)
    flat = [c for seq in outcomes for c in seq]
    assert all(status in (200, 409) for status, _ in flat), flat  # refusals, never faults
    assert sum(1 for seq in outcomes if seq[2] == (200, "credited")) == 1, outcomes
    with transaction(city.url) as s:
        lists = s.execute(select(RemitList.status, func.count()).where(
            RemitList.period == 202601).group_by(RemitList.status)).all()
        assert dict(lists).get("credited") == 1
        balances = dict(s.execute(select(Member.member_no, LedgerAccount.balance_fen).join(
            LedgerAccount, LedgerAccount.id == Member.account_id)).all())
        assert balances == {a: 72_000, b: 140_800}
        assert s.scalar(select(func.count()).select_from(Posting).where(
            Posting.entry_type == "remit", Posting.side == "C")) == 2
        assert s.scalar(select(func.count()).select_from(Receipt)) == 1
    assert city.call("q.unit_info", {}, unit).json()["result"]["paid_through"] == 202601
    city.ledger_ok()
