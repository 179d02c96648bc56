"""Training inputs: the jieba dictionary and the staleness fingerprint."""
from __future__ import annotations

from bot import training


def test_dictionary_holds_catalogue_and_vocabulary_terms(tmp_path):
    path = training.write_dictionary(tmp_path / "jieba")
    words = {line.split()[0] for line in path.read_text(encoding="utf-8").splitlines()}
    for word in ("个体工商户", "住房公积金", "驾照", "低保", "最低生活保障"):
        assert word in words, word
    assert all(len(line.split()) == 2 for line in path.read_text(encoding="utf-8").splitlines())


def test_fingerprint_moves_when_training_data_changes(tmp_path, monkeypatch):
    training.write_dictionary()
    before = training.fingerprint()
    assert training.fingerprint() == before  # deterministic
    extra = tmp_path / "extra.yml"
    extra.write_text('version: "3.1"\nnlu: []\n', encoding="utf-8")
    monkeypatch.setattr(training, "training_data_paths", lambda: [training.NLU_DIR, training.RULES, training.STORIES, extra])
    assert training.fingerprint() != before
