"""Gateway handlers of the deposit services (dep.*): parameters in, business out."""


from hpf.catalog import params
from hpf.deposits import accounts, domain, flexible, remittance, repository, schemas, service, transfers
from hpf.deposits.access import employer_for, member_for
from hpf.deposits.models import LIST_STATUSES, M_NORMAL, RemitList
from hpf.gateway.registry import Ctx
from hpf.gateway.registry import service as handles
from hpf.identity import visibility
from hpf.kit import clock
from hpf.kit.clock import month_key
from hpf.kit.errors import Conflict, Forbidden, InvalidInput
from hpf.ledger import service as ledger


def _levels(ctx: Ctx, key: str = "approval.default_levels") -> int:
    return int(params.get(ctx.session, key))


# --- Employers --------------------------------------------------------------------------------
def _unit_register_review(ctx: Ctx, p: schemas.UnitRegister) -> int:
    if repository.employer_by_uscc(ctx.session, p.uscc) is not None:
        raise Conflict("该统一社会信用代码已登记缴存", code="EMPLOYER_EXISTS")
    lo, hi = service.ratio_bounds(ctx.session)
    domain.check_ratio(p.unit_ratio_bps, lo, hi, "unit_ratio_bps")
    domain.check_ratio(p.member_ratio_bps, lo, hi, "member_ratio_bps")
    domain.check_period(p.first_month, month_key(clock.today()) + 100)
    if p.bank_code not in domain.BANKS:
        raise InvalidInput("委托银行代码无效", code="UNKNOWN_BANK")
    return _levels(ctx)


@handles("dep.unit_register", schemas.UnitRegister, review=_unit_register_review,
         allow_anonymous=True)
def unit_register(ctx: Ctx, p: schemas.UnitRegister) -> dict:
    """Employer registration: pre-reviewed online, completed by staff approval."""
    from hpf.identity import service as identity

    employer = service.register_employer(
        ctx.session, name=p.name, uscc=p.uscc, legal_rep=p.legal_rep,
        contact_name=p.contact_name, contact_phone=p.contact_phone, address=p.address,
        bank_code=p.bank_code, unit_ratio_bps=p.unit_ratio_bps,
        member_ratio_bps=p.member_ratio_bps, first_month=p.first_month)
    ctx.employer_id = employer.id
    password = identity.issue_initial_password(ctx.session, employer.id, p.operator_login,
                                               p.contact_name, p.contact_phone)
    return {"unit_no": employer.unit_no, "name": employer.name,
            "operator_login": p.operator_login, "initial_password_sent_to": password}


def _unit_change_fields(p: schemas.UnitChange) -> dict:
    return p.model_dump(exclude_none=True, exclude={"unit_no"})


def _unit_change_review(ctx: Ctx, p: schemas.UnitChange) -> int:
    employer_for(ctx, p.unit_no)
    changes = _unit_change_fields(p)
    if not changes:
        raise InvalidInput("没有需要变更的内容", code="NOTHING_TO_CHANGE")
    if changes.keys() & domain.KEY_EMPLOYER_FIELDS:
        return _levels(ctx, "approval.key_change_levels")
    return _levels(ctx)


@handles("dep.unit_change", schemas.UnitChange, review=_unit_change_review)
def unit_change(ctx: Ctx, p: schemas.UnitChange) -> dict:
    """Employer information change; key fields pass two approvals first."""
    employer = employer_for(ctx, p.unit_no, lock=True)
    result = service.change_employer(ctx.session, employer, _unit_change_fields(p))
    full = visibility.sees_employer(ctx.principal, employer.id)
    for part in ("before", "after"):
        visibility.reveal(result[part], full, keys=("contact_phone",))
    return result


