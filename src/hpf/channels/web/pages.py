"""Server-rendered pages (Chinese): the portal home with the service catalogue."""

import json
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hpf.catalog import domain as catalog
from hpf.config import get_settings
from hpf.gateway import registry

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[2] / "templates"))
router = APIRouter(include_in_schema=False)


def _demo_logins() -> dict | None:
    path = get_settings().var_dir / "demo-credentials.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def render_home(request: Request) -> HTMLResponse:
    """The portal's home page: what the platform offers and how to sign in."""
    from hpf.jobs.catalog import BACKEND_JOBS

    built = registry.implemented() | set(BACKEND_JOBS)
    areas: dict[str, list] = {}
    for s in catalog.load().values():
        areas.setdefault(s.area, []).append({**s.as_dict(), "available": s.code in built})
    return templates.TemplateResponse(request, "home.html", {
        "areas": areas, "channels": catalog.CHANNELS, "modes": catalog.MODES,
        "demo": _demo_logins(), "available": len(built), "total": len(catalog.load()),
    })
