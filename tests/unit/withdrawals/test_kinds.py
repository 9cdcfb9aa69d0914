"""The withdrawal kinds table agrees with the catalogue and the seeds."""

import csv
from pathlib import Path

import pytest

import hpf.catalog
from hpf.withdrawals.kinds import AUTO, COUNTER, KINDS, REVIEW, kind

CATALOGUE = Path(hpf.catalog.__file__).with_name("services.csv")


def _catalogue_rows() -> dict[str, dict[str, str]]:
    with CATALOGUE.open(encoding="utf-8") as f:
        return {r["code"]: r for r in csv.DictReader(f) if r["code"].startswith("wd.")}


def test_every_catalogued_kind_is_in_the_table_with_its_name_and_mode():
    rows = _catalogue_rows()
    assert len(rows) == 19
    assert set(KINDS) == set(rows)
    for code, k in KINDS.items():
        assert k.name_zh == rows[code]["name_zh"], code
        assert k.mode == rows[code]["mode"], code
        assert k.mode in (AUTO, REVIEW, COUNTER)


def test_first_withdrawal_at_the_counter_for_the_kinds_that_need_originals():
    first = {c for c, k in KINDS.items() if k.first_at_counter}
    assert first == {"wd.purchase", "wd.build", "wd.repair", "wd.rent", "wd.repay_fund_loan",
                     "wd.repay_commercial_loan"}


def test_closing_kinds_take_the_whole_balance():
    closing = {c for c, k in KINDS.items() if k.closes_account}
    assert closing == {"wd.retirement", "wd.leave_city", "wd.emigrate", "wd.leave_job_nonlocal",
                       "wd.death", "wd.disability"}
    assert all(not KINDS[c].leaves_min_balance for c in closing)
    assert KINDS["wd.rent"].leaves_min_balance


@pytest.mark.parametrize(("code", "reason"), [
    ("wd.purchase", "01"), ("wd.down_payment", "01"), ("wd.build", "02"), ("wd.repair", "02"),
    ("wd.retirement", "03"), ("wd.disability", "04"), ("wd.leave_city", "05"),
    ("wd.emigrate", "05"), ("wd.repay_fund_loan", "06"), ("wd.repay_commercial_loan", "06"),
    ("wd.rent", "07"), ("wd.death", "08"), ("wd.serious_illness", "09"), ("wd.renovate", "99"),
])
def test_jgj_reason_codes(code, reason):
    assert kind(code).reason_code == reason


def test_materials_have_unique_codes_and_chinese_names():
    for k in KINDS.values():
        codes = [m.code for m in k.materials]
        assert len(codes) == len(set(codes)), k.code
        assert all(m.name_zh and not m.name_zh.isascii() for m in k.materials)
    # seed 002 减少要件: retirement needs no certificate, non-local leavers no termination proof.
    assert not any(m.required for m in kind("wd.retirement").materials)
    assert not any(m.required for m in kind("wd.leave_job_nonlocal").materials)
    assert {m.code for m in kind("wd.death").materials if m.required} == {
        "death_cert", "inheritance_proof", "heir_id"}


def test_unknown_kind():
    with pytest.raises(KeyError):
        kind("wd.nothing")
