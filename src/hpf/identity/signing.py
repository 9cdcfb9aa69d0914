"""12329 SMS notice signing (短信签约): one state per member, the same on every channel.

How a signing is verified depends on where it is made: by SMS or the hotline the channel has
already tied the caller to the phone on record; on the web hall, the app, WeChat or a kiosk
the member proves it with a debit card in their own name, checked by the commissioned bank
(remote signing, 银行卡验证远程签约: the card holder's name and ID number go to the bank, so
only under the member's consent); at the counter the clerk has seen the ID card. Every change
raises the version so a channel holding an older state can tell.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.audit import service as audit
from hpf.deposits.domain import BANKS
from hpf.deposits.models import Member
from hpf.exchange.bank import bank_adapter
from hpf.gateway.principal import Principal
from hpf.identity import consent
from hpf.identity.security_models import SmsSigning
from hpf.kit import clock
from hpf.kit.errors import Conflict, InvalidInput
from hpf.risk import service as risk

PHONE_CHANNELS = ("sms", "hotline")
METHOD_ZH = {"sms_code": "短信/热线签约", "bank_card": "银行卡验证远程签约", "counter": "柜面签约"}


def _row(session: Session, member_id: int, lock: bool = False) -> SmsSigning | None:
    stmt = select(SmsSigning).where(SmsSigning.member_id == member_id)
    return session.scalars(stmt.with_for_update() if lock else stmt).first()


def state(session: Session, member_id: int) -> dict:
    """The member's signing state as every channel shows it."""
    row = _row(session, member_id)
    if row is None:
        return {"status": "unsigned", "status_zh": "未签约", "version": 0}
    return {"status": row.status, "status_zh": "已签约" if row.status == "signed" else "已解约",
            "method": row.method, "method_zh": METHOD_ZH[row.method], "channel": row.channel,
            "version": row.version, "updated_at": clock.as_utc(row.updated_at).isoformat(),
            "signed_at": row.signed_at and clock.as_utc(row.signed_at).isoformat()}


def _method(principal: Principal, channel: str) -> str:
    if principal.is_staff:
        return "counter"
    return "sms_code" if channel in PHONE_CHANNELS else "bank_card"


def _verify_card(session: Session, member: Member, principal: Principal, channel: str,
                 bank_code: str | None, card_no: str | None, agreed: bool) -> None:
    if not bank_code or not card_no:
        raise InvalidInput("远程签约须提供本人名下银行借记卡", code="CARD_REQUIRED")
    if bank_code not in BANKS:
        raise InvalidInput("委托银行代码无效", code="UNKNOWN_BANK")
    if agreed:
        consent.grant(session, member.id, "bank", "card_verification", channel, principal)
    consent.require(session, member.id, "bank", "card_verification")
    if not bank_adapter(session).card_holder_matches(bank_code, card_no, member.name,
                                                     member.id_number):
        raise InvalidInput("银行卡须为本人名下有效借记卡", code="CARD_NOT_OWN")


def sign(session: Session, member: Member, principal: Principal, channel: str, *,
         bank_code: str | None = None, card_no: str | None = None,
         consent_given: bool = False) -> dict:
    """Sign the member up for SMS notices (verified as the channel requires)."""
    if not member.phone:
        raise Conflict("未预留手机号码，请先办理手机号码变更", code="NO_PHONE_ON_FILE")
    row = _row(session, member.id, lock=True)
    if row is not None and row.status == "signed":
        raise Conflict("您已签约短信通知服务", code="ALREADY_SIGNED")
    method = _method(principal, channel)
    if method == "bank_card":
        _verify_card(session, member, principal, channel, bank_code, card_no, consent_given)
    now = clock.now()
    if row is None:
        row = SmsSigning(member_id=member.id, version=0)
        session.add(row)
    row.status, row.method, row.channel = "signed", method, channel
    row.version = (row.version or 0) + 1
    row.signed_at, row.cancelled_at, row.updated_at = now, None, now
    row.updated_by = (principal.name or principal.kind)[:64]
    session.flush()
    _record(session, principal, channel, member, "sms_signed", row)
    return state(session, member.id)


def cancel(session: Session, member: Member, principal: Principal, channel: str) -> dict:
    """Cancel the member's SMS notices."""
    row = _row(session, member.id, lock=True)
    if row is None or row.status != "signed":
        raise Conflict("您尚未签约短信通知服务", code="NOT_SIGNED")
    now = clock.now()
    row.status, row.channel, row.cancelled_at, row.updated_at = "cancelled", channel, now, now
    row.version += 1
    row.updated_by = (principal.name or principal.kind)[:64]
    session.flush()
    _record(session, principal, channel, member, "sms_unsigned", row)
    return state(session, member.id)


def _record(session: Session, principal: Principal, channel: str, member: Member, kind: str,
            row: SmsSigning) -> None:
    risk.signal(session, kind, member_id=member.id, channel=channel, notify=(member.phone,))
    audit.record(session, f"signing.{kind}", "success", actor_kind=principal.kind,
                 actor_id=principal.user_id, actor_name=principal.name, channel=channel,
                 target="acct.sms_sign", detail={"member_id": member.id,
                                                 "version": row.version, "method": row.method})


def signed(session: Session, member_id: int) -> bool:
    """True when account-change notices by SMS go to this member."""
    row = _row(session, member_id)
    return row is not None and row.status == "signed"
