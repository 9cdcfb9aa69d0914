"""Property registry (不动产登记): which homes in the city a person owns or co-owns.

Interface + local implementation over the registry tables we hold (reg_property and its
owners, loaded from the data bureau's files or filled by the demo seed) + HTTP implementation
asking the data-exchange platform. A source that cannot answer raises UpstreamUnavailable;
callers never read that as "owns nothing" (a rent withdrawal would be approved on it).
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.config import get_settings
from hpf.exchange import shared_platform as sp
from hpf.exchange.housing_models import RegProperty, RegPropertyOwner


@dataclass(frozen=True)
class Home:
    """A registered property right (不动产权): floor area in 0.01 m² (dm²)."""

    cert_no: str  # 不动产权证号
    address: str
    floor_area_dm2: int
    registered_on: date
    owner_id_numbers: tuple[str, ...]  # sorted
    use: str = "住宅"
    status: str = "active"  # active | cancelled (注销: sold, merged)


class PropertySource(Protocol):
    """Looks homes up in the property registry."""

    def homes_of(self, id_number: str) -> list[Home]:
        """Every home in the city this person owns or co-owns now (active certificates)."""
        ...

    def home(self, cert_no: str) -> Home | None:
        """One certificate, whatever its status; None when the registry does not know it."""
        ...


def _owners(session: Session, cert_nos: list[str]) -> dict[str, tuple[str, ...]]:
    rows = session.execute(select(RegPropertyOwner.cert_no, RegPropertyOwner.id_number)
                           .where(RegPropertyOwner.cert_no.in_(cert_nos))
                           .order_by(RegPropertyOwner.cert_no, RegPropertyOwner.id_number))
    out: dict[str, list[str]] = {}
    for cert_no, id_number in rows:
        out.setdefault(cert_no, []).append(id_number)
    return {k: tuple(v) for k, v in out.items()}


def _home(row: RegProperty, owners: tuple[str, ...]) -> Home:
    return Home(row.cert_no, row.address, row.floor_area_dm2, row.registered_on, owners,
                row.use, row.status)


class LocalPropertySource:
    """Answers from reg_property / reg_property_owner."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def homes_of(self, id_number: str) -> list[Home]:
        """Active certificates naming this ID number as an owner, oldest registration first."""
        rows = self.session.scalars(
            select(RegProperty)
            .join(RegPropertyOwner, RegPropertyOwner.cert_no == RegProperty.cert_no)
            .where(RegPropertyOwner.id_number == id_number, RegProperty.status == "active")
            .order_by(RegProperty.registered_on, RegProperty.cert_no)).all()
        if not rows:
            return []
        owners = _owners(self.session, [r.cert_no for r in rows])
        return [_home(r, owners.get(r.cert_no, ())) for r in rows]

    def home(self, cert_no: str) -> Home | None:
        """The certificate and its owners."""
        row = self.session.get(RegProperty, cert_no)
        if row is None:
            return None
        return _home(row, _owners(self.session, [cert_no]).get(cert_no, ()))


def home_from_json(data: dict) -> Home:
    """A Home from the platform's JSON (the shape documented in docs/data-sources.md)."""
    area = sp.integer(data["floor_area_dm2"])
    if area <= 0:
        raise sp.BadAnswer("area must be positive")
    status = data.get("status", "active")
    if status not in ("active", "cancelled"):
        raise sp.BadAnswer("unknown status")
    return Home(sp.text(data["cert_no"]), sp.text(data["address"]), area,
                sp.day(data["registered_on"]), tuple(sorted(sp.id_numbers(data["owners"]))),
                sp.text(data.get("use", "住宅")), status)


class HttpPropertySource:
    """Asks the platform: POST {url}/property/homes {id_number} → {"homes": [...]};
    POST {url}/property/home {cert_no} → {"home": {...} | null}."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.client = sp.PlatformClient(base_url, timeout_s, code="PROPERTY_SOURCE_UNAVAILABLE",
                                        message="不动产登记系统暂时无法响应，请稍后再试")

    def homes_of(self, id_number: str) -> list[Home]:
        """Every active home of this person, as the registry answers."""
        homes = self.client.ask("/property/homes", {"id_number": id_number},
                                lambda d: [home_from_json(h) for h in sp.records(d["homes"])])
        return [h for h in homes if h.status == "active"]

    def home(self, cert_no: str) -> Home | None:
        """One certificate, or None when the registry does not know it."""
        def parse(d: dict) -> Home | None:
            record = sp.optional_record(d["home"])
            return None if record is None else home_from_json(record)

        return self.client.ask("/property/home", {"cert_no": cert_no}, parse)


def property_source(session: Session) -> PropertySource:
    """The configured property registry source."""
    settings = get_settings()
    if settings.shared_data_adapter == "http" and settings.shared_data_url:
        return HttpPropertySource(settings.shared_data_url, settings.http_timeout_s)
    return LocalPropertySource(session)
