"""The fixtures of the withdrawal rule tests: a member, the sources' answers, one assessment."""

from datetime import date

from hpf.kit.ids import id_check_digit
from hpf.withdrawals.facts import Evidence, MemberFacts, Request, RuleParams
from hpf.withdrawals.rules import assess


def _id(first17: str) -> str:
    return first17 + id_check_digit(first17)


ME = _id("11010519850615001")  # man born 1985-06-15
WIFE = _id("11010519870302002")  # woman born 1987-03-02
STRANGER = _id("11010519700101003")
TODAY = date(2026, 6, 10)
P = RuleParams()  # min balance 10 yuan, rent 1,500 yuan/month, property fee 2 yuan/m²/month


def member(**kw) -> MemberFacts:
    base = dict(member_id=1, name="张三", id_number=ME, gender="M", birth_date=date(1985, 6, 15),
                female_group=None, hukou_local=True, account_status="01", sealed_since=None,
                balance_fen=10_000_000, available_fen=10_000_000)
    base.update(kw)
    return MemberFacts(**base)


def ev(**kw) -> Evidence:
    """Every source answered "no record" (married to WIFE) unless told otherwise."""
    base = dict(homes=(), contracts=(), invoices=(), maintenance_payments=(),
                spouse_id_number=WIFE, low_income_allowance=False, unemployment_registered=False,
                social_security_retired_on=None, disability=None, illnesses=(), loans=())
    base.update(kw)
    return Evidence(**base)


def go(kind: str, *, m: MemberFacts | None = None, e: Evidence | None = None, past=(),
       params: RuleParams = P, today: date = TODAY, **request):
    return assess(Request(kind, **request), m or member(), e or ev(), past, params, today)


def only(a, code: str):
    """The single refusal with this code."""
    found = [r for r in a.refusals if r.code == code]
    assert len(found) == 1, a.refusals
    assert a.allowed_fen == 0
    return found[0]