def _unit_close_review(ctx: Ctx, p: schemas.UnitClose) -> int:
    employer = employer_for(ctx, p.unit_no)
    active = repository.count_members(ctx.session, employer.id, M_NORMAL)
    if active:
        raise Conflict(f"单位尚有{active}名正常缴存职工，请先办理封存或转移",
                       code="EMPLOYER_HAS_MEMBERS", active=active)
    # Arrears are refused at application too: close_employer refuses them anyway, and a
    # prereview that accepts what the execution must refuse only wastes two reviewers' time.
    owed = remittance.arrears(ctx.session, employer)
    if owed["months"]:
        raise Conflict("单位存在欠缴，不能注销", code="EMPLOYER_IN_ARREARS", **owed)
    return _levels(ctx, "approval.key_change_levels")


@handles("dep.unit_close", schemas.UnitClose, review=_unit_close_review)
def unit_close(ctx: Ctx, p: schemas.UnitClose) -> dict:
    """Employer deregistration after multi-level approval."""
    return service.close_employer(ctx.session, employer_for(ctx, p.unit_no, lock=True), p.reason)


def _defer_review(ctx: Ctx, p: schemas.Defer) -> int:
    employer_for(ctx, p.unit_no)
    if p.until_month < p.from_month:
        raise InvalidInput("缓缴截止月份不能早于起始月份", code="INVALID_MONTH")
    limit = int(params.get(ctx.session, "deposit.defer_max_months"))
    if clock.months_between(p.from_month, p.until_month) + 1 > limit:
        raise InvalidInput(f"缓缴期限最长{limit}个月", code="DEFER_TOO_LONG")
    return _levels(ctx, "approval.key_change_levels")


@handles("dep.defer", schemas.Defer, review=_defer_review)
def defer(ctx: Ctx, p: schemas.Defer) -> dict:
    """Deferral of deposits after multi-level approval."""
    return service.defer_employer(ctx.session, employer_for(ctx, p.unit_no, lock=True),
                                  p.from_month, p.until_month, p.reason)


# --- Members ----------------------------------------------------------------------------------
@handles("dep.member_open", schemas.MemberOpen)
def member_open(ctx: Ctx, p: schemas.MemberOpen) -> dict:
    """Open a member account at the operator's employer."""
    employer = employer_for(ctx, p.unit_no)
    first = p.first_month or month_key(clock.today())
    domain.check_period(first, month_key(clock.today()) + 100)
    member = service.open_member(
        ctx.session, employer, name=p.name, id_number=p.id_number, phone=p.phone,
        base_fen=p.base_fen, first_month=first, unit_ratio_bps=p.unit_ratio_bps,
        member_ratio_bps=p.member_ratio_bps, retire_group=p.retire_group)
    ctx.member_id = member.id
    return {"member_no": member.member_no, "name": member.name, "unit_no": employer.unit_no,
            "first_month": member.first_month}


def _member_change_fields(p: schemas.MemberChange) -> dict:
    return p.model_dump(exclude_none=True, exclude={"member_no"})


def _member_change_review(ctx: Ctx, p: schemas.MemberChange) -> int:
    member_for(ctx, p.member_no)
    changes = _member_change_fields(p)
    if not changes:
        raise InvalidInput("没有需要变更的内容", code="NOTHING_TO_CHANGE")
    if changes.keys() & domain.IDENTITY_FIELDS:
        if ctx.channel != "counter" or not ctx.principal.is_staff:
            raise Forbidden("姓名、证件类型和证件号码须持证件到柜面办理变更",
                            code="IDENTITY_CHANGE_COUNTER_ONLY")
        return _levels(ctx, "approval.key_change_levels")
    return 0


@handles("dep.member_change", schemas.MemberChange, review=_member_change_review)
def member_change(ctx: Ctx, p: schemas.MemberChange) -> dict:
    """Member information change; identity fields only at the counter with approval."""
    member = member_for(ctx, p.member_no, lock=True)
    result = service.change_member(ctx.session, member, _member_change_fields(p))
    visibility.member_view(ctx.principal, member.id, result["before"])
    return result


@handles("dep.seal", schemas.Seal)
def seal(ctx: Ctx, p: schemas.Seal) -> dict:
    """Seal an employee's account (封存)."""
    member = member_for(ctx, p.member_no, lock=True)
    return service.seal_member(ctx.session, member, p.reason)


