"""Small helpers for tests that edit catalogue YAML files."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURE_CATALOGUE = REPO_ROOT / "tests" / "fixtures" / "catalogue"
DEFAULT_CATALOGUE = REPO_ROOT / "data" / "catalogue"
GUANGDONG_EXPORT = REPO_ROOT.parent / "shared" / "catalogues" / "guangdong-2262.jsonl"


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def write_yaml(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def edit_yaml(path: Path, change: Callable[[Any], Any]) -> None:
    """Load, let `change` edit the data in place (its return value is ignored), write back."""
    data = read_yaml(path)
    change(data)
    write_yaml(path, data)
