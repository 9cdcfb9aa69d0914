"""Operator digital certificates (数字证书) in the JSON API: certificate login
(/api/v1/auth/certificate) and the administrators' register (/api/v1/mgmt/certificates)."""

import base64
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi import Path as FastApiPath
from pydantic import BaseModel, ConfigDict, Field

from hpf.channels.api.auth import LoginOut, session_response
from hpf.channels.api.deps import Channel, DbSession, client_ip, require_staff, signed_channel
from hpf.gateway.principal import Principal
from hpf.identity import certificates

router = APIRouter(tags=["certificates"], dependencies=[Depends(signed_channel)])
Admin = Annotated[Principal, Depends(require_staff("admin"))]
# Generous on purpose: an oversized certificate must reach the service and be refused there as
# MALFORMED_CERTIFICATE (over 8 KiB), not as a bare schema error.
MAX_PEM_FIELD = 64 * 1024


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChallengeIn(_Body):
    kind: Literal["unit", "developer"] = Field(description="用户类型：单位或开发企业经办人")
    login_name: str = Field(min_length=1, max_length=64, description="经办人登录名")


class ChallengeOut(BaseModel):
    challenge_id: str
    challenge: str = Field(description="待签名的挑战数据（Base64）；对解码后的字节签名")
    expires_in_s: int


class CertificateLoginIn(_Body):
    challenge_id: str = Field(min_length=1, max_length=64)
    certificate_pem: str = Field(min_length=1, max_length=MAX_PEM_FIELD,
                                 description="中心签发的操作员证书（PEM，单张）")
    signature: str = Field(min_length=1, max_length=512,
                           description="用证书私钥对挑战字节的 ECDSA-SHA256 签名（DER，Base64）")


class IssueIn(_Body):
    kind: Literal["unit", "developer"]
    login_name: str = Field(min_length=1, max_length=64)
    csr_pem: str = Field(min_length=1, max_length=MAX_PEM_FIELD,
                         description="经办人生成的证书请求（PEM，EC P-256）；私钥由经办人保管")
    valid_days: int = Field(default=certificates.DEFAULT_VALID_DAYS, ge=1,
                            le=certificates.MAX_VALID_DAYS)


class RevokeIn(_Body):
    reason: str = Field(min_length=1, max_length=certificates.MAX_REASON_CHARS,
                        description="注销原因")


# The use case's view is the answer: FastAPI serialises the dataclass itself.
CertificateOut = certificates.CertificateView


class IssuedOut(BaseModel):
    serial: str
    fingerprint: str
    subject: str
    not_before: datetime
    not_after: datetime
    certificate_pem: str
    ca_certificate_pem: str = Field(description="中心根证书（PEM）")


class CertificateListOut(BaseModel):
    items: list[CertificateOut]


@router.post("/api/v1/auth/certificate/challenge", response_model=ChallengeOut)
def challenge(body: ChallengeIn, db: DbSession, channel: Channel) -> ChallengeOut:
    """A one-time challenge (valid 120 s) for an operator's certificate login."""
    issued = certificates.start_challenge(db, body.kind, body.login_name, channel)
    return ChallengeOut(challenge_id=issued.challenge_id,
                        challenge=base64.b64encode(issued.challenge).decode("ascii"),
                        expires_in_s=issued.expires_in_s)


@router.post("/api/v1/auth/certificate/login", response_model=LoginOut)
def certificate_login(body: CertificateLoginIn, request: Request, response: Response,
                      db: DbSession, channel: Channel) -> LoginOut:
    """Certificate login: the signed challenge and the certificate; answers like password login."""
    token, principal = certificates.login_with_certificate(
        db, body.challenge_id, body.certificate_pem, body.signature, channel,
        ip=client_ip(request), user_agent=request.headers.get("user-agent"))
    return session_response(request, response, token, principal)


@router.get("/api/v1/mgmt/certificates", response_model=CertificateListOut,
            summary="操作员数字证书列表")
def list_certificates(db: DbSession, admin: Admin,
                      kind: Literal["unit", "developer"] | None = None,
                      login_name: Annotated[str | None, Query(max_length=64)] = None,
                      cert_status: Annotated[Literal["active", "revoked"] | None,
                                             Query(alias="status")] = None,
                      limit: Annotated[int, Query(ge=1, le=certificates.MAX_LIST)] = 50,
                      offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
                      ) -> CertificateListOut:
    """Issued certificates, newest first."""
    views = certificates.list_certificates(db, kind=kind, login_name=login_name,
                                           status=cert_status, limit=limit, offset=offset)
    return CertificateListOut(items=views)


@router.post("/api/v1/mgmt/certificates", response_model=IssuedOut,
             status_code=status.HTTP_201_CREATED, summary="签发操作员数字证书")
def issue(body: IssueIn, db: DbSession, admin: Admin) -> IssuedOut:
    """Certify the public key of an operator's CSR (the private key never leaves the operator)."""
    issued = certificates.issue_certificate(db, admin, body.kind, body.login_name,
                                            csr_pem=body.csr_pem, valid_days=body.valid_days)
    record = issued.record
    return IssuedOut(serial=record.serial, fingerprint=record.fingerprint, subject=record.subject,
                     not_before=record.not_before, not_after=record.not_after,
                     certificate_pem=issued.certificate_pem,
                     ca_certificate_pem=certificates.root_certificate_pem(db) or "")


@router.post("/api/v1/mgmt/certificates/{serial}/revoke", response_model=CertificateOut,
             summary="注销操作员数字证书")
def revoke(serial: Annotated[str, FastApiPath(max_length=80)], body: RevokeIn, db: DbSession,
           admin: Admin) -> CertificateOut:
    """Revoke a certificate; the operator's open sessions end with it."""
    record = certificates.revoke(db, admin, serial, body.reason)
    return certificates.view_of(db, record)