@handles("dep.unseal", schemas.Unseal)
def unseal(ctx: Ctx, p: schemas.Unseal) -> dict:
    """Unseal an employee's account (启封)."""
    member = member_for(ctx, p.member_no, lock=True)
    employer = repository.employer_by_id(ctx.session, member.employer_id)
    return service.unseal_member(ctx.session, member, employer)


@handles("dep.transfer_local", schemas.TransferLocal)
def transfer_local(ctx: Ctx, p: schemas.TransferLocal) -> dict:
    """Same-city transfer, applied by the source employer (or staff)."""
    member = member_for(ctx, p.member_no, lock=True)
    service.frozen_guard(member)
    source = repository.employer_by_id(ctx.session, member.employer_id)
    target = repository.employer_by_no(ctx.session, p.to_unit_no)
    return service.transfer_local(ctx.session, member, source, target, p.base_fen,
                                  p.first_month or month_key(clock.today()))


# --- Base and ratio ---------------------------------------------------------------------------
def _base_adjust_check(ctx: Ctx, p: schemas.BaseAdjust) -> tuple[list, int]:
    employer = employer_for(ctx, p.unit_no)
    year = p.year or clock.today().year
    floor, cap = service.base_bounds(ctx.session)
    levels_needed = 0
    approval_levels = _levels(ctx)
    members = []
    seen = set()
    problems = []
    # One query per thousand rows, not one per row: an annual list can have 20,000 lines.
    found = repository.members_by_nos(ctx.session, [row.member_no for row in p.rows])
    for i, row in enumerate(p.rows):
        if row.member_no in seen:
            problems.append({"row": i + 1, "member_no": row.member_no, "code": "DUPLICATE_ROW"})
            continue
        seen.add(row.member_no)
        member = found.get(row.member_no)
        if member is None:
            # One mistyped account number in an uploaded workbook is a problem row like the
            # others, not a 404 that hides every other problem of the list.
            problems.append({"row": i + 1, "member_no": row.member_no,
                             "code": "MEMBER_NOT_FOUND"})
            continue
        if member.employer_id != employer.id:
            problems.append({"row": i + 1, "member_no": row.member_no,
                             "code": "OTHER_EMPLOYER"})
            continue
        try:
            domain.check_base(row.base_fen, floor, cap)
        except InvalidInput as exc:
            problems.append({"row": i + 1, "member_no": row.member_no, "code": exc.code})
            continue
        levels_needed = max(levels_needed, domain.base_adjust_levels(
            member.base_fen, row.base_fen, member.base_year == year, approval_levels))
        members.append((member, row.base_fen))
    if problems:
        raise InvalidInput("基数调整清册有误，请修改后重新提交", code="BASE_ADJUST_INVALID",
                           problems=problems[:200], problem_count=len(problems))
    return members, levels_needed


@handles("dep.base_adjust", schemas.BaseAdjust,
         review=lambda ctx, p: _base_adjust_check(ctx, p)[1])
def base_adjust(ctx: Ctx, p: schemas.BaseAdjust) -> dict:
    """Contribution base adjustment, single or the annual batch (Excel rows)."""
    members, _ = _base_adjust_check(ctx, p)
    year = p.year or clock.today().year
    for member, base in members:
        member.base_fen = base
        member.base_year = year
    ctx.session.flush()
    return {"adjusted": len(members), "year": year}


def _ratio_review(ctx: Ctx, p: schemas.RatioAdjust) -> int:
    employer_for(ctx, p.unit_no)
    lo, hi = service.ratio_bounds(ctx.session)
    domain.check_ratio(p.unit_ratio_bps, lo, hi, "unit_ratio_bps")
    domain.check_ratio(p.member_ratio_bps, lo, hi, "member_ratio_bps")
    domain.check_period(p.from_month, month_key(clock.today()) + 100)
    return _levels(ctx, "approval.key_change_levels")


