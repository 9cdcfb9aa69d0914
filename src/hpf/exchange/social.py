"""Social security (人社): retirement approvals, unemployment registrations, working capacity
assessments, and the medical insurance's serious illness records.

Interface + local implementation over the registry tables we hold (reg_retirement,
reg_unemployment, reg_disability, reg_serious_illness) + HTTP implementation asking the
data-exchange platform. A source that cannot answer raises UpstreamUnavailable; callers never
read that as "no record".
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.config import get_settings
from hpf.exchange import shared_platform as sp
from hpf.exchange.people_models import (
    RegDisability,
    RegRetirement,
    RegSeriousIllness,
    RegUnemployment,
)

UNAVAILABLE_CODE = "SOCIAL_SECURITY_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "人社信息共享系统暂时无法响应，请稍后再试"
RETIREMENT_KINDS = ("normal", "early", "disability")
# A limit on one answer: the latest records are the ones a withdrawal looks at.
MAX_ILLNESS_RECORDS = 50


@dataclass(frozen=True)
class Retirement:
    """An approved retirement (退休审批)."""

    approval_no: str
    retired_on: date
    kind: str  # normal | early | disability


@dataclass(frozen=True)
class Unemployment:
    """An unemployment registration (失业登记)."""

    registration_no: str
    registered_on: date
    ended_on: date | None
    receiving_benefit: bool

    def active_on(self, day: date) -> bool:
        """True when the person is registered unemployed on `day`."""
        return self.registered_on <= day and (self.ended_on is None or day < self.ended_on)


@dataclass(frozen=True)
class Disability:
    """A loss of working capacity assessment (劳动能力鉴定); level 1 is the most severe."""

    assessment_no: str
    level: int
    assessed_on: date
    labour_ended_on: date | None  # the labour relation ended (解除劳动关系)


@dataclass(frozen=True)
class SeriousIllness:
    """A medical insurance record of a serious illness (重大疾病)."""

    record_no: str
    diagnosis: str
    hospital: str
    out_of_pocket_fen: int
    from_date: date
    to_date: date


class SocialSecuritySource(Protocol):
    """What withdrawals ask of social security."""

    def retirement_of(self, id_number: str) -> Retirement | None:
        """The person's retirement approval, or None."""
        ...

    def unemployment_of(self, id_number: str) -> Unemployment | None:
        """The person's latest unemployment registration, or None."""
        ...

    def disability_of(self, id_number: str) -> Disability | None:
        """The person's latest working capacity assessment, or None."""
        ...

    def serious_illness_of(self, id_number: str) -> list[SeriousIllness]:
        """The person's serious illness records, latest first."""
        ...


class LocalSocialSecurity:
    """Answers from the reg_retirement, reg_unemployment, reg_disability and
    reg_serious_illness tables."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def retirement_of(self, id_number: str) -> Retirement | None:
        """One approval per person."""
        row = self.session.get(RegRetirement, id_number)
        return None if row is None else Retirement(row.approval_no, row.retired_on, row.kind)

    def unemployment_of(self, id_number: str) -> Unemployment | None:
        """The registration with the latest date."""
        row = self.session.scalars(
            select(RegUnemployment).where(RegUnemployment.id_number == id_number)
            .order_by(RegUnemployment.registered_on.desc(),
                      RegUnemployment.registration_no.desc()).limit(1)).first()
        if row is None:
            return None
        return Unemployment(row.registration_no, row.registered_on, row.ended_on,
                            row.receiving_benefit)

    def disability_of(self, id_number: str) -> Disability | None:
        """The assessment with the latest date (a reassessment replaces the earlier one)."""
        row = self.session.scalars(
            select(RegDisability).where(RegDisability.id_number == id_number)
            .order_by(RegDisability.assessed_on.desc(), RegDisability.assessment_no.desc())
            .limit(1)).first()
        if row is None:
            return None
        return Disability(row.assessment_no, row.level, row.assessed_on, row.labour_ended_on)

    def serious_illness_of(self, id_number: str) -> list[SeriousIllness]:
        """Latest first, at most MAX_ILLNESS_RECORDS."""
        rows = self.session.scalars(
            select(RegSeriousIllness).where(RegSeriousIllness.id_number == id_number)
            .order_by(RegSeriousIllness.from_date.desc(), RegSeriousIllness.record_no.desc())
            .limit(MAX_ILLNESS_RECORDS)).all()
        return [SeriousIllness(r.record_no, r.diagnosis, r.hospital, r.out_of_pocket_fen,
                               r.from_date, r.to_date) for r in rows]


def retirement_from_json(data: dict | None) -> Retirement | None:
    """A Retirement from the platform's answer (null: none)."""
    if data is None:
        return None
    kind = sp.text(data["kind"])
    if kind not in RETIREMENT_KINDS:
        raise sp.BadAnswer("unknown retirement kind")
    return Retirement(sp.text(data["approval_no"]), sp.day(data["retired_on"]), kind)


