"""Parameters of the withdrawal services (unknown fields are refused by the Params base)."""

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from hpf.gateway.registry import Params
from hpf.kit.ids import normalize_bank_card, normalize_id_number
from hpf.kit.money import MAX_AMOUNT_FEN

Fen = Annotated[int, Field(gt=0, le=MAX_AMOUNT_FEN)]
MemberNo = Annotated[str, Field(min_length=4, max_length=20, pattern=r"^\d+$")]
BankCode = Annotated[str, Field(min_length=2, max_length=8, pattern=r"^[A-Z0-9]+$")]
# Document numbers: letters, digits, Chinese characters and the separators registries use.
DOCUMENT_NO = r"^[A-Za-z0-9\-_/()（）\u4e00-\u9fff]+$"
DocumentNo = Annotated[str, Field(min_length=1, max_length=64, pattern=DOCUMENT_NO)]


class Withdraw(Params):
    """One withdrawal application of any kind (the kind is the service code)."""

    # Staff at the counter (and the scheduled-withdrawal job) name the member; a member applies
    # for their own account.
    member_no: MemberNo | None = None
    # None: as much as the rules allow (the whole balance for the kinds that close the account).
    amount_fen: Fen | None = None
    bank_code: BankCode
    card_no: str
    # The documents the withdrawal rests on, as the member names them: the purchase contract,
    # the property certificate, invoices, the loan contract, the illness record.
    contract_no: DocumentNo | None = None
    cert_no: DocumentNo | None = None
    invoice_nos: Annotated[list[DocumentNo], Field(max_length=20)] = []
    loan_contract_no: DocumentNo | None = None
    illness_record_no: DocumentNo | None = None
    # Rent: the months claimed in arrears (required for rent: WD_RENT_MONTHS_REQUIRED).
    rent_months: Annotated[int, Field(ge=1, le=12)] | None = None
    # Rent: also sign a scheduled monthly withdrawal (约定提取) for this many following months.
    schedule_months: Annotated[int, Field(ge=1, le=24)] | None = None
    # Uploaded materials (hpf.materials) backing an application staff review.
    materials: Annotated[list[Annotated[int, Field(gt=0)]], Field(max_length=20)] = []
    # At the counter: the spouse applies for the family's home or loan from this account, with
    # the account holder's signed authorisation (the clerk keeps it); paid to the holder's card.
    spouse_id_number: str | None = None
    # Death withdrawal at the counter: the heir who is paid (the card is in the heir's name).
    heir_name: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    heir_id_number: str | None = None

    @field_validator("card_no")
    @classmethod
    def _card(cls, v: str) -> str:
        return normalize_bank_card(v)

    @field_validator("heir_id_number", "spouse_id_number")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        return normalize_id_number(v) if v is not None else None

    @model_validator(mode="after")
    def _heir_together(self) -> "Withdraw":
        if (self.heir_name is None) != (self.heir_id_number is None):
            raise ValueError("继承人姓名和身份证号须同时填写")
        return self
