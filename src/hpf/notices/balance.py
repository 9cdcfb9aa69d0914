"""Balance change notices (账户余额变动提醒, push.balance): the day's movements of every member
signed up for 12329 SMS notices, one message per member and day.

A resumable batch job (`hpf jobs run balance-notices --date D`): chunks of member deposit
accounts by id, each one aggregate query over the day's postings joined to the signing state,
then one outbox row per member. The phone is decrypted per row (it is sealed at rest), which
is the job's cost; members without a signing or a phone get nothing.
"""

from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from hpf.config import get_settings
from hpf.deposits.models import Member
from hpf.identity.security_models import SmsSigning
from hpf.jobs.runner import JobResult, id_ranges, run_job
from hpf.kit.money import format_yuan
from hpf.ledger import domain as ledger_domain
from hpf.ledger.models import LedgerAccount, Posting
from hpf.notices.service import send_sms_many

JOB = "balance-notices"
TEMPLATE = "push.balance"


def _text(day: date, credit_fen: int, debit_fen: int, balance_fen: int) -> str:
    parts = []
    if credit_fen:
        parts.append(f"收入{format_yuan(credit_fen)}元")
    if debit_fen:
        parts.append(f"支出{format_yuan(debit_fen)}元")
    return (f"您的住房公积金账户{day.month}月{day.day}日{'、'.join(parts)}，"
            f"余额{format_yuan(balance_fen)}元。详询12329。")


def notify_range(session: Session, day: date, lo: int, hi: int) -> int:
    """Queue the notices of member accounts lo..hi for the day; returns how many."""
    last = func.max(Posting.id)
    rows = session.execute(
        select(LedgerAccount.id, Member.id,
               func.sum(case((Posting.side == "C", Posting.amount_fen), else_=0)),
               func.sum(case((Posting.side == "D", Posting.amount_fen), else_=0)), last)
        .join(Posting, Posting.account_id == LedgerAccount.id)
        .join(Member, Member.account_id == LedgerAccount.id)
        .join(SmsSigning, SmsSigning.member_id == Member.id)
        .where(LedgerAccount.id.between(lo, hi),
               LedgerAccount.subject_code == ledger_domain.MEMBER_DEPOSITS,
               Posting.value_date == day, SmsSigning.status == "signed")
        .group_by(LedgerAccount.id, Member.id)).all()
    if not rows:
        return 0
    balances = dict(session.execute(select(Posting.id, Posting.balance_after_fen).where(
        Posting.id.in_([r[4] for r in rows]))).all())
    phones = dict(session.execute(select(Member.id, Member.phone).where(
        Member.id.in_([r[1] for r in rows]))).all())
    return send_sms_many(session, [
        (phones[member_id], TEMPLATE, _text(day, int(credit), int(debit), balances[last_id]))
        for _account_id, member_id, credit, debit, last_id in rows if phones.get(member_id)])


def run_balance_notices(factory: sessionmaker[Session], day: date, *,
                        chunk_size: int | None = None, show_progress: bool = False) -> JobResult:
    """Queue the day's balance change notices (once per day: a rerun sends nothing twice)."""
    size = chunk_size or get_settings().job_chunk_size

    def plan(session: Session) -> list:
        lo, hi = session.execute(select(func.min(LedgerAccount.id), func.max(LedgerAccount.id))
                                 .where(LedgerAccount.subject_code ==
                                        ledger_domain.MEMBER_DEPOSITS)).one()
        return id_ranges(lo, hi, size)

    def chunk(session: Session, spec: list[int], _marker: int) -> tuple[int, int]:
        return notify_range(session, day, spec[0], spec[1]), 0

    return run_job(factory, JOB, day.isoformat(), plan, chunk, show_progress=show_progress)
