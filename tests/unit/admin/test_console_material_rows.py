"""How the approval row names and sizes an application's materials (pure, no database)."""

import pytest

from hpf.admin.materials import material_name, size_text


@pytest.mark.parametrize(("service", "code", "name"), [
    # The kind's own name.
    ("wd.low_income", "allowance_cert", "城乡最低生活保障金领取证"),
    # Two kinds name termination_proof differently: each application reads its own kind's.
    ("wd.disability", "termination_proof", "与单位终止劳动关系证明"),
    ("wd.leave_job_nonlocal", "termination_proof",
     "解除劳动关系证明（非正常缴存或整体封存单位职工）"),
    # A code only another kind names (supporting material): that kind's name.
    ("wd.low_income", "hardship_proof", "家庭生活困难证明"),
    # Not a withdrawal: the first kind (in catalogue order) that names the code.
    ("mgmt.channel_state", "termination_proof", "与单位终止劳动关系证明"),
    # No kind names it: the code itself.
    ("wd.low_income", "street_photo", "street_photo"),
    ("loan.apply", "street_photo", "street_photo"),
])
def test_material_name(service, code, name):
    assert material_name(service, code) == name


@pytest.mark.parametrize(("size", "text"), [
    (1, "1 字节"),
    (1023, "1023 字节"),
    (1024, "1.0 KB"),
    (1075, "1.0 KB"),  # 1.0498 KB
    (1076, "1.1 KB"),  # 1.0508 KB: half up
    (1536, "1.5 KB"),
    (1_048_524, "1023.9 KB"),  # 1023.949 KB
    (1_048_525, "1.0 MB"),  # 1023.950 KB would read 1024.0 KB: MB instead
    (1_048_576, "1.0 MB"),
    (5 * 1_048_576 + 52_429, "5.1 MB"),  # 5.05000 MB: half up
    (5 * 1_048_576 + 52_428, "5.0 MB"),  # 5.04999 MB
])
def test_size_text(size, text):
    assert size_text(size) == text
