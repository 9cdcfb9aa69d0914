"""Channel clients (渠道接入终端): registration, revocation and checking a signed request."""

import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hpf.catalog import access
from hpf.catalog.access import require_channel
from hpf.gateway import flow, signing
from hpf.gateway.flow import counters
from hpf.gateway.models import ChannelClient
from hpf.kit import clock
from hpf.kit.crypto import decrypt_or_refuse, field_cipher
from hpf.kit.db import read_transaction
from hpf.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized

SECRET_CONTEXT = "gateway_client.secret"


class BadSignature(Unauthorized):
    code = "BAD_SIGNATURE"
    message = "请求签名无效"


def register(session: Session, channel: str, name: str, *, client_id: str | None = None,
             secret: str | None = None, command_id: int | None = None) -> tuple[ChannelClient, str]:
    """A new client of a channel and its secret (shown once; stored encrypted)."""
    require_channel(channel)
    name = (name or "").strip()
    if not 1 <= len(name) <= 64:
        raise InvalidInput("终端名称应为1至64个字符", code="INVALID_CLIENT_NAME")
    client_id = client_id or f"{channel}-{signing.new_nonce()[:8].lower().replace('_', 'x')}"
    if not signing.CLIENT_ID.match(client_id):
        raise InvalidInput("终端编号格式有误", code="INVALID_CLIENT_ID")
    if session.scalar(select(ChannelClient.id).where(ChannelClient.client_id == client_id)):
        raise Conflict("终端编号已存在", code="CLIENT_EXISTS", client_id=client_id)
    secret = secret or signing.new_secret()
    client = ChannelClient(client_id=client_id, channel=channel, name=name,
                           secret_enc=field_cipher().encrypt(secret, SECRET_CONTEXT),
                           active=True, created_at=clock.now(), command_id=command_id)
    session.add(client)
    session.flush()
    return client, secret


def revoke(session: Session, client_id: str, command_id: int | None = None) -> ChannelClient:
    """Stop a client: its signatures are refused from now on."""
    client = by_client_id(session, client_id)
    if client is None:
        raise NotFound("终端不存在", code="UNKNOWN_CLIENT", client_id=client_id)
    if client.active:
        client.active = False
        client.revoked_at = clock.now()
        client.command_id = command_id
        session.flush()
    return client


def by_client_id(session: Session, client_id: str) -> ChannelClient | None:
    """A client by its public id."""
    return session.scalars(select(ChannelClient).where(ChannelClient.client_id == client_id)).first()


def listing(session: Session) -> list[dict]:
    """Every client without its secret, newest first."""
    return [{"client_id": c.client_id, "channel": c.channel, "name": c.name, "active": c.active,
             "created_at": c.created_at, "revoked_at": c.revoked_at}
            for c in session.scalars(select(ChannelClient).order_by(ChannelClient.id.desc())
                                     .limit(500))]


def authenticate(session: Session, headers: Mapping[str, str], method: str,
                 path_and_query: str, body: bytes) -> ChannelClient:
    """The active client whose fresh, first-seen signature this request carries."""
    client_id = headers.get(signing.CLIENT_HEADER)
    timestamp = headers.get(signing.TIMESTAMP_HEADER)
    nonce = headers.get(signing.NONCE_HEADER)
    signature = headers.get(signing.SIGNATURE_HEADER)
    if not (client_id and timestamp and nonce and signature):
        raise Unauthorized("请求须由已登记的渠道终端签名", code="CLIENT_REQUIRED")
    if not signing.CLIENT_ID.match(client_id) or not signing.NONCE.match(nonce) \
            or not signing.SIGNATURE.match(signature.lower()):
        raise BadSignature("签名参数格式有误")
    client = by_client_id(session, client_id)
    if client is None:
        raise Unauthorized("未登记的渠道终端", code="UNKNOWN_CLIENT")
    if not client.active:
        raise Unauthorized("该渠道终端已停用", code="CLIENT_REVOKED")
    if not signing.fresh(timestamp, time.time()):
        raise Unauthorized("请求时间戳已过期，请校准时间后重试", code="STALE_REQUEST")
    secret = decrypt_or_refuse(client.secret_enc, SECRET_CONTEXT)
    if not signing.matches(secret, signature, method, path_and_query, body, timestamp, nonce):
        raise BadSignature()
    # Remembered only once the signature is good, so forged requests cannot fill the store.
    if not counters().once(f"nonce:{client.client_id}:{nonce}", signing.NONCE_TTL_S):
        raise Unauthorized("重复的请求（随机数已使用）", code="REPLAYED_REQUEST")
    return client


def admit_request(factory: sessionmaker[Session], headers: Mapping[str, str], method: str,
                  path_and_query: str, body: bytes, *, claimed_channel: str | None,
                  channel_may_be_closed: bool,
                  then: Callable[[Session], Any] | None = None) -> tuple[ChannelClient, Any]:
    """Everything a channel's request must pass before routing: a good signature, the channel
    it claims being the client's own, the channel open (unless the request is one staff need
    on a closed channel), and the channel's visit thresholds. `then` runs in the same read
    transaction once all that passed (the caller's session lookup); its result comes back."""
    reopen = False
    extra = None
    # Reads only (a deferred transaction on SQLite): every request passes here, and waiting
    # behind the writers' lock for a read would queue the whole platform behind them.
    with read_transaction(factory) as db:
        client = authenticate(db, headers, method, path_and_query, body)
        if claimed_channel and claimed_channel != client.channel:
            raise Forbidden("终端与所报渠道不符", code="CHANNEL_MISMATCH",
                            channel=claimed_channel[:32], client_channel=client.channel)
        if channel_may_be_closed:
            flow.visit(db, client.channel)
        else:
            try:
                setting = access.ensure_open(db, client.channel, may_write=False)
            except access.ReopenDue:
                reopen = True
        db.expunge(client)
        if then is not None and not reopen:
            extra = then(db)
    if reopen:  # rare: the cool-down of an automatic closing has just passed
        with factory() as db, db.begin():
            setting = access.ensure_open(db, client.channel)
    if not channel_may_be_closed:
        visits = access.flow_of(setting)
        flow.admit(client.channel, "visit", visits.visits_per_s, visits.visits_per_min)
    if then is not None and reopen:
        with read_transaction(factory) as db:
            extra = then(db)
    return client, extra
