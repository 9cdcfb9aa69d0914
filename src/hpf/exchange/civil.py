"""Civil affairs (民政): marriage registrations and the minimum living allowance (低保).

Interface + local implementation over the registry tables we hold (reg_marriage,
reg_low_income, loaded from the data bureau's files or filled by the demo seed) + HTTP
implementation asking the data-exchange platform. A source that cannot answer raises
UpstreamUnavailable; callers never read that as "not married" or "no allowance".
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hpf.config import get_settings
from hpf.exchange import shared_platform as sp
from hpf.exchange.people_models import RegLowIncome, RegMarriage

UNAVAILABLE_CODE = "CIVIL_AFFAIRS_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "民政信息共享系统暂时无法响应，请稍后再试"


@dataclass(frozen=True)
class Marriage:
    """A person's current marriage as civil affairs records it."""

    record_no: str  # 结婚证字号
    spouse_id_number: str
    spouse_name: str
    married_on: date


@dataclass(frozen=True)
class Allowance:
    """A minimum living allowance certificate (低保证)."""

    certificate_no: str
    since: date
    until: date | None
    status: str  # active | ended

    def active_on(self, day: date) -> bool:
        """True when the allowance covers `day` (an ended one only up to its end)."""
        if self.status == "ended" and self.until is None:
            return False
        return self.since <= day and (self.until is None or day <= self.until)


class CivilAffairsSource(Protocol):
    """What withdrawals ask of civil affairs."""

    def marriage_of(self, id_number: str) -> Marriage | None:
        """The person's current (not dissolved) marriage, or None."""
        ...

    def low_income_of(self, id_number: str) -> Allowance | None:
        """The person's latest minimum living allowance certificate, or None."""
        ...


def _pick_marriage(id_number: str, rows: list[RegMarriage]) -> Marriage | None:
    # A divorce ends a marriage; of several undissolved records (a data error at the source)
    # the latest registration is the one that stands.
    current = [r for r in rows if r.divorced_on is None]
    if not current:
        return None
    row = max(current, key=lambda r: (r.married_on, r.record_no))
    if row.party_a_id_number == id_number:
        return Marriage(row.record_no, row.party_b_id_number, row.party_b_name, row.married_on)
    return Marriage(row.record_no, row.party_a_id_number, row.party_a_name, row.married_on)


class LocalCivilAffairs:
    """Answers from reg_marriage and reg_low_income."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def marriage_of(self, id_number: str) -> Marriage | None:
        """Look the person up on either side of a marriage registration."""
        rows = self.session.scalars(select(RegMarriage).where(or_(
            RegMarriage.party_a_id_number == id_number,
            RegMarriage.party_b_id_number == id_number))).all()
        return _pick_marriage(id_number, list(rows))

    def low_income_of(self, id_number: str) -> Allowance | None:
        """The certificate with the latest start date."""
        row = self.session.scalars(
            select(RegLowIncome).where(RegLowIncome.id_number == id_number)
            .order_by(RegLowIncome.since.desc(), RegLowIncome.certificate_no.desc())
            .limit(1)).first()
        if row is None:
            return None
        return Allowance(row.certificate_no, row.since, row.until, row.status)


def marriage_from_json(data: dict | None) -> Marriage | None:
    """A Marriage from the platform's answer (null: not married)."""
    if data is None:
        return None
    return Marriage(sp.text(data["record_no"]), sp.text(data["spouse_id_number"]),
                    sp.text(data["spouse_name"]), sp.day(data["married_on"]))


def allowance_from_json(data: dict | None) -> Allowance | None:
    """An Allowance from the platform's answer (null: none)."""
    if data is None:
        return None
    status = sp.text(data["status"])
    if status not in ("active", "ended"):
        raise sp.BadAnswer("unknown allowance status")
    return Allowance(sp.text(data["certificate_no"]), sp.day(data["since"]),
                     sp.optional_day(data.get("until")), status)


class HttpCivilAffairs:
    """Asks the platform: POST {url}/civil/marriage and /civil/low-income {id_number}."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.client = sp.PlatformClient(base_url, timeout_s, code=UNAVAILABLE_CODE,
                                        message=UNAVAILABLE_MESSAGE)

    def marriage_of(self, id_number: str) -> Marriage | None:
        """Answer {"marriage": {...} | null}."""
        return self.client.ask("/civil/marriage", {"id_number": id_number},
                               lambda d: marriage_from_json(sp.optional_record(d["marriage"])))

    def low_income_of(self, id_number: str) -> Allowance | None:
        """Answer {"allowance": {...} | null}."""
        return self.client.ask("/civil/low-income", {"id_number": id_number},
                               lambda d: allowance_from_json(sp.optional_record(d["allowance"])))


def civil_affairs_source(session: Session) -> CivilAffairsSource:
    """The configured civil affairs source."""
    settings = get_settings()
    if settings.shared_data_adapter == "http" and settings.shared_data_url:
        return HttpCivilAffairs(settings.shared_data_url, settings.http_timeout_s)
    return LocalCivilAffairs(session)
