"""Withdrawal jobs: pay approved applications (wd-payouts), match the banks' statements
(wd-reconcile), file the month's scheduled rent withdrawals (wd-scheduled).

Each step commits on its own: a batch is recorded before it is sent, each sent batch is marked
in its own transaction, each statement is matched in its own. A crash leaves nothing half done,
and a rerun picks up where the last one stopped without paying anything twice.
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hpf.deposits.models import Member
from hpf.exchange.bank_exchange import bank_file_exchange
from hpf.gateway import service as gateway
from hpf.gateway.principal import SYSTEM
from hpf.kit import clock
from hpf.kit.clock import months_between
from hpf.kit.errors import HpfError, UpstreamUnavailable
from hpf.withdrawals import payouts
from hpf.withdrawals.models import WdPayoutBatch, WdSchedule

SCHEDULE_CHANNEL = "hall"


def run_payouts(factory: sessionmaker[Session], today: date | None = None) -> dict:
    """Batch every approved application by bank and send the files; a summary."""
    today = today or clock.today()
    with factory() as session, session.begin():
        made = payouts.make_batches(session, today)
    sent, waiting = [], []
    with factory() as session:
        pending = session.scalars(select(WdPayoutBatch.batch_no).where(
            WdPayoutBatch.status == "created").order_by(WdPayoutBatch.batch_no)).all()
    for batch_no in pending:
        try:
            with factory() as session, session.begin():
                exchange = bank_file_exchange(session)
                sent += payouts.submit_pending(session, exchange, only=batch_no)
        except UpstreamUnavailable:
            waiting.append(batch_no)  # sent again, byte for byte, by the next run
    return {"made": made, "sent": sent, "waiting": waiting}


def run_reconcile(factory: sessionmaker[Session], today: date | None = None) -> dict:
    """Match the statements the banks have produced; a summary."""
    today = today or clock.today()
    with factory() as session:
        submitted = session.scalars(select(WdPayoutBatch.batch_no).where(
            WdPayoutBatch.status == "submitted").order_by(WdPayoutBatch.batch_no)).all()
    total = {"batches": 0, "paid": 0, "failed": 0, "problems": [], "waiting": [],
             "unanswered": []}
    for batch_no in submitted:
        try:
            with factory() as session, session.begin():
                result = payouts.reconcile(session, bank_file_exchange(session), today,
                                           only=batch_no)
        except UpstreamUnavailable:
            total["unanswered"].append(batch_no)
            continue
        except HpfError as exc:
            # A damaged statement, or another batch's: nothing is matched, the batch waits.
            total["problems"].append(f"{batch_no}: 回单文件有误（{exc.message}），未处理")
            continue
        for key in ("batches", "paid", "failed"):
            total[key] += result[key]
        total["problems"] += result["problems"]
        total["waiting"] += result["waiting"]
    return total


def _previous_period(period: int) -> int:
    year, month = divmod(period, 100)
    return (year - 1) * 100 + 12 if month == 1 else period - 1


# Refusals that say "not now" rather than "no": the month stays due for the next run.
TRANSIENT = 429, 503


def run_scheduled(factory: sessionmaker[Session], today: date | None = None) -> dict:
    """File this month's scheduled rent withdrawals through the gateway, once per period (the
    idempotency key is the schedule and the period, so a rerun replays instead of paying).

    A standing instruction runs as an online application (网上服务大厅, round the clock) made
    by the system on the member's behalf; a refusal by the rules (no longer eligible, too
    little money) is recorded on the schedule and the month is done, a transient one (the
    platform busy, a source down, the channel closed) leaves the month for the next run."""
    today = today or clock.today()
    period = today.year * 100 + today.month
    with factory() as session:
        due = session.scalars(select(WdSchedule).where(
            WdSchedule.status == "active", WdSchedule.first_period <= period)).all()
    filed, refused, retry = 0, [], []
    for schedule in due:
        # Months of the term not yet filed, up to this one or the term's last: a missed run
        # is caught up, also when it was the last month's (the term then ends once filed).
        through = min(period, schedule.last_period)
        if schedule.done_through is not None and schedule.done_through >= through:
            continue
        with factory() as session:
            # Read again: staff may have ended it, or the member signed anew, since the list.
            if session.get(WdSchedule, schedule.id).status != "active":
                continue
            member_no = session.get(Member, schedule.member_id).member_no
        since = schedule.done_through or _previous_period(schedule.first_period)
        params = {"member_no": member_no, "bank_code": schedule.bank_code,
                  "card_no": schedule.card_no,
                  "rent_months": max(1, min(12, months_between(since, through)))}
        try:
            gateway.invoke(factory, SCHEDULE_CHANNEL, SYSTEM, schedule.kind, params,
                           idempotency_key=f"wd-schedule-{schedule.id}-{through}")
            error = None
            filed += 1
        except HpfError as exc:
            error = f"{exc.code}: {exc.message}"[:300]
            if exc.status in TRANSIENT or exc.code in ("OUTSIDE_HOURS", "CHANNEL_CLOSED"):
                retry.append({"schedule_id": schedule.id, "error": error})
                continue
            refused.append({"schedule_id": schedule.id, "period": through, "error": error})
        with factory() as session, session.begin():
            row = session.get(WdSchedule, schedule.id, with_for_update=True)
            row.done_through = through
            if row.status == "active":  # an end recorded meanwhile keeps its reason
                row.last_error = error
                if through >= row.last_period:
                    row.status, row.ended_on = "ended", today
    return {"period": period, "filed": filed, "refused": refused, "retry": retry}