@handles("dep.ratio_adjust", schemas.RatioAdjust, review=_ratio_review)
def ratio_adjust(ctx: Ctx, p: schemas.RatioAdjust) -> dict:
    """Ratio adjustment for the employer and every active member, after approval."""
    from hpf.deposits.models import Member

    employer = employer_for(ctx, p.unit_no, lock=True)
    employer.unit_ratio_bps = p.unit_ratio_bps
    employer.member_ratio_bps = p.member_ratio_bps
    updated = ctx.session.execute(
        Member.__table__.update()
        .where(Member.employer_id == employer.id, Member.status == M_NORMAL)
        .values(unit_ratio_bps=p.unit_ratio_bps, member_ratio_bps=p.member_ratio_bps)
    ).rowcount
    ctx.session.flush()
    return {"unit_no": employer.unit_no, "unit_ratio_bps": p.unit_ratio_bps,
            "member_ratio_bps": p.member_ratio_bps, "members_updated": updated}


# --- Remittance and supplement ----------------------------------------------------------------
def _list_view(remit_list: RemitList) -> dict:
    return {
        "period": remit_list.period, "kind": remit_list.kind, "status": remit_list.status,
        "status_zh": LIST_STATUSES.get(remit_list.status, remit_list.status),
        "reference": remit_list.reference, "member_count": remit_list.member_count,
        "unit_total_fen": remit_list.unit_total_fen,
        "member_total_fen": remit_list.member_total_fen, "total_fen": remit_list.total_fen,
        "credited_on": remit_list.credited_on,
    }


@handles("dep.remit", schemas.Remit)
def remit(ctx: Ctx, p: schemas.Remit) -> dict:
    """Monthly remittance: generate the list, confirm it, pay it, see its status."""
    employer = employer_for(ctx, p.unit_no, lock=p.action != "status")
    if p.action == "generate":
        return _list_view(remittance.generate_list(ctx.session, employer, p.period,
                                                   ctx.command_id))
    remit_list = repository.list_for_period(ctx.session, employer.id, "remit", p.period)
    if p.action == "status":
        if remit_list is None:
            raise Conflict("该月尚未生成清册", code="LIST_NOT_FOUND")
        return _list_view(remit_list)
    if p.action == "confirm":
        return _list_view(remittance.confirm_list(ctx.session, employer, p.period))
    if remit_list is None:
        raise Conflict("该月尚未生成清册", code="LIST_NOT_FOUND")
    if p.method == "transfer":
        if remit_list.status != "confirmed":
            raise Conflict("清册未确认或已入账", code="LIST_NOT_PAYABLE")
        return {**_list_view(remit_list),
                "instruction": f"请通过网银向中心{domain.BANKS[employer.bank_code]}结算户转账"
                               f"{remit_list.total_fen / 100:.2f}元，附言填写缴款识别码"
                               f"{remit_list.reference}"}
    if p.method != "debit" or not p.account_no:
        raise InvalidInput("请选择缴款方式并填写扣款账号", code="PAYMENT_METHOD_REQUIRED")
    receipt, credited = remittance.pay_by_debit(ctx.session, employer, remit_list, p.account_no)
    return {**_list_view(credited), "bank_txn_id": receipt.bank_txn_id,
            "receipt_status": receipt.status}


def _supplement_members(ctx: Ctx, p: schemas.Supplement):
    employer = employer_for(ctx, p.unit_no)
    members = [repository.member_by_no(ctx.session, no) for no in dict.fromkeys(p.member_nos)]
    for m in members:
        if m.employer_id != employer.id:
            raise Forbidden("职工不属于本单位", code="OTHER_EMPLOYER", member_no=m.member_no)
    current = month_key(clock.today())
    for month in p.months:
        domain.check_period(month, current)
        if month >= current:
            raise InvalidInput("补缴只能针对以前月份", code="SUPPLEMENT_NOT_PAST")
    if len(set(p.months)) != len(p.months):
        raise InvalidInput("补缴月份重复", code="DUPLICATE_MONTH")
    return employer, members


def _supplement_review(ctx: Ctx, p: schemas.Supplement) -> int:
    _supplement_members(ctx, p)
    return _levels(ctx, "approval.key_change_levels")


