"""What an import did: counts, problems with their line or entry, timing."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Optional

OUTCOMES = ("created", "updated", "unchanged", "failed")


@dataclass
class Problem:
    """One problem: where (line N / file: entry) and why.

    severity "error": the record or the whole import was not written;
    severity "warning": the record was imported but a value was dropped or shortened.
    """

    where: str
    reason: str
    severity: str = "error"

    def __str__(self) -> str:
        text = f"{self.where}: {self.reason}" if self.where else self.reason
        return text if self.severity == "error" else f"warning: {text}"


@dataclass
class ImportReport:
    path: str
    format: str
    problems: List[Problem] = field(default_factory=list)
    elapsed: float = 0.0
    # True when nothing could be imported (unreadable input, invalid catalogue, database error).
    aborted: bool = False
    # True when the import changed anything (records, or departments/places/parents it needed).
    changed: bool = False
    # The catalogue revision after the import.
    revision: Optional[int] = None
    # kind ("services", "departments", ...) -> outcome -> count
    counts: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    # -- recording -----------------------------------------------------------------------
    def count(self, kind: str, outcome: str, n: int = 1) -> None:
        assert outcome in OUTCOMES, outcome
        self.counts[kind][outcome] += n
        if outcome in ("created", "updated") and n:
            self.changed = True

    def error(self, where: str, reason: str) -> None:
        self.problems.append(Problem(where, reason, "error"))

    def warning(self, where: str, reason: str) -> None:
        self.problems.append(Problem(where, reason, "warning"))

    def abort(self, reason: str, where: str = "") -> None:
        self.aborted = True
        self.changed = False
        self.counts.clear()
        self.problems.append(Problem(where, reason, "error"))

    # -- totals --------------------------------------------------------------------------
    def _total(self, outcome: str) -> int:
        return sum(c[outcome] for c in self.counts.values())

    @property
    def created(self) -> int:
        return self._total("created")

    @property
    def updated(self) -> int:
        return self._total("updated")

    @property
    def unchanged(self) -> int:
        return self._total("unchanged")

    @property
    def failed(self) -> int:
        return self._total("failed")

    @property
    def errors(self) -> List[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> List[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def summary(self) -> str:
        """One paragraph in English, e.g. for the command line."""
        if self.aborted:
            return (
                f"Import of {self.path} ({self.format}) aborted: {len(self.errors)} problem(s); "
                f"nothing was written ({self.elapsed:.2f} s)."
            )
        text = (
            f"Imported {self.path} ({self.format}): {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.failed} failed"
        )
        if len(self.counts) > 1:
            parts = []
            for kind, c in self.counts.items():
                parts.append(
                    f"{kind} {c['created']}/{c['updated']}/{c['unchanged']}/{c['failed']}"
                )
            text += " [created/updated/unchanged/failed: " + ", ".join(parts) + "]"
        if self.warnings:
            text += f"; {len(self.warnings)} warning(s)"
        if self.changed:
            text += f"; catalogue revision is now {self.revision}"
        else:
            text += f"; nothing changed (revision {self.revision})"
        return text + f" in {self.elapsed:.2f} s."
