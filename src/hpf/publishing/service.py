"""Publishing use cases: the maker-checker changes (mgmt.publish, mgmt.unpublish) and the
public reading services (pub.news, pub.policy, pub.guide, pub.faq, pub.downloads).

A publisher drafts the article as a management change; it appears only once an approver
(another person) approves it, on the channels it names. Nothing is deleted: a new version
supersedes the old, a withdrawal hides it.
"""

from typing import Annotated, Literal

from pydantic import Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hpf.catalog import domain as catalog
from hpf.gateway.registry import Ctx, Params, register_management
from hpf.gateway.registry import service as handles
from hpf.kit import clock
from hpf.kit.errors import Conflict, NotFound
from hpf.publishing.models import Article

KINDS = {"news": "新闻公告", "policy": "政策法规", "guide": "办事指南", "faq": "常见问题",
         "download": "常用下载"}
SERVICE_KIND = {"pub.news": "news", "pub.policy": "policy", "pub.guide": "guide",
                "pub.faq": "faq", "pub.downloads": "download"}
Slug = Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class Publish(Params):
    """Publish an article, or a new version of one (信息发布)."""

    slug: Slug
    kind: Literal["news", "policy", "guide", "faq", "download"]
    title: str = Field(min_length=2, max_length=120)
    body: str = Field(min_length=2, max_length=20_000)
    channels: list[str] = Field(min_length=1, max_length=len(catalog.CHANNELS))

    model_config = {**Params.model_config, "str_max_length": 20_000}

    @field_validator("channels")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in catalog.CHANNELS]
        if unknown:
            raise ValueError("未知的渠道：" + "、".join(unknown[:5]))
        return sorted(set(value))


class Unpublish(Params):
    """Withdraw a published article (撤稿)."""

    slug: Slug
    reason: str = Field(min_length=2, max_length=200)


def _current(session: Session, slug: str) -> Article | None:
    return session.scalars(select(Article).where(Article.slug == slug,
                                                 Article.status == "published")).first()


def _publish(ctx: Ctx, p: Publish) -> dict:
    session = ctx.session
    current = _current(session, p.slug)
    if current is not None and current.kind != p.kind:
        raise Conflict("同名稿件的栏目不同", code="ARTICLE_KIND_MISMATCH")
    version = (session.scalar(select(func.max(Article.version)).where(
        Article.slug == p.slug)) or 0) + 1
    if current is not None:
        current.status = "superseded"
    row = Article(slug=p.slug, kind=p.kind, version=version, title=p.title, body=p.body,
                  channels=",".join(p.channels), status="published", published_at=clock.now(),
                  made_by=ctx.principal.name, command_id=ctx.command_id)
    session.add(row)
    session.flush()
    return _view(row)


def _unpublish(ctx: Ctx, p: Unpublish) -> dict:
    current = _current(ctx.session, p.slug)
    if current is None:
        raise NotFound("没有已发布的该稿件", code="NO_ARTICLE")
    current.status = "withdrawn"
    current.withdrawn_at = clock.now()
    ctx.session.flush()
    return _view(current)


def _view(a: Article, full: bool = True) -> dict:
    out = {"slug": a.slug, "kind": a.kind, "kind_zh": KINDS[a.kind], "version": a.version,
           "title": a.title, "status": a.status,
           "published_at": clock.as_utc(a.published_at).isoformat()}
    if full:
        out["body"] = a.body
        out["channels"] = a.channels.split(",")
    return out


register_management("mgmt.publish", "信息发布", "publisher", Publish, _publish,
                    target=lambda p: f"article:{p.slug}")
register_management("mgmt.unpublish", "信息撤稿", "publisher", Unpublish, _unpublish,
                    target=lambda p: f"article:{p.slug}")


class Reading(Params):
    """One article by its slug, or a page of the list."""

    slug: Slug | None = None
    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=20, ge=1, le=100)
    q: str | None = Field(default=None, max_length=50, description="标题关键词")


def _read(ctx: Ctx, p: Reading, kind: str) -> dict:
    session = ctx.session
    if p.slug is not None:
        row = _current(session, p.slug)
        if row is None or row.kind != kind or ctx.channel not in row.channels.split(","):
            raise NotFound("没有找到该信息", code="NO_ARTICLE")
        return _view(row)
    stmt = select(Article).where(Article.kind == kind, Article.status == "published",
                                 Article.channels.contains(ctx.channel))
    if p.q:
        stmt = stmt.where(Article.title.contains(p.q, autoescape=True))
    rows = session.scalars(stmt.order_by(Article.published_at.desc(), Article.id.desc())
                           .offset((p.page - 1) * p.page_size).limit(p.page_size)).all()
    # `contains` on the comma list could match a longer code; keep exact channel matches.
    items = [_view(r, full=False) for r in rows if ctx.channel in r.channels.split(",")]
    return {"items": items, "page": p.page, "page_size": p.page_size}


def _register_reading(code: str, kind: str) -> None:
    def read(ctx: Ctx, p: Reading) -> dict:
        return _read(ctx, p, kind)

    read.__doc__ = f"{catalog.get(code).name_zh}（公开）."
    handles(code, Reading, allow_anonymous=True)(read)


for _code, _kind in SERVICE_KIND.items():
    _register_reading(_code, _kind)