@handles("dep.supplement", schemas.Supplement, review=_supplement_review)
def supplement(ctx: Ctx, p: schemas.Supplement) -> dict:
    """Supplementary payment: after approval the list is confirmed and awaits payment."""
    employer, members = _supplement_members(ctx, p)
    remit_list = remittance.create_supplement(ctx.session, employer, members, p.months,
                                              p.reason, ctx.command_id)
    return {**_list_view(remit_list),
            "instruction": f"请缴款{remit_list.total_fen / 100:.2f}元，附言填写缴款识别码"
                           f"{remit_list.reference}"}


# --- Account states: custody, freeze ----------------------------------------------------------
def _custody_review(ctx: Ctx, p: schemas.Custody) -> int:
    member = member_for(ctx, p.member_no)
    # Refuse at application what accounts.custody refuses at execution (a frozen account,
    # arrears), instead of accepting it for review and failing after the approval.
    service.frozen_guard(member)
    owed = remittance.arrears(ctx.session, repository.employer_by_id(ctx.session,
                                                                     member.employer_id))
    if owed["months"]:
        raise Conflict("单位存在欠缴，须补缴后方可托管", code="EMPLOYER_IN_ARREARS", **owed)
    return _levels(ctx)


@handles("dep.custody", schemas.Custody, review=_custody_review)
def custody(ctx: Ctx, p: schemas.Custody) -> dict:
    """Custody of a member account by the centre (no arrears allowed)."""
    member = member_for(ctx, p.member_no, lock=True)
    service.frozen_guard(member)
    return accounts.custody(ctx.session, member, p.reason)


@handles("dep.freeze", schemas.Freeze)
def freeze(ctx: Ctx, p: schemas.Freeze) -> dict:
    """Judicial freeze at the counter on a court's notice (协助执行通知书)."""
    return accounts.freeze(ctx.session, member_for(ctx, p.member_no, lock=True), p.authority,
                           p.document_no, p.amount_fen, p.until)


@handles("dep.unfreeze", schemas.Unfreeze)
def unfreeze(ctx: Ctx, p: schemas.Unfreeze) -> dict:
    """Judicial unfreeze at the counter."""
    return accounts.unfreeze(ctx.session, member_for(ctx, p.member_no, lock=True), p.document_no)


# --- Flexible employment ----------------------------------------------------------------------
def _flexible_member(ctx: Ctx, p: schemas.FlexibleOpen):
    existing = repository.member_by_id_number(ctx.session, p.id_number)
    if ctx.principal.kind == "member":
        own = member_for(ctx, None)
        if existing is None or existing.id != own.id:
            raise Forbidden("只能为本人办理", code="OTHER_MEMBER")
    return existing


def _flexible_open_review(ctx: Ctx, p: schemas.FlexibleOpen) -> int:
    existing = _flexible_member(ctx, p)
    if existing is not None and existing.status != "02":
        raise Conflict("已有正常缴存的账户，不能登记为灵活就业缴存", code="MEMBER_ACTIVE")
    flexible._check_terms(ctx.session, p.base_fen, p.ratio_bps)
    return _levels(ctx)


@handles("dep.flexible_open", schemas.FlexibleOpen, review=_flexible_open_review)
def flexible_open(ctx: Ctx, p: schemas.FlexibleOpen) -> dict:
    """Registration of a flexible-employment depositor, after staff review."""
    member = flexible.register(ctx.session, member=_flexible_member(ctx, p), name=p.name,
                               id_number=p.id_number, phone=p.phone, base_fen=p.base_fen,
                               ratio_bps=p.ratio_bps)
    ctx.member_id = member.id
    return {"member_no": member.member_no, "base_fen": member.base_fen,
            "ratio_bps": member.member_ratio_bps}


