"""The catalogue of services: one row per service, loaded from the package's data file.

`services.csv` is the project's copy of spec/services.csv; a test keeps the two in step.
"""

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CHANNELS = {
    "portal": "门户网站",
    "hall": "网上业务大厅",
    "devhall": "开发商网上业务大厅",
    "kiosk": "自助终端",
    "app": "手机客户端",
    "wechat": "微信公众号",
    "sms": "12329短信",
    "hotline": "12329热线",
    "weibo": "官方微博",
    "counter": "服务网点柜面",
}
MODES = {
    "online": "在线办理",
    "public": "公开信息",
    "auto": "自动审核",
    "review": "人工审核",
    "prereview": "网上预审、柜面办结",
    "counter": "柜面办理",
    "backend": "后台批量",
}
ACTORS = ("member", "unit", "developer", "staff", "system", "public")


@dataclass(frozen=True)
class Service:
    """One catalogued service."""

    code: str
    area: str
    category: str
    name_zh: str
    name_en: str
    actors: tuple[str, ...]
    money: str
    mode: str
    channels: tuple[str, ...]
    source: str

    def as_dict(self) -> dict:
        """JSON form for the API."""
        return {
            "code": self.code, "area": self.area, "category": self.category,
            "name_zh": self.name_zh, "name_en": self.name_en, "actors": list(self.actors),
            "money": self.money, "mode": self.mode, "mode_zh": MODES[self.mode],
            "channels": list(self.channels),
        }


@lru_cache
def load(path: Path | None = None) -> dict[str, Service]:
    """Read the catalogue file into services keyed by code."""
    path = path or Path(__file__).with_name("services.csv")
    services: dict[str, Service] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            service = Service(
                code=row["code"], area=row["area"], category=row["category"],
                name_zh=row["name_zh"], name_en=row["name_en"],
                actors=tuple(a for a in row["actor"].split(";") if a),
                money=row["money"], mode=row["mode"],
                channels=tuple(c for c in row["channels"].split(";") if c),
                source=row["source"],
            )
            if service.mode not in MODES:
                raise ValueError(f"{service.code}: unknown mode {service.mode}")
            if any(c not in CHANNELS for c in service.channels):
                raise ValueError(f"{service.code}: unknown channel in {service.channels}")
            if any(a not in ACTORS for a in service.actors):
                raise ValueError(f"{service.code}: unknown actor in {service.actors}")
            services[service.code] = service
    return services


def get(code: str) -> Service | None:
    """The service with a code, or None."""
    return load().get(code)
