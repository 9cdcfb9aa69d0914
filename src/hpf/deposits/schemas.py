"""Parameters of the deposit services (unknown fields are refused by the Params base)."""

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator

from hpf.gateway.registry import Params
from hpf.kit.ids import normalize_bank_card, normalize_id_number, normalize_phone, normalize_uscc
from hpf.kit.money import MAX_AMOUNT_FEN

Fen = Annotated[int, Field(gt=0, le=MAX_AMOUNT_FEN)]
Bps = Annotated[int, Field(ge=0, le=10_000)]
Month = Annotated[int, Field(ge=190001, le=999912)]
UnitNo = Annotated[str, Field(min_length=4, max_length=20, pattern=r"^\d+$")]
MemberNo = Annotated[str, Field(min_length=4, max_length=20, pattern=r"^\d+$")]
Text50 = Annotated[str, Field(min_length=1, max_length=50)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]


class _IdNumber(Params):
    @field_validator("id_number", check_fields=False)
    @classmethod
    def _id(cls, v: str) -> str:
        return normalize_id_number(v)


class UnitRegister(Params):
    name: Annotated[str, Field(min_length=2, max_length=100)]
    uscc: str
    legal_rep: Text50
    contact_name: Text50
    contact_phone: str
    address: Text200
    bank_code: Annotated[str, Field(max_length=8)]
    unit_ratio_bps: Bps
    member_ratio_bps: Bps
    first_month: Month
    operator_login: Annotated[str, Field(min_length=4, max_length=32, pattern=r"^[A-Za-z0-9_]+$")]

    _uscc = field_validator("uscc")(classmethod(lambda cls, v: normalize_uscc(v)))
    _phone = field_validator("contact_phone")(classmethod(lambda cls, v: normalize_phone(v)))


class UnitChange(Params):
    unit_no: UnitNo | None = None
    name: Annotated[str, Field(min_length=2, max_length=100)] | None = None
    uscc: str | None = None
    legal_rep: Text50 | None = None
    bank_code: Annotated[str, Field(max_length=8)] | None = None
    contact_name: Text50 | None = None
    contact_phone: str | None = None
    address: Text200 | None = None

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, v: str | None) -> str | None:
        return normalize_uscc(v) if v is not None else None

    @field_validator("contact_phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return normalize_phone(v) if v is not None else None


class UnitClose(Params):
    unit_no: UnitNo | None = None
    reason: Text200


class Defer(Params):
    unit_no: UnitNo | None = None
    from_month: Month
    until_month: Month
    reason: Text200


class MemberOpen(_IdNumber):
    unit_no: UnitNo | None = None
    name: Text50
    id_number: str
    phone: str | None = None
    base_fen: Fen
    first_month: Month | None = None
    unit_ratio_bps: Bps | None = None
    member_ratio_bps: Bps | None = None
    retire_group: Literal["M60", "F55", "F50"] | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return normalize_phone(v) if v is not None else None


class MemberChange(Params):
    member_no: MemberNo | None = None
    phone: str | None = None
    address: Text200 | None = None
    marital_status: Literal["10", "20", "21", "22", "23", "30", "40", "90"] | None = None
    name: Text50 | None = None
    id_type: Literal["01"] | None = None
    id_number: str | None = None
    retire_group: Literal["M60", "F55", "F50"] | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return normalize_phone(v) if v is not None else None

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        return normalize_id_number(v) if v is not None else None


class Seal(Params):
    member_no: MemberNo
    reason: Text200


class Unseal(Params):
    member_no: MemberNo


class TransferLocal(Params):
    member_no: MemberNo
    to_unit_no: UnitNo
    base_fen: Fen | None = None
    first_month: Month | None = None


class BaseAdjustRow(Params):
    member_no: MemberNo
    base_fen: Fen


class BaseAdjust(Params):
    unit_no: UnitNo | None = None
    rows: Annotated[list[BaseAdjustRow], Field(min_length=1, max_length=20_000)]
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None


class RatioAdjust(Params):
    unit_no: UnitNo | None = None
    unit_ratio_bps: Bps
    member_ratio_bps: Bps
    from_month: Month
    reason: Text200


class Remit(Params):
    unit_no: UnitNo | None = None
    action: Literal["generate", "confirm", "pay", "status"]
    period: Month
    method: Literal["debit", "transfer"] | None = None
    account_no: Annotated[str, Field(min_length=6, max_length=32, pattern=r"^\d+$")] | None = None


class Supplement(Params):
    unit_no: UnitNo | None = None
    member_nos: Annotated[list[MemberNo], Field(min_length=1, max_length=5_000)]
    months: Annotated[list[Month], Field(min_length=1, max_length=60)]
    reason: Text200


class Custody(Params):
    member_no: MemberNo
    reason: Text200


class Freeze(Params):
    member_no: MemberNo
    authority: Annotated[str, Field(min_length=2, max_length=100)]
    document_no: Annotated[str, Field(min_length=2, max_length=64)]
    amount_fen: Fen | None = None
    until: date | None = None


class Unfreeze(Params):
    member_no: MemberNo
    document_no: Annotated[str, Field(min_length=2, max_length=64)]


class FlexibleOpen(_IdNumber):
    name: Text50
    id_number: str
    phone: str
    base_fen: Fen
    ratio_bps: Bps

    _phone = field_validator("phone")(classmethod(lambda cls, v: normalize_phone(v)))


class FlexiblePay(Params):
    member_no: MemberNo | None = None
    action: Literal["sign", "change", "terminate", "pay"]
    bank_code: Annotated[str, Field(max_length=8)] | None = None
    card_no: str | None = None
    base_fen: Fen | None = None
    ratio_bps: Bps | None = None
    debit_day: Annotated[int, Field(ge=1, le=28)] | None = None
    period: Month | None = None
    consent: bool = Field(default=False,
                          description="签约时：同意向受托银行提供姓名与身份证号码并按月扣款")

    @field_validator("card_no")
    @classmethod
    def _card(cls, v: str | None) -> str | None:
        return normalize_bank_card(v) if v is not None else None


class TransferRemoteIn(Params):
    member_no: MemberNo | None = None
    from_centre: Annotated[str, Field(min_length=2, max_length=100)]
    from_account_no: Annotated[str, Field(min_length=4, max_length=40)]
    action: Literal["apply", "confirm", "arrive"] = "apply"
    letter_no: Annotated[str, Field(max_length=32)] | None = None
    amount_fen: Fen | None = None
    bank_txn_id: Annotated[str, Field(max_length=40)] | None = None
    history: Annotated[list[dict], Field(max_length=600)] | None = None


class TransferRemoteOut(Params):
    member_no: MemberNo | None = None
    to_centre: Annotated[str, Field(min_length=2, max_length=100)]
    to_account_no: Annotated[str, Field(min_length=4, max_length=40)]
    letter_no: Annotated[str, Field(min_length=4, max_length=32)]


class InterestSettle(Params):
    date: date
