"""Channel bindings (渠道绑定): a WeChat openid, an app device or a kiosk card bound to one
registered user, so that channel signs them in without a password next time.

The channel's registered client vouches for the external id (the WeChat server checked the
openid with WeChat, the app its device key, the kiosk read the card): binding needs a live
session of the user on that same channel, and logging in by a binding is open only to that
channel's client. Unbinding is the catalogue service acct.unbind (SMS step-up).
"""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hpf.audit import service as audit
from hpf.gateway.principal import Principal
from hpf.identity import repository
from hpf.identity import service as identity
from hpf.identity.security_models import ChannelBinding
from hpf.kit import clock
from hpf.kit.crypto import field_cipher
from hpf.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from hpf.risk import service as risk

CHANNEL_KINDS = {"wechat": "wechat_openid", "app": "app_device", "kiosk": "kiosk_card"}
KIND_ZH = {"wechat_openid": "微信", "app_device": "手机客户端设备", "kiosk_card": "自助终端卡"}
MAX_LIVE_PER_KIND = 5
MAX_EXTERNAL_LENGTH = 128


def _kind(channel: str) -> str:
    kind = CHANNEL_KINDS.get(channel)
    if kind is None:
        raise InvalidInput("该渠道不支持账号绑定", code="BINDING_NOT_SUPPORTED", channel=channel)
    return kind


def _external(raw: str) -> str:
    value = (raw or "").strip()
    if not value or len(value) > MAX_EXTERNAL_LENGTH or not value.isprintable():
        raise InvalidInput("渠道账号标识无效", code="INVALID_EXTERNAL_ID")
    return value


def _index(kind: str, external: str) -> str:
    return field_cipher().blind_index(f"{kind}:{external}", "channel_binding")


def _mask(external: str) -> str:
    return external[:3] + "****" + external[-3:] if len(external) > 8 else "****"


def view(b: ChannelBinding) -> dict:
    """A binding as its owner sees it (the external id masked)."""
    return {"binding_id": b.id, "channel": b.channel, "kind": b.kind,
            "kind_zh": KIND_ZH.get(b.kind, b.kind), "external": _mask(b.external),
            "label": b.label, "bound_at": clock.as_utc(b.bound_at).isoformat(),
            "last_used_at": b.last_used_at and clock.as_utc(b.last_used_at).isoformat(),
            "unbound_at": b.unbound_at and clock.as_utc(b.unbound_at).isoformat()}


def _live(session: Session, kind: str, external: str) -> ChannelBinding | None:
    return session.scalars(select(ChannelBinding).where(
        ChannelBinding.kind == kind, ChannelBinding.external_bidx == _index(kind, external),
        ChannelBinding.unbound_at.is_(None))).first()


def bind(session: Session, principal: Principal, channel: str, external_id: str,
         label: str | None = None) -> dict:
    """Bind the channel account the client vouches for to the signed-in user."""
    if principal.kind not in ("member", "unit", "developer") or principal.user_id is None:
        raise Forbidden("请先以本人账号登录后再绑定", code="BINDING_NEEDS_USER")
    kind = _kind(channel)
    external = _external(external_id)
    existing = _live(session, kind, external)
    if existing is not None:
        if existing.user_id == principal.user_id:
            return view(existing)  # binding twice is a retry, not a second binding
        raise Conflict("该渠道账号已绑定其他用户，请先解除原绑定", code="BINDING_TAKEN")
    live = session.scalar(select(func.count()).select_from(ChannelBinding).where(
        ChannelBinding.user_id == principal.user_id, ChannelBinding.kind == kind,
        ChannelBinding.unbound_at.is_(None)))
    if live >= MAX_LIVE_PER_KIND:
        raise Conflict(f"同类渠道账号最多绑定{MAX_LIVE_PER_KIND}个，请先解除不用的绑定",
                       code="TOO_MANY_BINDINGS")
    row = ChannelBinding(user_id=principal.user_id, channel=channel, kind=kind,
                         external=external, external_bidx=_index(kind, external),
                         label=(label or "").strip()[:64] or None, bound_at=clock.now())
    session.add(row)
    session.flush()
    user = repository.user_by_id(session, principal.user_id)
    risk.signal(session, "binding_added", user_id=user.id, member_id=user.member_id,
                channel=channel, notify=(user.phone,))
    audit.record(session, "binding.add", "success", actor_kind=principal.kind,
                 actor_id=principal.user_id, actor_name=principal.name, channel=channel,
                 target=kind, detail={"binding_id": row.id})
    return view(row)


def listing(session: Session, user_id: int, include_unbound: bool = False) -> list[dict]:
    """A user's bindings, newest first."""
    stmt = select(ChannelBinding).where(ChannelBinding.user_id == user_id)
    if not include_unbound:
        stmt = stmt.where(ChannelBinding.unbound_at.is_(None))
    return [view(b) for b in session.scalars(stmt.order_by(ChannelBinding.id.desc()).limit(50))]


def login(session: Session, channel: str, external_id: str, ip: str | None = None,
          user_agent: str | None = None):
    """Sign in by a bound channel account; returns (token, principal) like a password login."""
    kind = _kind(channel)
    row = _live(session, kind, _external(external_id))
    if row is None:
        raise Unauthorized("该渠道账号尚未绑定，请先用账号密码登录并绑定", code="NOT_BOUND")
    user = repository.user_by_id(session, row.user_id, for_update=True)
    now = clock.now()
    if user is None or user.status != "active" or (
            user.locked_until is not None and clock.as_utc(user.locked_until) > now):
        raise Forbidden("账户已锁定或停用，请用账号密码登录或联系公积金中心",
                        code="ACCOUNT_NOT_ACTIVE")
    row.last_used_at = now
    return identity.start_session(session, user, channel, now, ip=ip, user_agent=user_agent,
                                  detail={"binding_id": row.id, "kind": kind})


def unbind(session: Session, actor: Principal, channel: str, binding_id: int) -> dict:
    """End a binding: its owner (after the SMS step-up) or staff at the counter."""
    row = session.get(ChannelBinding, binding_id, with_for_update=True)
    own = row is not None and row.user_id == actor.user_id and not actor.is_staff
    if row is None or not (own or actor.is_staff):
        raise NotFound("绑定记录不存在", code="NO_BINDING")
    if row.unbound_at is not None:
        raise Conflict("该绑定已解除", code="ALREADY_UNBOUND")
    row.unbound_at = clock.now()
    row.unbound_by = (actor.name or actor.kind)[:64]
    session.flush()
    user = repository.user_by_id(session, row.user_id)
    risk.signal(session, "binding_removed", user_id=user.id, member_id=user.member_id,
                channel=channel, notify=(user.phone,))
    return view(row)
