"""Registry tables of the housing-side sources: what the centre holds of the property registry
(不动产登记), housing transactions (网签备案, 住宅专项维修资金) and tax invoices (税务发票).

A centre loads them from the CSV files its data bureau sends (`hpf registry load`); the demo
seed fills them consistently with its members. They mirror the sources in plain text, like
reg_person. Owners and buyers are child rows so "every home of this ID number" is one indexed
lookup; areas are integers in 0.01 m² (dm²), money in fen.
"""

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base

CONTRACT_KINDS = ("new", "resale")  # 商品房 / 二手房
# 契税 / 购房 / 装修 / 物业费 / 建房工程 / 大修 (build and repair withdrawals rest on the last two)
INVOICE_KINDS = ("deed_tax", "house_sale", "renovation", "property_fee", "construction", "repair")
PROPERTY_STATUSES = ("active", "cancelled")  # 现势 / 注销 (sold or merged)


class RegProperty(Base):
    """A property right certificate (不动产权证) of the property registry."""

    __tablename__ = "reg_property"
    __table_args__ = (
        CheckConstraint("floor_area_dm2 > 0", name="area"),
        CheckConstraint("status IN ('active', 'cancelled')", name="status"),
    )

    cert_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(200))
    floor_area_dm2: Mapped[int] = mapped_column(Integer)  # 0.01 m²
    registered_on: Mapped[date] = mapped_column(Date)
    use: Mapped[str] = mapped_column(String(20), default="住宅")
    status: Mapped[str] = mapped_column(String(12), default="active")


class RegPropertyOwner(Base):
    """An owner (or co-owner) of a registered property."""

    __tablename__ = "reg_property_owner"

    cert_no: Mapped[str] = mapped_column(
        String(64), ForeignKey("reg_property.cert_no", ondelete="CASCADE"), primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), primary_key=True, index=True)


class RegHousingContract(Base):
    """A filed purchase contract (商品房/二手房网签备案合同)."""

    __tablename__ = "reg_housing_contract"
    __table_args__ = (
        CheckConstraint("kind IN ('new', 'resale')", name="kind"),
        CheckConstraint("price_fen > 0", name="price"),
        CheckConstraint("floor_area_dm2 > 0", name="area"),
    )

    contract_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    signed_on: Mapped[date] = mapped_column(Date)
    filed_on: Mapped[date] = mapped_column(Date)
    address: Mapped[str] = mapped_column(String(200))
    floor_area_dm2: Mapped[int] = mapped_column(Integer)


class RegHousingContractBuyer(Base):
    """A buyer named on a purchase contract."""

    __tablename__ = "reg_housing_contract_buyer"

    contract_no: Mapped[str] = mapped_column(
        String(40), ForeignKey("reg_housing_contract.contract_no", ondelete="CASCADE"),
        primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), primary_key=True, index=True)


class RegMaintenancePayment(Base):
    """A deposit into the residential maintenance fund (住宅专项维修资金缴存)."""

    __tablename__ = "reg_maintenance_payment"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount"),)

    receipt_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    address: Mapped[str] = mapped_column(String(200))


class RegTaxInvoice(Base):
    """A tax invoice or deed-tax receipt the tax bureau shares (契税、购房、装修、物业费发票)."""

    __tablename__ = "reg_tax_invoice"
    __table_args__ = (
        CheckConstraint("kind IN ('deed_tax', 'house_sale', 'renovation', 'property_fee', "
                        "'construction', 'repair')", name="kind"),
        CheckConstraint("amount_fen > 0", name="amount"),
    )

    invoice_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    buyer_id_number: Mapped[str] = mapped_column(String(18), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    issued_on: Mapped[date] = mapped_column(Date)
    address: Mapped[str] = mapped_column(String(200))
    seller: Mapped[str] = mapped_column(String(100))
