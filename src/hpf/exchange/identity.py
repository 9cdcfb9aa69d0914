"""Identity source (公安身份核查): is this name the holder of this ID number?

Interface + local implementation over the registry table we hold (reg_person, loaded from the
data bureau's files or filled by the demo seed) + HTTP implementation for a live source.
A source that cannot answer raises UpstreamUnavailable; callers never treat that as a match.
"""

from dataclasses import dataclass
from typing import Protocol

import httpx
from sqlalchemy.orm import Session

from hpf.config import get_settings
from hpf.exchange.models import RegPerson
from hpf.kit.errors import UpstreamUnavailable


@dataclass(frozen=True)
class IdentityResult:
    """Outcome of an identity check."""

    found: bool
    name_matches: bool
    deceased: bool = False
    hukou_city: str | None = None


class IdentitySource(Protocol):
    """Checks a name against an ID number."""

    def check(self, id_number: str, name: str) -> IdentityResult:
        """Look the person up."""
        ...


class LocalIdentitySource:
    """Answers from the reg_person table."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def check(self, id_number: str, name: str) -> IdentityResult:
        """Look the person up in the registry table."""
        person = self.session.get(RegPerson, id_number)
        if person is None:
            return IdentityResult(found=False, name_matches=False)
        return IdentityResult(True, person.name == name, person.status == "deceased",
                              person.hukou_city)


class HttpIdentitySource:
    """Asks a live identity service: POST {url}/identity/check {id_number, name}."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def check(self, id_number: str, name: str) -> IdentityResult:
        """Call the service; any transport failure or bad answer is 'cannot answer'."""
        try:
            response = httpx.post(f"{self.base_url}/identity/check",
                                  json={"id_number": id_number, "name": name},
                                  timeout=self.timeout_s)
            response.raise_for_status()
            data = response.json()
            return IdentityResult(bool(data["found"]), bool(data["name_matches"]),
                                  bool(data.get("deceased", False)), data.get("hukou_city"))
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise UpstreamUnavailable("身份核查系统暂时无法响应，请稍后再试",
                                      code="IDENTITY_SOURCE_UNAVAILABLE") from exc


def identity_source(session: Session) -> IdentitySource:
    """The configured identity source."""
    settings = get_settings()
    if settings.identity_source == "http" and settings.identity_source_url:
        return HttpIdentitySource(settings.identity_source_url, settings.http_timeout_s)
    return LocalIdentitySource(session)
