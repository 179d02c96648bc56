"""A BM25F inverted index held as a compressed sparse column matrix.

Documents have named fields (name, aliases, parent, ...) of weighted term counts. Each term's
column stores its final BM25F contribution per document, so a query is a handful of column slices
added into one score vector: a few milliseconds at 100,000 documents on one core.
"""
from __future__ import annotations

from array import array
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, Iterable, Mapping, Sequence, Tuple

import numpy as np


@dataclass(frozen=True)
class FieldSpec:
    weight: float
    b: float  # length normalisation, 0 = none


class SparseIndex:
    """Terms are strings; a document is {field: [terms]}."""

    def __init__(self, fields: Mapping[str, FieldSpec], k1: float = 1.2):
        self.fields = dict(fields)
        self.k1 = k1
        self.vocabulary: Dict[str, int] = {}
        self.n_docs = 0
        self._indptr = np.zeros(1, dtype=np.int64)
        self._indices = np.zeros(0, dtype=np.int32)
        self._data = np.zeros(0, dtype=np.float32)
        self.idf = np.zeros(0, dtype=np.float32)

    def build(self, documents: Sequence[Mapping[str, Sequence[str]]]) -> None:
        n = len(documents)
        # Average field lengths for normalisation.
        lengths = {f: np.zeros(n, dtype=np.float32) for f in self.fields}
        for i, doc in enumerate(documents):
            for f in self.fields:
                lengths[f][i] = len(doc.get(f, ()))
        averages = {f: max(float(lengths[f].mean()) if n else 0.0, 1e-6) for f in self.fields}

        vocab: Dict[str, int] = {}
        rows, cols, vals = array("i"), array("i"), array("f")
        for i, doc in enumerate(documents):
            pseudo_tf: Dict[int, float] = defaultdict(float)
            for f, spec in self.fields.items():
                terms = doc.get(f, ())
                if not terms:
                    continue
                scale = spec.weight / (1.0 - spec.b + spec.b * (lengths[f][i] / averages[f]))
                for term in terms:
                    tid = vocab.get(term)
                    if tid is None:
                        tid = vocab[term] = len(vocab)
                    pseudo_tf[tid] += scale
            for tid, tf in pseudo_tf.items():
                rows.append(i)
                cols.append(tid)
                vals.append(tf / (self.k1 + tf) * (self.k1 + 1.0))

        n_terms = len(vocab)
        row_arr = np.frombuffer(rows, dtype=np.int32)
        col_arr = np.frombuffer(cols, dtype=np.int32)
        val_arr = np.frombuffer(vals, dtype=np.float32)
        order = np.argsort(col_arr, kind="stable")
        df = np.bincount(col_arr, minlength=n_terms).astype(np.float64)
        idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(df).astype(np.int64)
        indices = row_arr[order].astype(np.int32)
        data = (val_arr[order] * idf[col_arr[order]]).astype(np.float32)
        self.vocabulary, self.n_docs = vocab, n
        self._indptr, self._indices, self._data, self.idf = indptr, indices, data, idf

    def scores(self, weighted_terms: Iterable[Tuple[str, float]]) -> np.ndarray:
        """Sum of the columns of the query's terms, each times its query weight."""
        scores = np.zeros(self.n_docs, dtype=np.float32)
        merged: Dict[int, float] = defaultdict(float)
        for term, weight in weighted_terms:
            tid = self.vocabulary.get(term)
            if tid is not None:
                merged[tid] = max(merged[tid], weight)
        for tid, weight in merged.items():
            a, b = self._indptr[tid], self._indptr[tid + 1]
            scores[self._indices[a:b]] += self._data[a:b] * weight
        return scores

    def term_idf(self, term: str) -> float:
        tid = self.vocabulary.get(term)
        return float(self.idf[tid]) if tid is not None else 0.0

    def nbytes(self) -> int:
        return int(self._indptr.nbytes + self._indices.nbytes + self._data.nbytes + self.idf.nbytes)
