"""The staff desk's lookup: search as the bot searches, full guides, bundles, and the printable
one-page checklist (its content, escaping and density; the browser test prints it)."""
from __future__ import annotations

import re
from datetime import date
from html import escape

import pytest

from database import make_session
from desk.app import create_app
from filings.calendar import local_today
from knowledge import repository
from knowledge.answers import fee_text, time_limit_text
from knowledge.models import Department, Material, Place, ProcessStep, Service, ServicePlace
from knowledge.search import default_service
from staffdesk import checklist
from staff_helpers import make_staff, staff_client

SELF_EMPLOYED = "11440307MB2C1000044440307001001"  # 个体工商户设立登记 (sample data)
BIRTH_CERTIFICATE = "11440307MB2C10185H4440307006002"  # 出生医学证明签发, member of 新生儿出生一件事
API = "/api/v1/staff/lookup"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def app(filings_url, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_SWEEP_INTERVAL", "0")
    return create_app(filings_url)


@pytest.fixture
def clerk(filings_url):
    return make_staff(filings_url, "clerk", name="前台小李")


async def test_without_a_session_the_api_answers_401_and_the_checklist_page_sends_to_sign_in(app, filings_url):
    async with staff_client(app) as client:
        for path in (f"{API}/search?q=个体户", f"{API}/services/{SELF_EMPLOYED}", f"{API}/bundles", f"{API}/bundles/newborn"):
            response = await client.get(path)
            assert response.status_code == 401, path
            assert response.json()["error"]["message"] == "请先登录，或登录已过期，请重新登录。"
        page = await client.get(f"/staff/checklist/{SELF_EMPLOYED}", headers=HTML)
        assert page.status_code == 303 and page.headers["location"] == "/staff/#/login"
        other = await client.get(f"/staff/checklist/{SELF_EMPLOYED}", headers={"Accept": "application/json"})
        assert other.status_code == 401 and other.json()["error"]["code"] == "unauthorized"
    # A session that has ended is no session.
    username = make_staff(filings_url, "clerk")
    async with staff_client(app, username) as client:
        kept = dict(client.cookies)
        await client.post("/api/v1/staff/logout")
        client.cookies.update(kept)
        page = await client.get(f"/staff/checklist/{SELF_EMPLOYED}", headers=HTML)
        assert page.status_code == 303 and page.headers["location"] == "/staff/#/login"


@pytest.mark.parametrize("role, department", [("clerk", None), ("officer", "LG-GA"), ("coordinator", None), ("admin", None)])
async def test_every_role_may_look_up(app, filings_url, role, department):
    username = make_staff(filings_url, role, department)
    async with staff_client(app, username) as client:
        assert "lookup" in (await client.get("/api/v1/staff/me")).json()["sections"]
        for path in (f"{API}/search?q=个体户", f"{API}/services/{SELF_EMPLOYED}", f"{API}/bundles", f"{API}/bundles/newborn"):
            assert (await client.get(path)).status_code == 200, path
        page = await client.get(f"/staff/checklist/{SELF_EMPLOYED}", headers=HTML)
        assert page.status_code == 200 and "办事材料清单" in page.text


async def test_search_is_the_bots_search_with_variants_explained(app, filings_url, clerk):
    async with staff_client(app, clerk) as client:
        found = (await client.get(f"{API}/search", params={"q": "身份证"})).json()
        bot = default_service(filings_url).search("身份证", limit=12)  # what the bot's actions use
        assert [h["code"] for h in found["results"]] == [h.code for h in bot.hits]
        names = [h["name"] for h in found["results"]]
        assert {"居民身份证首次申领", "居民身份证换领", "居民身份证补领"} <= set(names)
        assert found["variants_of"]["parent_name"] == "居民身份证申领、换领、补领"
        assert found["notice"].startswith("以下3项是“居民身份证申领、换领、补领”的不同情形")
        replaced = next(h for h in found["results"] if h["name"] == "居民身份证补领")
        assert replaced["note"] == "属于“居民身份证申领、换领、补领”：遗失补领"
        assert replaced["department"] == "深圳市公安局龙岗分局"
        plain = next(h for h in found["results"] if h["name"] == "临时居民身份证申领")
        assert plain["note"] is None

        typed = (await client.get(f"{API}/search", params={"q": "个体户"})).json()
        assert typed["results"][0]["code"] == SELF_EMPLOYED and typed["notice"] is None

        newborn = (await client.get(f"{API}/search", params={"q": "新生儿"})).json()
        bundle = next(h for h in newborn["results"] if h["kind"] == "bundle")
        assert bundle["code"] == "newborn" and bundle["note"].startswith("一件事")

        nothing = (await client.get(f"{API}/search", params={"q": "zzqqxx"})).json()
        assert nothing["results"] == [] and nothing["variants_of"] is None

        empty = await client.get(f"{API}/search", params={"q": "  "})
        assert empty.status_code == 422 and empty.json()["error"]["message"] == "请输入要查询的事项。"
        long = await client.get(f"{API}/search", params={"q": "户" * 201})
        assert long.status_code == 422 and "过长" in long.json()["error"]["message"]
        limited = (await client.get(f"{API}/search", params={"q": "登记", "limit": 3})).json()
        assert len(limited["results"]) <= 3


async def test_the_guide_is_the_catalogue_guide_with_its_bundles(app, clerk):
    async with staff_client(app, clerk) as client:
        guide = (await client.get(f"{API}/services/{SELF_EMPLOYED}")).json()
        public = (await client.get(f"/api/v1/services/{SELF_EMPLOYED}")).json()
        assert {key: guide[key] for key in public} == public  # the catalogue API's serialisation, whole
        assert guide["name"] == "个体工商户设立登记" and guide["department"]["code"] == "LG-SCJG"
        assert [m["name"] for m in guide["materials"]][:2] == ["个体工商户登记（备案）申请书", "经营者身份证明"]
        assert guide["time_limit"]["immediate"] is True and guide["places"] and guide["process"]
        assert guide["checklist_url"] == f"/staff/checklist/{SELF_EMPLOYED}" and guide["bundles"] == []

        member = (await client.get(f"{API}/services/{BIRTH_CERTIFICATE}")).json()
        assert {"code": "newborn", "name": "新生儿出生一件事"} in member["bundles"]
        by_basic_code = (await client.get(f"{API}/services/440307001001")).json()
        assert by_basic_code["code"] == SELF_EMPLOYED


async def test_bundles_with_their_members_and_departments(app, clerk):
    async with staff_client(app, clerk) as client:
        bundles = (await client.get(f"{API}/bundles")).json()
        assert len(bundles) == 5
        newborn = next(b for b in bundles if b["code"] == "newborn")
        assert newborn["lead_department"]["code"] == "LG-WJ"
        assert {d["code"] for d in newborn["partner_departments"]} == {"LG-GA", "LG-YB", "LG-SB"}
        members = {m["name"]: m["department"] for m in newborn["members"]}
        assert members["出生登记（新生儿入户）"] == "深圳市公安局龙岗分局"
        assert len(members) == 6 and newborn["promised_limit"] == {"value": 5, "unit": "工作日"}
        one = (await client.get(f"{API}/bundles/company-opening")).json()
        assert one["name"] == "开办企业一件事" and any(m["optional"] for m in one["members"])
        missing = await client.get(f"{API}/bundles/no-such-thing")
        assert missing.status_code == 404 and missing.json()["error"]["message"] == "未找到“no-such-thing”对应的一件事。"


async def test_unknown_codes_get_a_chinese_404(app, clerk):
    async with staff_client(app, clerk) as client:
        response = await client.get(f"{API}/services/NO-SUCH-CODE")
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "未找到编码为 NO-SUCH-CODE 的事项。"
        page = await client.get("/staff/checklist/NO-SUCH-CODE", headers=HTML)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert "未找到编码为 NO-SUCH-CODE 的事项。" in page.text and 'lang="zh-CN"' in page.text
        hostile = await client.get("/staff/checklist/%3Cscript%3Ex", headers=HTML)
        assert hostile.status_code == 404 and "<script>x" not in hostile.text and "&lt;script&gt;x" in hostile.text
        data = await client.get("/staff/checklist/NO-SUCH-CODE")
        assert data.status_code == 404 and data.json()["error"]["code"] == "service_not_found"


async def test_the_checklist_page_has_everything_the_citizen_needs(app, filings_url, clerk):
    async with staff_client(app, clerk) as client:
        page = await client.get(f"/staff/checklist/{SELF_EMPLOYED}", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    with make_session(filings_url) as session:
        service = repository.get_service(session, SELF_EMPLOYED)
        expected_time, expected_fee = time_limit_text(service), fee_text(service)
        materials = [(m.name, m.form, m.copies, m.required) for m in service.materials]
        places = [(link.place.name, link.place.address, link.place.opening_hours) for link in service.place_links]
        online, phone = service.online_url, service.consult_phone
    assert "<h1>办事材料清单</h1>" in html and "个体工商户设立登记" in html and SELF_EMPLOYED in html
    assert "实施部门：深圳市市场监督管理局龙岗监管局" in html
    assert "示例数据" in html  # the default catalogue is sample data
    rows = re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>")[1].split("</tbody>")[0])
    assert len(rows) == len(materials)
    for row, (name, form, copies, required) in zip(rows, materials):
        assert 'class="box"' in row and escape(name) in row and escape(form) in row and f"{copies}份" in row
        assert (">必须<" in row) == required and (">非必须<" in row) == (not required)
    assert "说明及来源" in html and "由经营者本人签署" in html and "来源：" in html
    assert escape(expected_time) in html and "即办件" in html
    assert escape(expected_fee) in html
    for name, address, hours in places:
        assert escape(name) in html and escape(address) in html and escape(hours) in html
    assert f'href="{online}"' in html and phone in html
    assert "到现场次数" in html and "0次（可全程网上办理）" in html
    today = local_today()
    assert f"打印日期：{today.year}年{today.month}月{today.day}日" in html and "经办：前台小李" in html
    assert "@page { size: A4; margin: 11mm; }" in html and ".no-print { display: none !important; }" in html


def _service(materials: int = 3, **fields) -> Service:
    """A service that is never stored: enough of a guide for the checklist."""
    defaults = dict(code="X-1", name="测试事项", department=Department(code="X", name="测试局"), immediate=False,
                    appointment=False, express_delivery=False, is_sample=False)
    defaults.update(fields)
    service = Service(**defaults)
    service.materials = [Material(name=f"材料{i}", required=True, form="原件", copies=1, position=i)
                         for i in range(1, materials + 1)]
    return service


def test_the_checklist_escapes_every_catalogue_value_and_links_only_web_addresses():
    hostile = "<script>alert('x')</script>"
    service = _service(
        0, name=f"事项{hostile}", code='C"1', department=Department(code="X", name=f"部门{hostile}"),
        conditions=f"条件{hostile}", consult_phone=f"电话{hostile}", result_name=f"结果{hostile}",
        online_url="javascript:alert(1)", online_depth=f"深度{hostile}", appointment=True,
        appointment_url='https://example.gov.cn/a?b=1&c="2"', fee_charged=True, fee_standard=f"收费{hostile}",
    )
    service.materials = [Material(name=f"材料{hostile}", required=False, form="复印件", copies=2,
                                  notes=f"说明{hostile}", source=f"来源{hostile}", position=1)]
    service.place_links = [ServicePlace(place=Place(name=f"大厅{hostile}", address=f"地址{hostile}",
                                                    opening_hours=f"时间{hostile}"), window=f"窗口{hostile}")]
    service.steps = [ProcessStep(name="受理", position=1)]
    html = checklist.render_checklist(service, printed_on=date(2026, 11, 26), clerk=f"小李{hostile}")
    body = html.split("<body", 1)[1].rsplit("<script>", 1)[0]  # everything but the page's own script
    assert "<script" not in body
    assert body.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") >= 11
    assert 'href="javascript:' not in html and "javascript:alert(1)" in body  # shown, not linked
    assert 'href="https://example.gov.cn/a?b=1&amp;c=&quot;2&quot;"' in html
    assert 'C&quot;1' in html and "打印日期：2026年11月26日" in html


def test_long_material_lists_get_smaller_type_then_two_columns():
    assert checklist.density(_service(6)) == checklist.NORMAL
    assert checklist.density(_service(19)) == checklist.NORMAL  # short names without notes fit the table
    assert checklist.density(_service(checklist.NORMAL_ROWS + 4)) == checklist.COMPACT
    long = _service(40)
    html = checklist.render_checklist(long, printed_on=date(2026, 11, 26))
    assert checklist.density(long) == checklist.COLUMNS and 'class="density-columns"' in html
    assert html.count('<table class="materials">') == 2 and html.count('class="box"') == 40
    noted = _service(8)
    for material in noted.materials:
        material.notes = "须由申请人本人签字确认，复印件加盖公章并注明与原件一致。" * 2
    assert checklist.density(noted) == checklist.COMPACT
    assert 'class="materials with-notes"' in checklist.render_checklist(noted, printed_on=date(2026, 11, 26))


def test_long_texts_are_cut_at_a_sentence_end():
    sentence = "申请人应当具有完全民事行为能力。"  # 16 characters
    assert checklist.brief(sentence + "并提交材料，" + "很长的内容" * 40, 30) == sentence + "……"
    # No sentence end in the second half of the room: the last clause end.
    text = "第一句话说明条件。第二句话继续说明，" + "很长的内容" * 40
    assert checklist.brief(text, 30) == "第一句话说明条件。第二句话继续说明……"
    assert checklist.brief("短句。", 30) == "短句。"
    assert checklist.brief(None, 30) == ""
    assert checklist.brief("没有标点" * 20, 10) == "没有标点没有标点没有……"


def test_the_default_catalogues_longest_checklists_stay_in_the_normal_table(filings_url):
    with make_session(filings_url) as session:
        services = [repository.get_service(session, s.code) for s in session.query(Service).all()]
        longest = max(services, key=lambda s: (len(s.materials), sum(len(m.name) + len(m.notes or "") for m in s.materials)))
        assert len(longest.materials) >= 7
        assert checklist.density(longest) == checklist.NORMAL
