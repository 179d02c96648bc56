"""NLU evaluation on a held-out split of the project's own NLU data.

The NLU examples (data/nlu/) are split 80/20 with a fixed seed; a model is trained on the 80%
with the product's pipeline (config.yml) and tested on the 20% it never saw. Figures: intent
accuracy and weighted F1, and the aspect extractor's F1.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass

from bot.training import CONFIG, NLU_DIR, write_dictionary
from database.engine import PROJECT_ROOT

WORKDIR = PROJECT_ROOT / "var" / "nlu-eval"


@dataclass
class NluReport:
    intent_accuracy: float
    intent_f1: float
    aspect_f1: float
    test_examples: int

    def summary(self) -> str:
        return (
            f"held-out NLU examples={self.test_examples} intent accuracy={self.intent_accuracy:.3f} "
            f"intent weighted F1={self.intent_f1:.3f} aspect F1={self.aspect_f1:.3f}"
        )


def _rasa(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "rasa", *args], cwd=PROJECT_ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"rasa {args[0]} {args[1] if len(args) > 1 else ''} failed with exit code {result.returncode}")


def evaluate_nlu(fraction: float = 0.8, seed: int = 42) -> NluReport:
    write_dictionary()
    shutil.rmtree(WORKDIR, ignore_errors=True)
    split = WORKDIR / "split"
    _rasa("data", "split", "nlu", "-u", str(NLU_DIR), "--training-fraction", str(fraction),
          "--random-seed", str(seed), "--out", str(split))
    train_file = next(split.glob("training_data.*"))
    test_file = next(split.glob("test_data.*"))
    _rasa("train", "nlu", "--config", str(CONFIG), "--nlu", str(train_file), "--out", str(WORKDIR / "models"),
          "--fixed-model-name", "nlu-eval")
    results = WORKDIR / "results"
    _rasa("test", "nlu", "--model", str(WORKDIR / "models" / "nlu-eval.tar.gz"), "--nlu", str(test_file),
          "--out", str(results), "--no-plot")
    intents = json.loads((results / "intent_report.json").read_text(encoding="utf-8"))
    aspect_f1 = 0.0
    entity_report = results / "RegexEntityExtractor_report.json"
    if entity_report.exists():
        entities = json.loads(entity_report.read_text(encoding="utf-8"))
        aspect_f1 = float((entities.get("aspect") or entities.get("weighted avg") or {}).get("f1-score", 0.0))
    weighted = intents["weighted avg"]
    return NluReport(
        intent_accuracy=float(intents.get("accuracy", 0.0)),
        intent_f1=float(weighted["f1-score"]),
        aspect_f1=aspect_f1,
        test_examples=int(weighted.get("support", 0)),
    )
