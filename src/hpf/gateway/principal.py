"""Who is calling: the authenticated principal handed to the gateway by a channel."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """An authenticated (or anonymous) caller."""

    kind: str  # member | unit | developer | staff | system | anonymous
    user_id: int | None = None
    name: str | None = None
    member_id: int | None = None
    employer_id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    session_id: int | None = None

    @property
    def is_staff(self) -> bool:
        """True for centre staff."""
        return self.kind == "staff"

    def has_role(self, role: str) -> bool:
        """True when a staff principal holds a role (administrators hold every role)."""
        return self.is_staff and (role in self.roles or "admin" in self.roles)


ANONYMOUS = Principal(kind="anonymous")
SYSTEM = Principal(kind="system", name="system", roles=frozenset({"admin"}))
