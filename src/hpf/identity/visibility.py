"""Who sees personal data in full (ID numbers, phones) and who sees it masked.

In full: the person themself (a member reading their own record; an employer's operator
reading their own employer's contact phone), staff whose work needs it, and the system's own
batch calls (no one reads those). Staff roles that need it: the counter clerk (柜员) checks the
person against the ID card, the reviewer (审核员) and approver (审批员) compare an
application with its documents, the administrator (系统管理员) holds every role. The channel
operator, the content publisher and the auditor do not handle individuals' business: they see
110101********123X and 138****0000 (hpf.kit.ids masks), as do employers' operators reading
their employees and anyone else.
"""

from collections.abc import Iterable

from hpf.gateway.principal import Principal
from hpf.kit.ids import mask_id_number, mask_phone
from hpf.kit.logs import mask_values

PERSONAL_DATA_ROLES = frozenset({"clerk", "reviewer", "approver", "admin"})
# Keys under which results carry personal data, and how each is masked.
MASKS = {"id_number": mask_id_number, "phone": mask_phone, "contact_phone": mask_phone}


def staff_sees_personal_data(principal: Principal) -> bool:
    """True for staff holding a role that needs ID numbers and phones in full."""
    return any(principal.has_role(role) for role in PERSONAL_DATA_ROLES)


def sees_member(principal: Principal, member_id: int | None) -> bool:
    """True when `principal` may see this member's ID number and phone in full."""
    if principal.kind == "member":
        return member_id is not None and principal.member_id == member_id
    return principal.kind == "system" or staff_sees_personal_data(principal)


def sees_employer(principal: Principal, employer_id: int | None) -> bool:
    """True when `principal` may see this employer's contact phone in full."""
    if principal.kind == "unit":
        return employer_id is not None and principal.employer_id == employer_id
    return principal.kind == "system" or staff_sees_personal_data(principal)


def masked(key: str, value: str | None) -> str | None:
    """The masked form of one personal-data value (None and '' pass through)."""
    return MASKS[key](value) if value else value


def reveal(data: dict, full: bool, keys: Iterable[str] = ("id_number", "phone")) -> dict:
    """`data` with its personal-data keys masked unless `full`; changes and returns `data`."""
    if not full:
        for key in keys:
            if isinstance(data.get(key), str):
                data[key] = masked(key, data[key])
    return data


def document_view(principal: Principal, document: object) -> object:
    """A stored document (a call's result) with every ID number and phone in it masked,
    unless the principal is staff who may see personal data (or the system)."""
    if principal.kind == "system" or staff_sees_personal_data(principal):
        return document
    return mask_values(document)


def member_view(principal: Principal, member_id: int | None, data: dict) -> dict:
    """A member's data as this principal may see it."""
    return reveal(data, sees_member(principal, member_id))


def employer_view(principal: Principal, employer_id: int | None, data: dict) -> dict:
    """An employer's data (its contact phone) as this principal may see it."""
    return reveal(data, sees_employer(principal, employer_id), keys=("contact_phone",))
