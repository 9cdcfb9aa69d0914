"""Balance change notices (push.balance): the day's movements, to signed members only, once."""

from datetime import date

from deposits.test_transfers_remote import _fund_in_january
from sqlalchemy import func, select

from hpf.kit.db import session_factory, transaction
from hpf.notices.balance import run_balance_notices
from hpf.notices.models import OutboxMessage


def _notices(city):
    with transaction(city.url) as s:
        return s.execute(select(OutboxMessage.recipient, OutboxMessage.content).where(
            OutboxMessage.template == "push.balance").order_by(OutboxMessage.id)).all()


def test_signed_members_hear_of_the_days_movements_once(city):
    a, b = _fund_in_january(city)
    clerk = city.staff("clerk")
    r = city.call("acct.sms_sign", {"member_no": a}, clerk, channel="counter")
    assert r.status_code == 200, r.text
    factory = session_factory(city.url)

    result = run_balance_notices(factory, date(2026, 1, 20), chunk_size=1)
    assert result.chunks_run >= 2 and result.rows == 1
    ((phone, text),) = _notices(city)
    assert phone == "13800000003"  # b never signed up (and has no phone): nothing for b
    assert text == "【住房公积金】您的住房公积金账户1月20日收入1408.00元，余额1408.00元。详询12329。"
    # A rerun of the day sends nothing twice; a day without movements sends nothing.
    again = run_balance_notices(factory, date(2026, 1, 20), chunk_size=1)
    assert again.already_done and len(_notices(city)) == 1
    assert run_balance_notices(factory, date(2026, 1, 21)).rows == 0
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.template == "push.balance")) == 1
