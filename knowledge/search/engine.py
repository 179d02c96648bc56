"""Ranking services for a message in colloquial Chinese.

Pipeline for a query:
1. normalise (NFKC, lower case);
2. segment with jieba (catalogue user dictionary), drop asking words (怎么, 需要, 材料 ...);
3. expand colloquial terms with the formal terms of the vocabulary (驾照 -> 机动车驾驶证), never
   a term that straddles two words (国考 in 外国|考察团), also terms with gaps (转…读书 -> 转学);
   action words glued to a light word (想查, 能免) expand as the action word; a word the catalogue
   never uses stands for its longest known parts too (兽药厂 -> 兽药);
4. score with two BM25F indexes: jieba words and character bigrams (robust where segmentation of
   query and name differ), over the fields name, aliases, parent item, variant, department, plus a
   small weight of a third index over the guide's body (conditions, materials, FAQ questions);
5. rerank the best candidates by how much of the query they cover (a name that explains every
   content word of the query beats one that matches a single frequent word many times), how much
   of their name the query explains, what the query asks to do (look up or not; 换发, 注销 ...),
   and among variants of one parent item by how much of the query the variant's own text explains;
6. report when the leading results are variants of one parent item, so the bot can ask which.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from knowledge.search.documents import SearchDocument
from knowledge.search.index import FieldSpec, SparseIndex
from knowledge.search.lexicon import Lexicon, default_lexicon
from knowledge.search.mentions import DepartmentMentions, Mention, is_institution
from knowledge.search.text import Segmenter, char_ngrams, normalize, qualifiers, stopwords

WORD_FIELDS = {
    "name": FieldSpec(weight=1.0, b=0.6),
    "alias": FieldSpec(weight=0.9, b=0.3),
    "parent": FieldSpec(weight=0.35, b=0.5),
    "variant": FieldSpec(weight=0.5, b=0.3),
    "department": FieldSpec(weight=0.2, b=0.0),
    "extra": FieldSpec(weight=0.1, b=0.0),
    "members": FieldSpec(weight=0.25, b=0.8),  # a bundle's member services
}
# The guide's body (conditions, materials, service objects, FAQ questions) is its own index, with
# its own idf: mixed into the name fields its many ordinary words would drown the names' idf.
BODY_FIELDS = {"body": FieldSpec(weight=1.0, b=0.75)}
MAX_BODY_CHARS = 400  # of a guide's body, indexed (its conditions come last and can run to pages)
NAME_MAX_SHARE = 0.5  # name terms in more services than this share (广东, 广东省) say nothing: not scored
BODY_MAX_SHARE = 0.05  # body bigrams in more guides than this share are too common to count
NAME_GRAM_CACHE = 50_000  # services whose name bigrams (with idf) and body text are kept between queries


@dataclass
class SearchConfig:
    char_weight: float = 0.6  # bigram channel relative to the word channel
    body_weight: float = 0.1  # the body index (conditions, materials, FAQ questions) relative to the word channel
    body_coverage: float = 0.15  # a concept that only the body explains counts this much of one the names explain
    part_weight: float = 0.5  # the known parts of a word the catalogue never uses (兽药厂 -> 兽药)
    unknown_weight: float = 0.5  # weight of a concept none of whose bigrams the catalogue's names use (商量, 船员)
    expansion_weight: float = 0.6  # formal terms from the vocabulary relative to the user's words
    candidates: int = 60  # how many go to the reranker
    coverage_weight: float = 0.4  # weight of the share of the query a service explains
    name_weight: float = 0.3  # weight of the share of the service's name the query explains
    variant_margin: float = 0.85  # variants scoring within this share of the best are offered
    min_score: float = 0.05  # below this share of a perfect match, nothing is returned
    min_relative: float = 0.4  # results scoring under this share of the best are noise
    department_boost: float = 0.1  # added for services of a department the query names
    sibling_weight: float = 0.2  # taken off a variant per share of the query its own text explains less than its best sibling's
    lookup_bonus: float = 0.05  # added to a lookup service (…查询) for a query that asks to look something up
    intent_penalty: float = 0.1  # taken off a lookup service (…查询) for a query that asks for none
    qualifier_penalty: float = 0.04  # per action word in a name the query did not ask for (换发, 注销)
    max_qualifier_penalty: float = 0.08


@dataclass
class Hit:
    code: str
    name: str
    department: str
    score: float
    kind: str = "service"
    parent_code: Optional[str] = None
    parent_name: Optional[str] = None
    variant: Optional[str] = None

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "department": self.department, "score": round(self.score, 4)}


@dataclass
class VariantGroup:
    """The leading results are variants of one parent item: ask which case applies."""

    parent_code: str
    parent_name: str
    options: List[Hit]


@dataclass
class QueryAnalysis:
    text: str
    content: List[str]  # content words of the user's own text
    expansions: List[Tuple[str, Tuple[str, ...]]]
    word_terms: List[Tuple[str, float]]
    char_terms: List[Tuple[str, float]]
    concepts: List[Tuple[Tuple[str, ...], float]]  # (a content word and its formal alternatives, idf weight)
    grams: frozenset = frozenset()  # every bigram of the query and its expansions
    mentions: List[Mention] = field(default_factory=list)  # departments the query names
    lookup: bool = False  # the query asks to look something up (查, 进度, 办好没有 ...)
    names_something: bool = False  # a concept beyond action words (换, 补, 查): the query names a thing
    qualifiers: frozenset = frozenset()  # action words the query asks for (its own or as formal terms)
    alternative_grams: Dict[str, Tuple[str, ...]] = field(default_factory=dict)  # bigrams of each concept alternative


@dataclass
class SearchResult:
    query: str
    hits: List[Hit]
    analysis: Optional[QueryAnalysis] = None
    variant_group: Optional[VariantGroup] = None

    @property
    def best(self) -> Optional[Hit]:
        return self.hits[0] if self.hits else None


# Light words that segmentation glues onto an action word (想查, 能免, 转过去, 开个, 补一下).
LIGHT_CHARS = frozenset("想要能会可得个了过去来到掉走下一再给把被让帮就都也还快先")


# How people ask where a place is, and what names of services that list places say.
LOCATION_CUES = ("地址", "在哪", "在哪里", "在哪儿", "哪里", "什么地方", "位置", "怎么走")
LOCATION_TERMS = ("地址查询", "地址")

# Bigrams that mark a lookup: in a name (…查询, …进度) and in a query (expanded 查 -> 查询).
LOOKUP_CUES = ("查询", "进度", "名录")
_NAME_PART_SPLIT = re.compile(r"[()（）、，,；;和及与或的]+")


def catalogue_terms(documents: Sequence[SearchDocument], min_count: int = 3) -> List[str]:
    """Words for jieba's user dictionary: aliases, short names, department names, and the parts
    of service names that recur across the catalogue (往来港澳通行证, 住房公积金 ...)."""
    terms = set()
    counts: Dict[str, int] = {}
    for doc in documents:
        for value in (doc.short_name, doc.department_short, doc.result_name, *doc.aliases, *doc.department_aliases):
            if value:
                terms.add(normalize(value))
        for part in _NAME_PART_SPLIT.split(normalize(doc.name)):
            if 3 <= len(part) <= 8:
                counts[part] = counts.get(part, 0) + 1
    terms.update(part for part, count in counts.items() if count >= min_count)
    return sorted(t for t in terms if 2 <= len(t) <= 12)


def _concept_fit(alternatives: Sequence[str], text: str, alternative_grams: Dict[str, Tuple[str, ...]]) -> float:
    """How well `text` explains a concept: 1 when it contains an alternative, else the largest
    share (at least half) of an alternative's bigrams it contains."""
    # The reranker's innermost loop (sixty candidates times every concept of the query): plain
    # loops, no generators.
    best = 0.0
    for alternative in alternatives:
        if alternative in text:
            return 1.0
        grams = alternative_grams.get(alternative)
        if grams is None:
            grams = tuple(g for g in char_ngrams(alternative) if len(g) == 2)
        count = len(grams)
        if count >= 2:
            found = 0
            for g in grams:
                if g in text:
                    found += 1
            share = found / count
            if share >= 0.5 and share > best:
                best = share
    return best


