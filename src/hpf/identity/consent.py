"""Consents (数据共享授权): a member's data leaves for a third party only under a live consent.

A consent names the party and the purpose, is recorded with the channel it was given on, lasts
`consent.validity_days` and can be withdrawn at any time. Code that sends a member's data out
(a bank's card-holder check, a credit report, another city's centre) calls `require` first.
"""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.audit import service as audit
from hpf.catalog import params
from hpf.gateway.principal import Principal
from hpf.identity.security_models import Consent
from hpf.kit import clock
from hpf.kit.errors import Conflict, Forbidden, InvalidInput, NotFound

PARTIES = {
    "bank": "受托银行",
    "credit_reference": "人民银行征信中心",
    "remote_centre": "异地住房公积金管理中心",
    "real_estate": "不动产登记部门",
}
PURPOSES = {
    "card_verification": "银行卡实名核验",
    "direct_debit": "委托扣款",
    "loan_assessment": "贷款审查",
    "transfer": "异地转移接续",
    "property_check": "房产信息核验",
}


class ConsentRequired(Forbidden):
    code = "CONSENT_REQUIRED"
    message = "须经您授权后方可向第三方提供您的信息"


def _check(party: str, purpose: str) -> None:
    if party not in PARTIES:
        raise InvalidInput("授权对象无效", code="UNKNOWN_PARTY", party=str(party)[:32])
    if purpose not in PURPOSES:
        raise InvalidInput("授权用途无效", code="UNKNOWN_PURPOSE", purpose=str(purpose)[:32])


def _view(c) -> dict:
    now = clock.now()
    live = c.revoked_at is None and clock.as_utc(c.expires_at) > now
    return {"consent_id": c.id, "party": c.party, "party_zh": PARTIES.get(c.party, c.party),
            "purpose": c.purpose, "purpose_zh": PURPOSES.get(c.purpose, c.purpose),
            "channel": c.channel, "granted_at": clock.as_utc(c.granted_at).isoformat(),
            "expires_at": clock.as_utc(c.expires_at).isoformat(),
            "revoked_at": c.revoked_at and clock.as_utc(c.revoked_at).isoformat(),
            "live": live}


def _live(session: Session, member_id: int, party: str, purpose: str):
    return session.scalars(select(Consent).where(
        Consent.member_id == member_id, Consent.party == party, Consent.purpose == purpose,
        Consent.revoked_at.is_(None), Consent.expires_at > clock.now())
        .order_by(Consent.id.desc()).limit(1)).first()


def grant(session: Session, member_id: int, party: str, purpose: str, channel: str,
          by: Principal) -> dict:
    """Record the member's consent (a live one for the same party and purpose is returned)."""
    _check(party, purpose)
    existing = _live(session, member_id, party, purpose)
    if existing is not None:
        return _view(existing)
    now = clock.now()
    row = Consent(member_id=member_id, party=party, purpose=purpose, channel=channel[:16],
                  granted_at=now,
                  expires_at=now + timedelta(days=int(params.get(session, "consent.validity_days"))),
                  granted_by=(by.name or by.kind)[:64])
    session.add(row)
    session.flush()
    audit.record(session, "consent.grant", "success", actor_kind=by.kind, actor_id=by.user_id,
                 actor_name=by.name, channel=channel, target=f"{party}:{purpose}",
                 detail={"consent_id": row.id, "member_id": member_id})
    return _view(row)


def revoke(session: Session, member_id: int, consent_id: int, channel: str,
           by: Principal) -> dict:
    """Withdraw a consent; data stops leaving under it at once."""
    row = session.get(Consent, consent_id, with_for_update=True)
    if row is None or row.member_id != member_id:
        raise NotFound("授权记录不存在", code="NO_CONSENT")
    if row.revoked_at is not None:
        raise Conflict("该授权已撤销", code="CONSENT_REVOKED")
    row.revoked_at = clock.now()
    session.flush()
    audit.record(session, "consent.revoke", "success", actor_kind=by.kind, actor_id=by.user_id,
                 actor_name=by.name, channel=channel, target=f"{row.party}:{row.purpose}",
                 detail={"consent_id": row.id, "member_id": member_id})
    return _view(row)


def listing(session: Session, member_id: int) -> list[dict]:
    """A member's consents, newest first."""
    rows = session.scalars(select(Consent).where(Consent.member_id == member_id)
                           .order_by(Consent.id.desc()).limit(100))
    return [_view(c) for c in rows]


def require(session: Session, member_id: int, party: str, purpose: str) -> None:
    """Refuse (CONSENT_REQUIRED, 403) unless the member's consent for this is live."""
    _check(party, purpose)
    if _live(session, member_id, party, purpose) is None:
        raise ConsentRequired(party=party, purpose=purpose)
