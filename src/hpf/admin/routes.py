"""The staff console (综合管理系统控制台) under /console: every page's router in one."""

from fastapi import APIRouter

from hpf.admin import (
    approvals,
    auth,
    certificates,
    channels,
    home,
    materials,
    records,
    risk,
    services,
)

router = APIRouter()
for module in (auth, home, channels, services, approvals, materials, records, certificates,
               risk):
    router.include_router(module.router)
