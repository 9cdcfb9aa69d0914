"""Information publishing (信息发布) is maker-checker: a publisher drafts, an approver (another
person) approves, and only then does the public read it, on the channels it names."""

from deposits.conftest import PASSWORD
from sqlalchemy import select

from hpf.identity import service as identity
from hpf.kit.db import transaction
from hpf.publishing.models import Article


def _change(city, code, body, maker="pub"):
    return city.client.post(f"/api/v1/mgmt/changes/{code}", json=body,
                            headers={**city.staff(maker), "X-HPF-Channel": "counter"})


def _read(city, code, params, channel="portal"):
    return city.call(code, params, {}, channel=channel)


NEWS = {"slug": "rate-2026", "kind": "news", "title": "关于调整住房公积金存款利率的公告",
        "body": "自2026年4月1日起……", "channels": ["portal", "app", "wechat"]}


def test_news_appear_only_after_a_second_person_approves(city):
    with transaction(city.url) as s:
        identity.create_staff(s, "pub", "信息发布员", PASSWORD, {"publisher"})
    r = _change(city, "mgmt.publish", NEWS)
    assert r.status_code == 202, r.text
    command_id = r.json()["command_id"]
    assert _read(city, "pub.news", {}).json()["result"]["items"] == []
    r = _read(city, "pub.news", {"slug": "rate-2026"})
    assert r.status_code == 404 and r.json()["code"] == "NO_ARTICLE"
    # The publisher cannot approve their own article; a reviewer (not an approver) cannot either.
    assert city.decide(command_id, "pub").status_code == 403
    r = city.decide(command_id, "rev1")
    assert r.status_code == 403 and r.json()["code"] == "ROLE_REQUIRED"
    assert city.decide(command_id, "rev2").json()["status"] == "succeeded"

    items = _read(city, "pub.news", {}).json()["result"]["items"]
    assert [(i["slug"], i["version"], i["title"]) for i in items] == [
        ("rate-2026", 1, NEWS["title"])]
    assert _read(city, "pub.news", {"slug": "rate-2026"}, "app").json()["result"]["body"] == \
        NEWS["body"]
    # Not on a channel it does not name; not under another kind.
    assert _read(city, "pub.news", {"slug": "rate-2026"}, "weibo").status_code == 404
    assert _read(city, "pub.policy", {"slug": "rate-2026"}).status_code == 404

    # A correction is a new version (the old one kept); a withdrawal hides it.
    r = _change(city, "mgmt.publish", {**NEWS, "title": "关于调整住房公积金存款利率的公告（更正）"})
    city.decide(r.json()["command_id"], "rev2")
    assert _read(city, "pub.news", {"slug": "rate-2026"}).json()["result"]["version"] == 2
    r = _change(city, "mgmt.unpublish", {"slug": "rate-2026", "reason": "政策暂缓执行"})
    city.decide(r.json()["command_id"], "rev2")
    assert _read(city, "pub.news", {}).json()["result"]["items"] == []
    with transaction(city.url) as s:
        assert s.scalars(select(Article.status).order_by(Article.version)).all() == [
            "superseded", "withdrawn"]


def test_publishing_refusals(city):
    with transaction(city.url) as s:
        identity.create_staff(s, "pub", "信息发布员", PASSWORD, {"publisher"})
    r = _change(city, "mgmt.publish", NEWS, maker="clerk")
    assert r.status_code == 403 and r.json()["code"] == "ROLE_REQUIRED"
    bad = [{"slug": "Bad Slug"}, {"channels": ["fax"]}, {"channels": []}, {"title": "x" * 121},
           {"kind": "gossip"}, {"body": ""}, {"extra": 1}]
    for fields in bad:
        r = _change(city, "mgmt.publish", {**NEWS, **fields})
        assert r.status_code == 422 and r.json()["code"] == "INVALID_PARAMS", (fields, r.text)
    # One pending publication per article; withdrawing what is not published fails on approval.
    assert _change(city, "mgmt.publish", NEWS).status_code == 202
    r = _change(city, "mgmt.publish", {**NEWS, "title": "另一稿"})
    assert r.status_code == 409 and r.json()["code"] == "IN_FLIGHT_CONFLICT"
    r = _change(city, "mgmt.unpublish", {"slug": "nothing-here", "reason": "测试"})
    decided = city.decide(r.json()["command_id"], "rev2").json()
    assert decided["status"] == "failed" and decided["error"]["code"] == "NO_ARTICLE"
    # The public read refuses junk too.
    r = _read(city, "pub.news", {"page": 0})
    assert r.status_code == 422
    r = _read(city, "pub.news", {}, channel="hall")
    assert r.status_code == 403 and r.json()["code"] == "SERVICE_NOT_ON_CHANNEL"