def _spans(text: str, tokens: Sequence[str]) -> List[Tuple[int, int]]:
    """Where each token of `text` sits (tokens in order; punctuation between them skipped)."""
    spans, position = [], 0
    for token in tokens:
        start = text.find(token, position)
        if start < 0:
            continue
        spans.append((start, start + len(token)))
        position = start + len(token)
    return spans


class SearchEngine:
    """An immutable index over a list of documents. Build once, query from many threads."""

    def __init__(
        self,
        documents: Sequence[SearchDocument],
        lexicon: Optional[Lexicon] = None,
        config: Optional[SearchConfig] = None,
        revision: int = 0,
    ):
        self.documents = list(documents)
        self.lexicon = lexicon if lexicon is not None else default_lexicon()
        self.config = config or SearchConfig()
        self.revision = revision
        self.segmenter = Segmenter([*catalogue_terms(self.documents), *self.lexicon.terms()])
        self._stop = stopwords()
        self.parent_sizes: Dict[str, int] = {}
        for doc in self.documents:
            if doc.parent_code:
                self.parent_sizes[doc.parent_code] = self.parent_sizes.get(doc.parent_code, 0) + 1
        self._by_code = {doc.code: i for i, doc in enumerate(self.documents)}
        self._match_text = [self._doc_match_text(doc) for doc in self.documents]
        self.mentions = DepartmentMentions(self.documents, self.lexicon)
        # Per-service values the reranker needs, computed on first use (bounded).
        self._name_grams: Dict[int, Tuple[Tuple[str, float], ...]] = {}
        self._body_texts: Dict[int, str] = {}
        self._name_qualifiers: Dict[int, Tuple[str, ...]] = {}
        self.qualifiers = qualifiers()
        self._lookup = np.fromiter(
            (any(cue in doc.name for cue in LOOKUP_CUES) for doc in self.documents), dtype=bool, count=len(self.documents)
        )
        self.words = SparseIndex(WORD_FIELDS)
        self.chars = SparseIndex(WORD_FIELDS)
        word_docs, char_docs = [], []
        for doc in self.documents:
            fields = self._doc_fields(doc)
            word_docs.append({f: [w for t in texts for w in self.segmenter.words(t)] for f, texts in fields.items()})
            char_docs.append({f: [g for t in texts for g in char_ngrams(t)] for f, texts in fields.items()})
        self.words.build(word_docs)
        self.chars.build(char_docs)
        self.body = SparseIndex(BODY_FIELDS)
        gram_cache: Dict[str, Tuple[str, ...]] = {}  # material names and conditions recur across services
        self.body.build_sets([self._body_terms(doc, gram_cache) for doc in self.documents])

    # ----------------------------------------------------------------------------------- build
    @staticmethod
    def _doc_fields(doc: SearchDocument) -> Dict[str, List[str]]:
        parent = doc.parent_name if doc.parent_name and doc.parent_name != doc.name else None
        name = normalize(doc.name)
        return {
            "name": [name],
            # An alias that repeats the whole name (补发外国人停留证件办理) adds nothing but the
            # name counted twice against its siblings.
            "alias": [a for a in (normalize(a) for a in (doc.short_name, *doc.aliases) if a) if name not in a],
            "parent": [normalize(parent)] if parent else [],
            "variant": [normalize(doc.variant)] if doc.variant else [],
            "department": [normalize(d) for d in (doc.department, doc.department_short, *doc.department_aliases) if d],
            "extra": [normalize(t) for t in (*doc.themes, doc.result_name) if t],
            "members": [normalize(m) for m in doc.members],
        }

    @staticmethod
    def _body_terms(doc: SearchDocument, cache: Dict[str, Tuple[str, ...]]) -> List[str]:
        """The distinct bigrams of a guide's body, at most MAX_BODY_CHARS of it."""
        grams: set = set()
        room = MAX_BODY_CHARS
        for text in doc.body:
            if room <= 0:
                break
            text = text[:room]
            room -= len(text)
            found = cache.get(text)
            if found is None:
                found = tuple({g for g in char_ngrams(normalize(text)) if len(g) == 2})
                if len(cache) < 500_000:
                    cache[text] = found
            grams.update(found)
        return list(grams)

    @staticmethod
    def _doc_match_text(doc: SearchDocument) -> str:
        parts = [doc.name, doc.short_name, doc.parent_name, doc.variant, *doc.aliases, *doc.members]
        return normalize(" ".join(p for p in parts if p))

    # ----------------------------------------------------------------------------------- query
    def analyze(self, query: str) -> QueryAnalysis:
        cfg = self.config
        text = normalize(query)
        tokens = self.segmenter.cut(text)
        expansions = self.lexicon.expansions(text, _spans(text, tokens))
        content_tokens = [t for t in tokens if t not in self._stop]
        # Search-mode words of the content (adds dictionary sub-words of long compounds).
        content: List[str] = []
        for token in content_tokens:
            for word in self.segmenter.words(token):
                if word not in self._stop and word not in content:
                    content.append(word)
        word_terms = [(w, 1.0) for w in content]
        # Bigrams over the text with asking words blanked out.
        kept = "".join(t if t not in self._stop else " " for t in tokens)
        char_terms = [(g, 1.0) for g in char_ngrams(kept) if len(g) == 2]

        concepts: List[Tuple[Tuple[str, ...], float]] = []
        mentions = self.mentions.find(text)
        # A department named in the query favours its services. An institution (税务局, 派出所) is
        # not part of what is asked; a topic that is also a department's alias (医保, 公积金) is.
        institutions = [m for m in mentions if is_institution(m.text)]
        spans = [span for e in expansions for span in e.spans] + [(m.start, m.end) for m in institutions]
        expanded = [(e.colloquial, e.formal) for e in expansions]
        action_words: set = set()
        position = 0
        for token in tokens:
            start = text.find(token, position)
            end = start + len(token) if start >= 0 else position
            position = max(position, end)
            if token in self._stop or any(a <= start < b for a, b in spans):
                continue
            formal = self.lexicon.word_expansion(token) or self._light_action(token)
            if formal:
                expanded.append((token, formal))
                action_words.add(token)
            elif len(token) >= 2:
                parts = self._known_parts(token)
                word_terms.extend((w, cfg.part_weight) for w in parts)
                concepts.append(((token, *parts), self._weight(token)))
        kept = [(c, f) for c, f in expanded if not any(m.start <= text.find(c) < m.end for m in institutions)]
        if institutions and not concepts and not kept:
            # The institution is all the query names (看守所地址在哪): then it is what is asked about.
            kept = [(c, f) for c, f in expanded if any(m.start <= text.find(c) < m.end for m in institutions)]
            concepts.extend(((m.text,), self._weight(m.text)) for m in institutions if not any(c == m.text for c, _ in kept))
            # Asked where it is (看守所在哪, 车管所地址): services that list such places fit better,
            # though the institution stays what the query is about.
            if any(c in text for c in LOCATION_CUES):
                for term in LOCATION_TERMS:
                    word_terms.extend((w, cfg.expansion_weight) for w in self.segmenter.words(term))
                    char_terms.extend((g, cfg.expansion_weight) for g in char_ngrams(term) if len(g) == 2)
        expanded = kept
        for colloquial, formal in expanded:
            formal_words = []
            for term in formal:
                formal_words.extend(self.segmenter.words(term))
                char_terms.extend((g, cfg.expansion_weight) for g in char_ngrams(term) if len(g) == 2)
            word_terms.extend((w, cfg.expansion_weight) for w in formal_words if w not in self._stop)
            concepts.append(((colloquial, *formal), max(self._weight(t) for t in formal)))
        char_terms_set = {g for g, _ in char_terms}
        return QueryAnalysis(
            text=text,
            content=content,
            expansions=expanded,
            word_terms=word_terms,
            char_terms=char_terms,
            concepts=concepts,
            grams=frozenset(g for g, _ in char_terms),
            mentions=mentions,
            lookup=any(cue in gram for gram in char_terms_set for cue in LOOKUP_CUES),
            names_something=any(alternatives[0] not in action_words for alternatives, _ in concepts) or bool(mentions),
            qualifiers=self._asked_qualifiers(text, expanded),
            alternative_grams={
                alternative: tuple(g for g in char_ngrams(alternative) if len(g) == 2)
                for alternatives, _weight in concepts
                for alternative in alternatives
            },
        )

    def _light_action(self, token: str) -> Tuple[str, ...]:
        """An action word glued by segmentation to a light word around it (想查, 能免, 转过, 开个,
        补一下): the action word's formal terms."""
        if len(token) < 2 or len(token) > 4 or token in self.words.vocabulary:
            return ()
        core = token
        while core and core[0] in LIGHT_CHARS:
            core = core[1:]
        while core and core[-1] in LIGHT_CHARS:
            core = core[:-1]
        if not core or core == token:
            return ()
        return self.lexicon.word_expansion(core)

    def _known_parts(self, token: str) -> Tuple[str, ...]:
        """For a word the catalogue never uses (兽药厂, 考察团), the longest parts of it that it
        does use (兽药, 考察): the word's head is usually what the catalogue names."""
        if len(token) < 3 or token in self.words.vocabulary or not self.config.part_weight:
            return ()
        vocabulary = self.words.vocabulary
        for length in range(len(token) - 1, 1, -1):
            parts = tuple(
                dict.fromkeys(token[i : i + length] for i in range(len(token) - length + 1) if token[i : i + length] in vocabulary)
            )
            if parts:
                return parts
        return ()

    def _asked_qualifiers(self, text: str, expanded) -> frozenset:
        asked = {q for q in self.qualifiers if q in text}
        for colloquial, formal in expanded:
            for term in formal:
                # 增驾 -> 增加准驾车型 asks for 增加 as much as 换 -> 换发 asks for 换发.
                asked.update(q for q in self.qualifiers if q in term)
        return frozenset(asked)

    def _weight(self, term: str) -> float:
        """How much a concept says: the mean idf of its bigrams (rare words weigh more)."""
        grams = [g for g in char_ngrams(term) if len(g) == 2] or [term]
        values = [self.chars.term_idf(g) for g in grams]
        known = [v for v in values if v > 0]
        return sum(known) / len(known) if known else self.config.unknown_weight

    def _coverage(self, analysis: QueryAnalysis, doc_index: int) -> float:
        """Share (by idf weight) of the query's concepts the service's names explain: a concept is
        explained by any alternative found as a substring, or by half its bigrams at least. A
        concept the names leave unexplained but the guide's body mentions counts `body_coverage`."""
        if not analysis.concepts:
            return 0.0
        text = self._match_text[doc_index]
        body_credit = self.config.body_coverage
        body: Optional[str] = "" if body_credit > 0 and self.documents[doc_index].body else None
        covered = total = 0.0
        grams = analysis.alternative_grams
        for alternatives, weight in analysis.concepts:
            fit = _concept_fit(alternatives, text, grams)
            if fit < body_credit and body is not None:
                if body == "":
                    body = self._body_text(doc_index)
                for alternative in alternatives:
                    if len(alternative) >= 2 and alternative in body:
                        fit = body_credit
                        break
            covered += fit * weight
            total += weight
        return covered / total

    @staticmethod
    def _per_service(cache: Dict[int, Any], doc_index: int, compute: Callable[[int], Any]) -> Any:
        """A per-service value the reranker needs, computed on first use and kept (bounded)."""
        value = cache.get(doc_index)
        if value is None:
            value = compute(doc_index)
            if len(cache) >= NAME_GRAM_CACHE:
                cache.clear()
            cache[doc_index] = value
        return value

    def _body_text(self, doc_index: int) -> str:
        return self._per_service(self._body_texts, doc_index, self._compute_body_text)

    def _compute_body_text(self, doc_index: int) -> str:
        return normalize(" ".join(self.documents[doc_index].body)[:MAX_BODY_CHARS])

    def _tell_siblings_apart(self, analysis: QueryAnalysis, reranked: List[Tuple[float, float, int]]):
        """Variants of one parent item share the parent's words, so the query covers them alike;
        what tells them apart is the variant's own text (外国公民参观… vs 外国组织参观…). Within each
        group of variants among the candidates, those whose variant text explains less of the query
        than the best one's move down; the best stays where it is against other services."""
        groups: Dict[str, List[int]] = {}
        for position, (_final, _base, i) in enumerate(reranked):
            doc = self.documents[i]
            if doc.parent_code and doc.variant:
                groups.setdefault(doc.parent_code, []).append(position)
        if not any(len(g) > 1 for g in groups.values()):
            return reranked
        reranked = list(reranked)
        weight = self.config.sibling_weight
        for members in groups.values():
            if len(members) < 2:
                continue
            fits = [self._text_coverage(analysis, normalize(self.documents[reranked[p][2]].variant or "")) for p in members]
            best = max(fits)
            for position, fit in zip(members, fits):
                final, base, i = reranked[position]
                reranked[position] = (final - weight * (best - fit), base, i)
        return reranked

    @staticmethod
    def _text_coverage(analysis: QueryAnalysis, text: str) -> float:
        """Share (by idf weight) of the query's concepts that `text` explains."""
        if not analysis.concepts or not text:
            return 0.0
        total = sum(weight for _alternatives, weight in analysis.concepts)
        covered = sum(
            _concept_fit(alternatives, text, analysis.alternative_grams) * weight for alternatives, weight in analysis.concepts
        )
        return covered / total if total else 0.0

    def _qualifier_penalty(self, analysis: QueryAnalysis, doc_index: int) -> float:
        in_name = self._per_service(self._name_qualifiers, doc_index, self._compute_name_qualifiers)
        unasked = 0
        for q in in_name:
            if q not in analysis.qualifiers:
                unasked += 1
        return min(self.config.max_qualifier_penalty, unasked * self.config.qualifier_penalty)

    def _compute_name_qualifiers(self, doc_index: int) -> Tuple[str, ...]:
        name = self.documents[doc_index].name
        return tuple(q for q in self.qualifiers if q in name)

    def _compute_name_grams(self, doc_index: int) -> Tuple[Tuple[str, float], ...]:
        grams = set(g for g in char_ngrams(normalize(self.documents[doc_index].name)) if len(g) == 2)
        return tuple((g, self.chars.term_idf(g)) for g in grams)

    def _name_coverage(self, analysis: QueryAnalysis, doc_index: int) -> float:
        """Share (by idf weight) of the service name's bigrams that the query, with its
        expansions, explains: qualifiers nobody asked for (乘务签注, 进度查询) cost."""
        weighted = self._per_service(self._name_grams, doc_index, self._compute_name_grams)
        total = matched = 0.0
        for gram, weight in weighted:
            total += weight
            if gram in analysis.grams:
                matched += weight
        return matched / total if total else 0.0

    def search(self, query: str, limit: int = 10, kinds: Iterable[str] = ("service", "bundle")) -> SearchResult:
        cfg = self.config
        analysis = self.analyze(query)
        if not self.documents or not (analysis.word_terms or analysis.char_terms):
            return SearchResult(query=query, hits=[], analysis=analysis)
        scores = self.words.scores(analysis.word_terms, max_share=NAME_MAX_SHARE)
        self.chars.scores(analysis.char_terms, max_share=NAME_MAX_SHARE, scale=cfg.char_weight, out=scores)
        if cfg.body_weight:
            self.body.scores(analysis.char_terms, max_share=BODY_MAX_SHARE, scale=cfg.body_weight, out=scores)
        kinds = set(kinds)
        if kinds != {"service", "bundle"}:
            mask = np.fromiter((d.kind in kinds for d in self.documents), dtype=bool, count=len(self.documents))
            scores = np.where(mask, scores, 0.0)
        positive = int(np.count_nonzero(scores))
        if positive == 0:
            return SearchResult(query=query, hits=[], analysis=analysis)
        named = self.mentions.documents_of(analysis.mentions) if analysis.mentions else None
        selection = scores
        if named is not None and len(named):
            selection = scores.copy()
            selection[named] *= 1.0 + 3 * cfg.department_boost
        k = min(cfg.candidates, positive)
        candidates = np.argpartition(selection, len(selection) - k)[len(selection) - k :]
        top = float(scores[candidates].max())
        boosted = (
            set(candidates[np.isin(candidates, named)].tolist()) if named is not None and len(named) else set()
        )
        reranked = []
        for i in candidates:
            base = float(scores[i]) / top
            coverage = self._coverage(analysis, int(i))
            name_coverage = self._name_coverage(analysis, int(i))
            final = (
                (1.0 - cfg.coverage_weight - cfg.name_weight) * base
                + cfg.coverage_weight * coverage
                + cfg.name_weight * name_coverage
                + (cfg.department_boost if int(i) in boosted else 0.0)
                - (cfg.intent_penalty if self._lookup[i] and not analysis.lookup else 0.0)
                + (cfg.lookup_bonus if self._lookup[i] and analysis.lookup else 0.0)
                - self._qualifier_penalty(analysis, int(i))
            )
            reranked.append((final, base, int(i)))
        if cfg.sibling_weight:
            reranked = self._tell_siblings_apart(analysis, reranked)
        reranked.sort(key=lambda item: (-item[0], -item[1], len(self.documents[item[2]].name)))
        hits = []
        floor = max(cfg.min_score, reranked[0][0] * cfg.min_relative) if reranked else cfg.min_score
        for final, _base, i in reranked:
            if final < floor:
                break
            doc = self.documents[i]
            hits.append(
                Hit(
                    code=doc.code,
                    name=doc.name,
                    department=doc.department,
                    score=final,
                    kind=doc.kind,
                    parent_code=doc.parent_code,
                    parent_name=doc.parent_name,
                    variant=doc.variant,
                )
            )
        result = SearchResult(query=query, hits=hits[:limit], analysis=analysis)
        result.variant_group = self._variant_group(hits)
        return result

    def _variant_group(self, hits: List[Hit]) -> Optional[VariantGroup]:
        if len(hits) < 2 or not hits[0].parent_code:
            return None
        parent = hits[0].parent_code
        if self.parent_sizes.get(parent, 0) < 2:
            return None
        floor = hits[0].score * self.config.variant_margin
        options = [h for h in hits if h.parent_code == parent and h.score >= floor]
        if len(options) < 2:
            return None
        return VariantGroup(parent_code=parent, parent_name=hits[0].parent_name or hits[0].name, options=options[:5])

    def get(self, code: str) -> Optional[SearchDocument]:
        i = self._by_code.get(code)
        return self.documents[i] if i is not None else None
