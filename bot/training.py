"""Training the Rasa model when it is missing or stale.

Inputs: config.yml, bot/domain.yml, data/nlu/, data/rules.yml, data/stories.yml and the jieba user
dictionary generated into var/jieba/ from the default catalogue's names and aliases and the
colloquial vocabulary. Their fingerprint is stored beside the model (models/onewindow.fingerprint):
the same inputs never retrain, any change does. The dictionary comes from files in the repository,
not from the database, so importing a catalogue never forces a retraining (search finds services;
NLU only decides the intent and aspect).
"""
from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable, List

from database.engine import PROJECT_ROOT

log = logging.getLogger(__name__)

CONFIG = PROJECT_ROOT / "config.yml"
DOMAIN = PROJECT_ROOT / "bot" / "domain.yml"
NLU_DIR = PROJECT_ROOT / "data" / "nlu"
RULES = PROJECT_ROOT / "data" / "rules.yml"
STORIES = PROJECT_ROOT / "data" / "stories.yml"
CATALOGUE_DIR = PROJECT_ROOT / "data" / "catalogue"
JIEBA_DIR = PROJECT_ROOT / "var" / "jieba"
MODELS_DIR = PROJECT_ROOT / "models"
MODEL_NAME = "onewindow"
MODEL_PATH = MODELS_DIR / f"{MODEL_NAME}.tar.gz"
FINGERPRINT_PATH = MODELS_DIR / f"{MODEL_NAME}.fingerprint"
TRAINING_TIME_PATH = MODELS_DIR / f"{MODEL_NAME}.training-seconds"


def training_data_paths() -> List[Path]:
    return [NLU_DIR, RULES, STORIES]


def dictionary_words() -> List[str]:
    """Service names' recurring parts, aliases and short names of the default catalogue, department
    names, and every term of the colloquial vocabulary."""
    from knowledge.catalogue_schema import load_catalogue
    from knowledge.search.documents import SearchDocument
    from knowledge.search.engine import catalogue_terms
    from knowledge.search.lexicon import default_lexicon

    catalogue = load_catalogue(CATALOGUE_DIR)
    departments = {d.code: d for d in catalogue.departments}
    documents = [
        SearchDocument(
            code=s.basic_code,
            name=s.name,
            department=departments[s.department].name,
            department_short=departments[s.department].short_name,
            department_aliases=tuple(departments[s.department].aliases),
            short_name=s.short_name,
            aliases=tuple(s.aliases),
            result_name=s.result,
        )
        for s in catalogue.services
    ]
    words = set(catalogue_terms(documents, min_count=2))
    words.update(default_lexicon().terms())
    return sorted(w for w in words if 2 <= len(w) <= 12 and " " not in w)


def write_dictionary(target: Path = JIEBA_DIR) -> Path:
    """var/jieba/onewindow.txt in jieba's user dictionary format (word, frequency)."""
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.txt"):
        stale.unlink()
    path = target / "onewindow.txt"
    path.write_text("".join(f"{w} 2000\n" for w in dictionary_words()), encoding="utf-8")
    return path


def _files(paths: Iterable[Path]) -> List[Path]:
    out = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        elif path.exists():
            out.append(path)
    return out


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in _files([CONFIG, DOMAIN, *training_data_paths(), JIEBA_DIR]):
        name = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
        digest.update(str(name).encode())
        digest.update(path.read_bytes())
    import rasa

    digest.update(rasa.__version__.encode())
    return digest.hexdigest()


def is_stale() -> bool:
    if not MODEL_PATH.exists() or not FINGERPRINT_PATH.exists():
        return True
    return FINGERPRINT_PATH.read_text().strip() != fingerprint()


def train(force: bool = False, out=sys.stdout) -> bool:
    """Train when missing or stale (or forced). Returns True when a model was trained."""
    write_dictionary()
    if not force and not is_stale():
        print(f"model {MODEL_PATH.relative_to(PROJECT_ROOT)} is up to date", file=out, flush=True)
        return False
    print("training the Rasa model (NLU and dialogue); this takes a few minutes ...", file=out, flush=True)
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    inputs = fingerprint()
    started = time.monotonic()
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(CONFIG),
        "--domain", str(DOMAIN),
        "--data", *[str(p) for p in training_data_paths()],
        "--out", str(MODELS_DIR),
        "--fixed-model-name", MODEL_NAME,
        "--force",
    ]
    result = subprocess.run(command, cwd=PROJECT_ROOT)
    if result.returncode != 0 or not MODEL_PATH.exists():
        raise RuntimeError(f"rasa train failed with exit code {result.returncode}")
    FINGERPRINT_PATH.write_text(inputs + "\n")
    seconds = time.monotonic() - started
    TRAINING_TIME_PATH.write_text(f"{seconds:.1f}\n")
    print(f"trained {MODEL_PATH.relative_to(PROJECT_ROOT)} in {seconds:.0f} s", file=out, flush=True)
    return True
