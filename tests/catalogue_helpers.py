"""Small helpers for tests that edit catalogue YAML files or need a database with a catalogue."""
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


def catalogue_database(folder: Path, name: str = "onewindow.db", catalogue: Path = DEFAULT_CATALOGUE) -> str:
    """The URL of a new SQLite database in `folder`, migrated, with `catalogue` imported."""
    from database import make_session
    from database.migrate import upgrade
    from knowledge.importers import import_path

    url = f"sqlite:///{folder / name}"
    upgrade(url)
    with make_session(url) as session:
        report = import_path(session, catalogue)
        assert not report.aborted and report.failed == 0, report.summary()
    return url
