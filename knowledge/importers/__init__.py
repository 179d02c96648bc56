"""Catalogue importers: the project's YAML catalogue and the Guangdong provincial portal export.

    from knowledge.importers import import_path
    report = import_path(session, "data/catalogue")      # commits unless commit=False
    print(report.summary())

`detect_format(path)` tells which importer a path needs. Every import that changes anything
bumps the catalogue revision once (knowledge.revision); importing the same input again changes
nothing and leaves the revision alone.
"""
from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from knowledge.importers.report import ImportReport, Problem
from knowledge.revision import bump_revision, get_revision

YAML_CATALOGUE = "yaml-catalogue"
GDPORTAL = "gdportal"
FORMATS = (YAML_CATALOGUE, GDPORTAL)

__all__ = [
    "FORMATS",
    "GDPORTAL",
    "YAML_CATALOGUE",
    "ImportFormatError",
    "ImportReport",
    "Problem",
    "catalogue_root",
    "detect_format",
    "import_path",
]


class ImportFormatError(Exception):
    """The path does not exist or is in no format an importer knows."""


def detect_format(path: Path | str) -> str:
    """YAML_CATALOGUE for a folder or a .yml/.yaml file, GDPORTAL for a .jsonl/.json export whose
    records have TASK_CODE; ImportFormatError otherwise."""
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(f"{path}: no such file or folder")
    if path.is_dir():
        return YAML_CATALOGUE
    suffix = path.suffix.lower()
    if suffix in (".yml", ".yaml"):
        return YAML_CATALOGUE
    if suffix in (".jsonl", ".json"):
        from knowledge.importers.gdportal import looks_like_export

        if looks_like_export(path):
            return GDPORTAL
        raise ImportFormatError(
            f"{path}: no JSON record with TASK_CODE found; not a Guangdong portal export"
        )
    raise ImportFormatError(
        f"{path}: unknown format; expected a catalogue folder (or one of its .yml files) "
        "or a Guangdong portal export (.jsonl / .json)"
    )


def catalogue_root(path: Path | str) -> Path:
    """The catalogue folder for a folder or for a .yml file inside one (or inside services/)."""
    path = Path(path)
    if path.is_dir():
        return path
    for candidate in (path.parent, path.parent.parent):
        if (candidate / "catalogue.yml").exists():
            return candidate
    raise ImportFormatError(
        f"{path}: not inside a catalogue folder (no catalogue.yml next to it or one level up)"
    )


def import_path(session: Session, path: Path | str, commit: bool = True) -> ImportReport:
    """Import a catalogue folder or portal export in one transaction and report what happened.

    Raises ImportFormatError when the path cannot be read at all. With commit=False the caller
    commits (or rolls back); on a database error the session is rolled back either way.
    """
    started = time.perf_counter()
    path = Path(path)
    kind = detect_format(path)
    report = ImportReport(path=str(path), format=kind)
    try:
        if kind == YAML_CATALOGUE:
            from knowledge.importers.yaml_catalogue import import_yaml_catalogue

            import_yaml_catalogue(session, catalogue_root(path), report)
        else:
            from knowledge.importers.gdportal import import_gdportal

            import_gdportal(session, path, report)
        if report.aborted:
            session.rollback()
        else:
            report.revision = bump_revision(session) if report.changed else get_revision(session)
            if commit:
                session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        detail = getattr(exc, "orig", None) or exc
        report.abort(f"the database rejected the import: {detail}")
    report.elapsed = time.perf_counter() - started
    return report