def unemployment_from_json(data: dict | None) -> Unemployment | None:
    """An Unemployment from the platform's answer (null: none)."""
    if data is None:
        return None
    receiving = data["receiving_benefit"]
    if not isinstance(receiving, bool):
        raise sp.BadAnswer("receiving_benefit is not a boolean")
    return Unemployment(sp.text(data["registration_no"]), sp.day(data["registered_on"]),
                        sp.optional_day(data.get("ended_on")), receiving)


def disability_from_json(data: dict | None) -> Disability | None:
    """A Disability from the platform's answer (null: none)."""
    if data is None:
        return None
    level = sp.integer(data["level"])
    if not 1 <= level <= 10:
        raise sp.BadAnswer("level outside 1-10")
    return Disability(sp.text(data["assessment_no"]), level, sp.day(data["assessed_on"]),
                      sp.optional_day(data.get("labour_ended_on")))


def illness_from_json(data: dict) -> SeriousIllness:
    """A SeriousIllness from one record of the platform's answer."""
    amount = sp.integer(data["out_of_pocket_fen"])
    if amount < 0:
        raise sp.BadAnswer("negative amount")
    return SeriousIllness(sp.text(data["record_no"]), sp.text(data["diagnosis"]),
                          sp.text(data["hospital"]), amount, sp.day(data["from_date"]),
                          sp.day(data["to_date"]))


class HttpSocialSecurity:
    """Asks the platform: POST {url}/social/retirement, /social/unemployment,
    /social/disability, /social/serious-illness {id_number}."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.client = sp.PlatformClient(base_url, timeout_s, code=UNAVAILABLE_CODE,
                                        message=UNAVAILABLE_MESSAGE)

    def retirement_of(self, id_number: str) -> Retirement | None:
        """Answer {"retirement": {...} | null}."""
        return self.client.ask("/social/retirement", {"id_number": id_number},
                               lambda d: retirement_from_json(
                                   sp.optional_record(d["retirement"])))

    def unemployment_of(self, id_number: str) -> Unemployment | None:
        """Answer {"unemployment": {...} | null}."""
        return self.client.ask("/social/unemployment", {"id_number": id_number},
                               lambda d: unemployment_from_json(
                                   sp.optional_record(d["unemployment"])))

    def disability_of(self, id_number: str) -> Disability | None:
        """Answer {"disability": {...} | null}."""
        return self.client.ask("/social/disability", {"id_number": id_number},
                               lambda d: disability_from_json(
                                   sp.optional_record(d["disability"])))

    def serious_illness_of(self, id_number: str) -> list[SeriousIllness]:
        """Answer {"records": [{...}, ...]}, returned latest first."""
        def parse(d: dict) -> list[SeriousIllness]:
            found = [illness_from_json(r) for r in sp.records(d["records"])]
            found.sort(key=lambda r: (r.from_date, r.record_no), reverse=True)
            return found[:MAX_ILLNESS_RECORDS]

        return self.client.ask("/social/serious-illness", {"id_number": id_number}, parse)


def social_security_source(session: Session) -> SocialSecuritySource:
    """The configured social security source."""
    settings = get_settings()
    if settings.shared_data_adapter == "http" and settings.shared_data_url:
        return HttpSocialSecurity(settings.shared_data_url, settings.http_timeout_s)
    return LocalSocialSecurity(session)