@handles("dep.flexible_pay", schemas.FlexiblePay)
def flexible_pay(ctx: Ctx, p: schemas.FlexiblePay) -> dict:
    """Direct debit setup, change, termination, and a month's payment."""
    member = member_for(ctx, p.member_no, lock=True)
    service.frozen_guard(member)
    if p.action == "sign":
        if not (p.bank_code and p.card_no and p.debit_day):
            raise InvalidInput("请填写银行、卡号和扣款日", code="AGREEMENT_FIELDS_REQUIRED")
        return flexible.sign(ctx.session, member, p.bank_code, p.card_no, p.debit_day,
                             by=ctx.principal, channel=ctx.channel, consent_given=p.consent)
    if p.action == "change":
        return flexible.change(ctx.session, member, p.base_fen, p.ratio_bps, p.debit_day)
    if p.action == "terminate":
        return flexible.terminate(ctx.session, member)
    return flexible.pay_month(ctx.session, member, p.period or month_key(clock.today()),
                              ctx.command_id)


# --- Inter-city transfer ----------------------------------------------------------------------
def _remote_in_review(ctx: Ctx, p: schemas.TransferRemoteIn) -> int:
    if p.action != "apply":
        if not ctx.principal.is_staff:
            raise Forbidden("联系函确认和资金到账由中心登记", code="STAFF_ONLY")
        transfers.validate_letter_no(p.letter_no)
        if p.amount_fen is None:
            raise InvalidInput("请填写转移金额", code="AMOUNT_REQUIRED")
        if p.action == "arrive" and not p.bank_txn_id:
            raise InvalidInput("请填写银行流水号", code="BANK_TXN_REQUIRED")
        return 0
    transfers.check_in(ctx.session, member_for(ctx, p.member_no))
    return _levels(ctx)


@handles("dep.transfer_remote_in", schemas.TransferRemoteIn, review=_remote_in_review)
def transfer_remote_in(ctx: Ctx, p: schemas.TransferRemoteIn) -> dict:
    """Transfer in: apply (reviewed), then the other centre's confirmation and the funds."""
    if p.action == "apply":
        member = member_for(ctx, p.member_no, lock=True)
        return transfers.issue_letter(ctx.session, member, p.from_centre, p.from_account_no,
                                      ctx.command_id)
    if p.action == "confirm":
        return transfers.record_confirmation(ctx.session, p.letter_no, p.amount_fen, p.history)
    # The letter names the member: funds arrive with the letter number, and staff should not
    # have to (nor be able to wrongly) name the account a second time.
    member = repository.member_by_id(
        ctx.session, transfers.letter_member_id(ctx.session, p.letter_no, "in"))
    if p.member_no is not None and p.member_no != member.member_no:
        raise InvalidInput("联系函与个人账号不符", code="LETTER_MEMBER_MISMATCH")
    ctx.member_id = member.id
    employer = repository.employer_by_id(ctx.session, member.employer_id)
    return transfers.record_arrival(ctx.session, p.letter_no, employer.bank_code,
                                    p.bank_txn_id, p.amount_fen)


def _out_reference(command_id: int) -> str:
    return f"异地转出YW{command_id:012d}"


def _remote_out_review(ctx: Ctx, p: schemas.TransferRemoteOut) -> int:
    member = member_for(ctx, p.member_no, lock=True)
    service.frozen_guard(member)
    transfers.check_letter_free(ctx.session, p.letter_no)
    transfers.reserve_out(ctx.session, member, _out_reference(ctx.command_id))
    return _levels(ctx)


def _remote_out_reject(ctx: Ctx, p: schemas.TransferRemoteOut, command_id: int) -> None:
    hold = ledger.held_by_reference(ctx.session, _out_reference(command_id))
    if hold is not None:
        ledger.release(ctx.session, hold.id)


@handles("dep.transfer_remote_out", schemas.TransferRemoteOut, review=_remote_out_review,
         on_reject=_remote_out_reject)
def transfer_remote_out(ctx: Ctx, p: schemas.TransferRemoteOut) -> dict:
    """Transfer out after review: interest to date, the balance leaves, the account closes."""
    member = member_for(ctx, p.member_no, lock=True)
    service.frozen_guard(member)
    hold = ledger.held_by_reference(ctx.session, _out_reference(ctx.command_id))
    return transfers.send_out(ctx.session, member, p.to_centre, p.to_account_no, p.letter_no,
                              hold.id if hold else None, ctx.command_id)
