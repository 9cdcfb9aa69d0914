"""The 19 withdrawal kinds (提取类型) of the catalogue (spec/services.csv wd.*), as one table.

For each kind: the JGJ/T 320-2014 reason code kept on records and exports (domain-rules §1),
the Chinese name and mode as the catalogue says (a unit test compares them with the CSV), whether
the first withdrawal must be made at the counter so the centre holds the originals (seed 003
§4.3-4.7: purchase, build, rent, commercial and fund loan repayment; repair with them by
domain-rules §5), the materials (business documents beyond the ID card and the bank card,
which every application carries), the frequency limit, and whether the withdrawal pays the
whole balance and closes the account.

Account-closing kinds follow the State Council regulation (条例 第24条: retirement, complete
loss of working capacity with the end of employment, settling abroad close the account) and
seeds 000/002 (leaving the city with the hukou, non-local members leaving their job, death).
Reason codes: kinds JGJ/T 320 has no code for (renovation, property fee, maintenance fund, low
income, unemployment, non-local leaving job) are 99 其他; the down payment is a purchase (01).
"""

from dataclasses import dataclass

# Modes of the catalogue.
AUTO, REVIEW, COUNTER = "auto", "review", "counter"

# Frequency limits.
ONCE_PER_MONTH = "monthly"  # once per calendar month (rent, in arrears)
ONCE_PER_YEAR = "calendar_year"  # once per calendar year (property fee, allowance kinds)
EVERY_12_MONTHS = "12_months"  # again 12 months after the last one for the same document
ONCE_PER_DOCUMENT = "once_per_document"  # one withdrawal per contract / invoice / record
# (build, repair, renovation: per invoice; an invoice the family used once is spent)
ONCE = "once"  # the account closes


@dataclass(frozen=True)
class Material:
    """A document an application needs (申请要件)."""

    code: str
    name_zh: str
    required: bool = True


@dataclass(frozen=True)
class Kind:
    """One withdrawal kind of the catalogue."""

    code: str
    reason_code: str  # JGJ/T 320 提取原因
    name_zh: str
    mode: str  # auto | review | counter
    first_at_counter: bool
    materials: tuple[Material, ...]
    frequency: str
    closes_account: bool
    # Kinds a spouse may apply for from this account, for the family's home or loan.
    spouse_may_apply: bool = False

    @property
    def leaves_min_balance(self) -> bool:
        """A partial withdrawal leaves the minimum balance; a closing one takes everything."""
        return not self.closes_account


def _m(code: str, name_zh: str, required: bool = True) -> Material:
    return Material(code, name_zh, required)


_TERMINATION = _m("termination_proof", "与单位终止劳动关系证明")

