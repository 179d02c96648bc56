"""Search: text handling, vocabulary, ranking, variants, refresh, and quality floors on real data."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from database import make_session
from database.migrate import upgrade
from knowledge.importers import import_path
from knowledge.search import SearchConfig, SearchEngine, SearchService
from knowledge.search.documents import SearchDocument
from knowledge.search.evaluation import QueryFileError, evaluate, load_queries
from knowledge.search.lexicon import Lexicon, default_lexicon
from knowledge.search.text import char_ngrams, normalize

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
GUANGDONG = SHARED / "catalogues" / "guangdong-2262.jsonl"
DEV_QUERIES = SHARED / "eval" / "guangdong-dev-queries.tsv"
HELDOUT_QUERIES = REPO_ROOT / "data" / "eval" / "guangdong-heldout-queries.tsv"
LONGGANG_QUERIES = REPO_ROOT / "data" / "eval" / "longgang-queries.tsv"


def doc(code, name, department="测试局", **kw) -> SearchDocument:
    return SearchDocument(code=code, name=name, department=department, **kw)


@pytest.fixture(scope="module")
def small_engine() -> SearchEngine:
    docs = [
        doc("A1", "最低生活保障申请", "龙岗区民政局", aliases=("低保",)),
        doc("A2", "临时救助申请", "龙岗区民政局"),
        doc("B1", "机动车驾驶证期满换证", "交警大队", parent_code="P-B", parent_name="机动车驾驶证换证、补证", variant="期满换证"),
        doc("B2", "机动车驾驶证遗失补证", "交警大队", parent_code="P-B", parent_name="机动车驾驶证换证、补证", variant="遗失补证"),
        doc("C1", "普通护照签发", "出入境管理大队"),
        doc("C2", "往来港澳通行证及签注", "出入境管理大队"),
        doc("D1", "个体工商户设立登记", "市场监督管理局", aliases=("开个体户",)),
        doc("D2", "有限责任公司设立登记", "市场监督管理局"),
        doc("E1", "个人所得税纳税记录开具", "国家税务总局龙岗区税务局"),
        doc("E2", "停业登记", "国家税务总局龙岗区税务局"),
        doc("F1", "企业安全生产检查", "应急管理局"),
    ]
    return SearchEngine(docs)


def test_normalize_and_ngrams():
    assert normalize("  ＡＢＣ（１２３）  护照 ") == "abc(123) 护照"
    assert char_ngrams("护照签发") == ["护照", "照签", "签发"]
    assert char_ngrams("办护照，急") == ["办护", "护照", "急"]  # never across punctuation


def test_lexicon_leftmost_longest_and_whole_words(tmp_path):
    path = tmp_path / "v.tsv"
    path.write_text("# comment\n港澳\t港澳居民\n港澳通\t往来港澳通行证\n驾照\t驾驶证|机动车驾驶证\t车驾管\n", encoding="utf-8")
    actions = tmp_path / "a.tsv"
    actions.write_text("查\t查询\n", encoding="utf-8")
    lex = Lexicon.load(path, actions)
    found = lex.expansions(normalize("办个港澳通要多久"))
    assert [(e.colloquial, e.formal) for e in found] == [("港澳通", ("往来港澳通行证",))]
    assert lex.word_expansion("查") == ("查询",)
    assert "机动车驾驶证" in lex.terms()


def test_lexicon_rejects_broken_lines(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("低保\t最低生活保障\nno-tab-here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.tsv:2"):
        Lexicon.load(path)


def test_default_lexicon_is_large_and_general():
    lex = default_lexicon()
    assert len(lex.entries) >= 500
    for colloquial in ("低保", "退休金", "上牌", "驾照", "自由行", "绿卡", "单身证明", "软考"):
        assert lex.expansions(colloquial), colloquial


@pytest.mark.parametrize(
    "query, expected",
    [
        ("低保怎么申请", "A1"),
        ("驾照丢了怎么补", "B2"),
        ("驾照到期了要换", "B1"),
        ("办护照要带什么", "C1"),
        ("我想开个个体户", "D1"),
        ("开一张个税完税证明", "E1"),
        ("去税务局报停", "E2"),
    ],
)
def test_colloquial_queries_find_the_service(small_engine, query, expected):
    result = small_engine.search(query, limit=3)
    assert result.hits, query
    assert result.hits[0].code == expected, [h.name for h in result.hits]


def test_action_words_expand_only_as_whole_words(small_engine):
    # 查 in 检查 is not a lookup; 查 alone is.
    assert not small_engine.analyze("安全生产检查").lookup
    assert small_engine.analyze("查一下个税记录").lookup


def test_variants_of_one_parent_are_reported(small_engine):
    result = small_engine.search("驾驶证换证补证", limit=5)
    group = result.variant_group
    assert group is not None
    assert group.parent_code == "P-B"
    assert {h.code for h in group.options} == {"B1", "B2"}
    assert small_engine.search("低保", limit=5).variant_group is None


@pytest.mark.parametrize("garbage", ["", "   ", "？？？！！！", "的了吗呢", "qwzxv", "\x00\x01"])
def test_garbage_finds_nothing_and_does_not_fail(small_engine, garbage):
    assert small_engine.search(garbage).hits == []


def test_department_mention_favours_its_services():
    docs = [
        doc("T1", "停业登记", "国家税务总局龙岗区税务局"),
        doc("T2", "停业登记", "深圳市市场监督管理局龙岗监管局"),
    ]
    engine = SearchEngine(docs)
    assert engine.search("去税务局办停业登记").hits[0].code == "T1"
    assert engine.search("去工商局办停业登记").hits[0].code == "T2"


def test_a_term_that_straddles_two_words_is_not_a_match():
    lex = Lexicon({"国考": ("公务员录用考试",), "低保": ("最低生活保障",)})
    # 外国|考察团: 国考 begins inside one word and ends inside the next.
    assert lex.expansions("外国考察团", [(0, 2), (2, 5)]) == []
    assert [e.colloquial for e in lex.expansions("报国考", [(0, 1), (1, 3)])] == ["国考"]
    assert [e.colloquial for e in lex.expansions("吃低保", [(0, 3)])] == ["低保"]  # inside one word


def test_lexicon_terms_with_gaps(tmp_path):
    path = tmp_path / "v.tsv"
    path.write_text("转…读书\t转学\n户口…迁\t户口迁移\n", encoding="utf-8")
    lex = Lexicon.load(path)
    (found,) = lex.expansions(normalize("孩子转到龙岗读书"))
    assert found.formal == ("转学",) and found.parts == ((2, 3), (6, 8))
    assert lex.expansions(normalize("转了。然后读书")) == []  # not across a sentence
    assert lex.expansions(normalize("转到很远很远很远很远的地方读书")) == []  # gap too long
    assert "转学" in lex.terms() and len(lex) == 2


def test_words_glued_to_an_action_word_and_unknown_compounds():
    docs = [doc("A", "兽药生产许可证核发", "农业农村厅"), doc("B", "工业产品生产许可证核发", "市场监管局"),
            doc("C", "基本殡葬服务费用减免", "民政局"), doc("D", "基本殡葬服务", "民政局")]
    engine = SearchEngine(docs)
    assert engine.search("兽药厂生产许可证").hits[0].code == "A"
    assert ("兽药厂", "兽药") in [c for c, _ in engine.analyze("兽药厂生产许可证").concepts]  # its known part
    assert engine.analyze("想查殡葬服务").lookup  # 想查 -> 查


def test_variants_are_told_apart_by_their_own_text():
    parent = "外国公民和组织参观审批"
    docs = [
        doc("V1", f"{parent}(外国公民参观审批)", "文旅厅", parent_code="P", parent_name=parent, variant="外国公民参观审批"),
        doc("V2", f"{parent}(外国组织参观审批)", "文旅厅", parent_code="P", parent_name=parent, variant="外国组织参观审批"),
    ]
    hits = SearchEngine(docs).search("外国组织来参观").hits
    assert [h.code for h in hits] == ["V2", "V1"]
    plain = SearchEngine(docs, config=SearchConfig(sibling_weight=0)).search("外国组织来参观").hits
    assert hits[0].score - hits[1].score > plain[0].score - plain[1].score


def test_an_alias_repeating_the_name_does_not_count_twice():
    docs = [
        doc("S1", "补发外国人停留证件", "公安局", aliases=("补发外国人停留证件办理",)),
        doc("S2", "签发外国人停留证件", "公安局"),
    ]
    assert SearchEngine(docs).search("办外国人停留证件").hits[0].code == "S2"


def test_the_body_of_a_guide_is_searched_too():
    docs = [
        doc("B1", "社会团体成立登记", "民政厅", body=("社会团体章程草案", "验资报告")),
        doc("B2", "基金会设立登记", "民政厅", body=("基金会章程",)),
    ]
    engine = SearchEngine(docs)
    assert [h.code for h in engine.search("验资报告").hits] == ["B1"]
    # Names still come first: a word of the name beats the same word in another guide's body.
    assert engine.search("基金会").hits[0].code == "B2"


def test_asking_where_an_institution_is_finds_the_address_lookup():
    docs = [doc("L1", "公安监所地址查询", "公安厅"), doc("L2", "被监管人员家属探访预约", "公安厅")]
    assert SearchEngine(docs).search("看守所地址在哪").hits[0].code == "L1"


def test_query_file_errors_name_the_line(tmp_path):
    path = tmp_path / "q.tsv"
    path.write_text("# header\n好的查询\t^a$\n缺少正则\n坏正则\t(\n", encoding="utf-8")
    with pytest.raises(QueryFileError) as info:
        load_queries(path)
    assert "q.tsv:3" in str(info.value) and "q.tsv:4" in str(info.value)


# --------------------------------------------------------------------- the real catalogue
@pytest.fixture(scope="module")
def guangdong_url(tmp_path_factory):
    if not GUANGDONG.exists():
        pytest.skip(f"{GUANGDONG} not found: the shared catalogue sits beside the repository")
    url = f"sqlite:///{tmp_path_factory.mktemp('gd') / 'gd.db'}"
    upgrade(url)
    with make_session(url) as session:
        report = import_path(session, GUANGDONG)
        assert not report.aborted and report.failed == 0
    return url


@pytest.fixture(scope="module")
def guangdong_service(guangdong_url) -> SearchService:
    return SearchService(lambda: make_session(guangdong_url))


def test_quality_floor_on_the_dev_set(guangdong_service):
    report = evaluate(guangdong_service.engine, load_queries(DEV_QUERIES))
    # Naive BM25 over names scores top-1 0.72, top-3 0.85 here.
    assert report.top1 >= 0.80, report.summary()
    assert report.top3 >= 0.95, report.summary()


def test_quality_floor_on_our_heldout_set(guangdong_service):
    report = evaluate(guangdong_service.engine, load_queries(HELDOUT_QUERIES))
    assert report.total >= 150
    assert report.top1 >= 0.88, report.summary()
    assert report.top3 >= 0.95, report.summary()


def test_parents_with_variants_are_recognised(guangdong_service):
    engine = guangdong_service.engine
    assert max(engine.parent_sizes.values()) > 10
    result = engine.search("律师执业许可", limit=10)
    assert result.hits and result.variant_group is not None
    assert all(h.parent_code == result.variant_group.parent_code for h in result.variant_group.options)


def test_staff_alias_improves_search_without_retraining(guangdong_url):
    from knowledge.models import Service, ServiceAlias
    from knowledge.revision import bump_revision
    from sqlalchemy import select

    service = SearchService(lambda: make_session(guangdong_url), check_interval=0)
    phrase = "小蓝本续签"
    before = service.search(phrase, limit=3)
    with make_session(guangdong_url) as session:
        target = session.execute(select(Service).where(Service.name == "办理往来港澳通行证")).scalars().first()
        session.add(ServiceAlias(service_id=target.id, alias=phrase, origin="staff"))
        bump_revision(session)
        session.commit()
        code = target.code
    assert not before.hits or before.hits[0].code != code
    service.refresh(wait=True)
    assert service.search(phrase, limit=3).hits[0].code == code


def test_cli_search_contract(guangdong_url):
    """`onewindow kb search - --json`: one JSON array per input line, best first."""
    env = {"ONEWINDOW_DATABASE_URL": guangdong_url, "PATH": str(Path(sys.executable).parent)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "kb", "search", "-", "--json", "--limit", "3"],
        input="办个港澳通行证\n\n老外申请绿卡\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 3
    first, empty, third = (json.loads(line) for line in lines)
    assert empty == []
    assert set(first[0]) == {"code", "name", "department", "score"}
    assert first[0]["score"] >= first[-1]["score"]
    assert "港澳通行证" in first[0]["name"]
    assert "永久居留" in third[0]["name"]


def test_a_watched_search_service_rebuilds_when_the_revision_moves(tmp_path):
    """A long-running server's index follows the catalogue without waiting for a search."""
    import time as _time

    from database import make_session
    from database.migrate import upgrade
    from knowledge.importers import import_path
    from knowledge.revision import bump_revision, get_revision
    from knowledge.search import SearchService
    from catalogue_helpers import DEFAULT_CATALOGUE

    url = f"sqlite:///{tmp_path / 'watch.db'}"
    upgrade(url)
    with make_session(url) as session:
        import_path(session, DEFAULT_CATALOGUE)
    service = SearchService(lambda: make_session(url), check_interval=0.2).watch()
    assert service.watch() is service  # idempotent
    before = service.engine.revision
    with make_session(url) as session:
        bump_revision(session)
        session.commit()
        target = get_revision(session)
    deadline = _time.monotonic() + 10
    while service.current.revision != target and _time.monotonic() < deadline:
        _time.sleep(0.1)
    assert service.current.revision == target != before
    service.stop()
    service._watcher.join(timeout=2)
    assert not service._watcher.is_alive()