KINDS: dict[str, Kind] = {k.code: k for k in (
    # seed 000 附件3 wd-1: completed home: certificate and deed tax; off-plan: contract, invoice.
    Kind("wd.purchase", "01", "购买自住住房提取", AUTO, True, (
        _m("purchase_proof", "购房合同或不动产权证书"), _m("house_invoice", "购房发票"),
        _m("deed_tax_invoice", "契税完税凭证", False), _m("marriage_cert", "结婚证", False),
        _m("spouse_authorisation", "配偶授权委托书", False)),
        EVERY_12_MONTHS, False, True),
    # wd-2: planning permit, ownership and value proof; at most the construction cost.
    Kind("wd.build", "02", "建造和翻建自住住房提取", COUNTER, True, (
        _m("planning_permit", "建设工程规划许可证或建房批准文件"),
        _m("ownership_proof", "房屋所有权或土地使用权证明"),
        _m("construction_invoice", "工程造价证明或付款发票")),
        ONCE_PER_DOCUMENT, False, True),
    # wd-3: construction contract, final account, invoices, ownership certificate.
    Kind("wd.repair", "02", "大修住房提取", COUNTER, True, (
        _m("construction_contract", "建筑工程施工合同"), _m("final_account", "工程决算"),
        _m("repair_invoice", "大修付款发票"), _m("property_cert", "不动产权证书")),
        ONCE_PER_DOCUMENT, False, True),
    # 2026 regulation: renovation of a self-occupied home, at most the invoiced cost.
    Kind("wd.renovate", "99", "装修自住住房提取", REVIEW, False, (
        _m("property_cert", "不动产权证书"), _m("renovation_contract", "装修合同"),
        _m("renovation_invoice", "装修发票")),
        ONCE_PER_DOCUMENT, False, True),
    # wd-4 and seed 003 4.3: the tenancy registered at the counter the first time.
    Kind("wd.rent", "07", "租房提取", AUTO, True, (
        _m("rental_contract", "房屋租赁合同"),
        _m("no_home_proof", "无房证明（不动产登记信息无法查询时）", False)),
        ONCE_PER_MONTH, False, True),
    # wd-5: the family once a year; the registry gives the floor area.
    Kind("wd.property_fee", "99", "物业费提取", AUTO, False, (
        _m("property_fee_receipt", "物业费发票或收据"), _m("property_cert", "不动产权证书", False)),
        ONCE_PER_YEAR, False, True),
    # wd-6: at most the maintenance fund paid.
    Kind("wd.maintenance_fund", "99", "住宅专项维修资金提取", AUTO, False, (
        _m("maintenance_fund_receipt", "住宅专项维修资金缴款凭证"),
        _m("property_cert", "不动产权证书", False)),
        ONCE_PER_DOCUMENT, False, True),
    # wd-7: once (一次性), at most the down payment; the centre's own loan record gives it.
    Kind("wd.down_payment", "01", "贷款首付提取", AUTO, False, (
        _m("purchase_contract", "购房合同"), _m("down_payment_receipt", "首付款发票或支付凭证")),
        ONCE_PER_DOCUMENT, False, True),
    # wd-8 and seed 003 4.7.
    Kind("wd.repay_fund_loan", "06", "偿还公积金贷款提取", AUTO, True, (),
         EVERY_12_MONTHS, False, True),
    # wd-9 and seed 003 4.6: loan contract and repayment statement.
    Kind("wd.repay_commercial_loan", "06", "偿还商业贷款提取", AUTO, True, (
        _m("loan_contract", "商业贷款借款合同"), _m("repayment_statement", "银行还款明细")),
        EVERY_12_MONTHS, False, True),
    # wd-10: the allowance certificate, checked yearly (年检), so once per calendar year.
    Kind("wd.low_income", "99", "享受低保提取", REVIEW, False, (
        _m("allowance_cert", "城乡最低生活保障金领取证"),), ONCE_PER_YEAR, False),
    # wd-11: unemployment registration and proof of hardship, once per calendar year.
    Kind("wd.unemployed", "99", "下岗失业提取", REVIEW, False, (
        _m("unemployment_cert", "失业登记证明"), _m("hardship_proof", "家庭生活困难证明")),
        ONCE_PER_YEAR, False),
    # wd-12: disability grade 1-4 and the end of employment; closes the account (条例 24).
    Kind("wd.disability", "04", "丧失劳动能力提取", COUNTER, False, (
        _m("disability_assessment", "劳动能力鉴定证明"), _TERMINATION), ONCE, True),
    # JGJ/T 320 reason 09: at most the patient's own share of the medical costs.
    Kind("wd.serious_illness", "09", "重大疾病提取", REVIEW, False, (
        _m("diagnosis", "医院诊断证明"), _m("medical_invoice", "医疗费用票据"),
        _m("kinship_proof", "亲属关系证明（为家庭成员提取时）", False)),
        ONCE_PER_DOCUMENT, False),
    # wd-13 and seed 002: no retirement certificate needed when the age is reached.
    Kind("wd.retirement", "03", "离退休提取", AUTO, False, (
        _m("retirement_cert", "退休证或退休审批表", False),), ONCE, True),
    # wd-14: hukou moved out of the city.
    Kind("wd.leave_city", "05", "调离本市提取", COUNTER, False, (
        _m("hukou_transfer_proof", "户口迁移证明"), _m("transfer_order", "调令或商调函", False)),
        ONCE, True),
    # wd-15: hukou cancelled and a valid visa.
    Kind("wd.emigrate", "05", "出国出境定居提取", COUNTER, False, (
        _m("hukou_cancel_proof", "户口注销证明"), _m("visa", "出国（境）定居有效签证")),
        ONCE, True),
    # wd-16 and seed 002 减少要件: no termination proof once sealed six months at a normal employer.
    Kind("wd.leave_job_nonlocal", "99", "非本市户口离职提取", AUTO, False, (
        _m("termination_proof", "解除劳动关系证明（非正常缴存或整体封存单位职工）", False),),
        ONCE, True),
    # wd-17: heirs at the counter with the death certificate and proof of inheritance.
    Kind("wd.death", "08", "死亡提取", COUNTER, False, (
        _m("death_cert", "死亡证明"), _m("inheritance_proof", "继承关系证明或经公证的遗嘱"),
        _m("heir_id", "继承人身份证件")), ONCE, True),
)}


def kind(code: str) -> Kind:
    """The kind of a wd.* service code; KeyError for an unknown one."""
    return KINDS[code]
