"""The `onewindow` command line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import pytest

from catalogue_helpers import edit_yaml
from catalogue_helpers import FIXTURE_CATALOGUE, REPO_ROOT
from bot.cli import main
from database.migrate import head_revision


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_setup_upgrades_imports_and_then_skips(db_url, capsys, catalogue_copy):
    code, out, err = run(capsys, "setup", "--catalogue", str(catalogue_copy))
    assert code == 0, err
    assert f"at revision {head_revision()}" in out  # the db_url fixture already upgraded it
    assert "9 created" in out

    code, out, _ = run(capsys, "setup", "--catalogue", str(catalogue_copy))
    assert code == 0 and "unchanged since the last import, skipped" in out

    edit_yaml(catalogue_copy / "services" / "police.yml", lambda s: s[0].update(name="出生登记（入户）"))
    code, out, _ = run(capsys, "setup", "--catalogue", str(catalogue_copy))
    assert code == 0 and "1 updated" in out and "revision is now 2" in out


def test_setup_on_an_empty_database(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    code, out, err = run(capsys, "setup", "--catalogue", str(FIXTURE_CATALOGUE))
    assert code == 0, err
    assert f"upgraded from empty to {head_revision()}" in out
    code, out, _ = run(capsys, "kb", "stats", "--json")
    assert code == 0 and json.loads(out) == {"services": 3, "departments": 3, "bundles": 1}


def test_setup_with_an_invalid_catalogue_fails_clearly(db_url, capsys, catalogue_copy):
    edit_yaml(catalogue_copy / "services" / "health.yml", lambda s: s[0].update(department="T-NOPE"))
    code, out, err = run(capsys, "setup", "--catalogue", str(catalogue_copy))
    assert code == 1
    assert "unknown department T-NOPE" in err and "could not be imported" in err
    assert "Traceback" not in err


def test_kb_import_and_stats(db_url, capsys, tmp_path):
    code, out, _ = run(capsys, "kb", "stats")
    assert code == 0 and "services: 0" in out

    code, out, err = run(capsys, "kb", "import", str(FIXTURE_CATALOGUE))
    assert code == 0, err
    assert out.startswith("Imported") and "9 created" in out

    export = tmp_path / "export.jsonl"
    record = {"TASK_CODE": "11440000006939756B2440101007000", "TASK_NAME": "提价申报", "DEPT_NAME": "广东省发展和改革委员会"}
    export.write_text(json.dumps(record, ensure_ascii=False) + "\n{broken\n", encoding="utf-8")
    code, out, _ = run(capsys, "kb", "import", str(export))
    assert code == 0  # the import ran, even though one record failed
    assert "1 created" in out and "1 failed" in out
    assert "line 2: not valid JSON" in out

    code, out, _ = run(capsys, "kb", "stats", "--json")
    assert json.loads(out) == {"services": 4, "departments": 4, "bundles": 1}


def test_kb_import_of_an_unknown_format_is_an_error(db_url, capsys, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello", encoding="utf-8")
    code, out, err = run(capsys, "kb", "import", str(notes))
    assert code == 1 and "unknown format" in err and "Traceback" not in err


def test_kb_import_of_an_invalid_catalogue_exits_1(db_url, capsys, catalogue_copy):
    (catalogue_copy / "places.yml").write_text("- code: [\n", encoding="utf-8")
    code, out, err = run(capsys, "kb", "import", str(catalogue_copy))
    assert code == 1 and "aborted" in out and "not valid YAML" in err


def test_db_commands(db_url, capsys):
    code, out, _ = run(capsys, "db", "current")
    assert code == 0 and out.startswith(f"{head_revision()} (head)")
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and "up to date" in out


def test_kb_search_and_eval_delegate_to_the_search_module(monkeypatch, capsys):
    calls = []
    fake = types.ModuleType("knowledge.search.commands")
    fake.run_search = lambda query, limit, as_json: calls.append(("search", query, limit, as_json)) or 0
    fake.run_eval = lambda path, limit: calls.append(("eval", path, limit)) or 3
    monkeypatch.setitem(sys.modules, "knowledge.search.commands", fake)
    assert main(["kb", "search", "护照", "--limit", "3", "--json"]) == 0
    assert main(["kb", "search", "-"]) == 0
    assert main(["kb", "eval", "queries.tsv", "--limit", "10"]) == 3
    assert calls == [("search", "护照", 3, True), ("search", "-", 5, False), ("eval", "queries.tsv", 10)]


def test_errors_in_a_subprocess_have_no_traceback(tmp_path):
    env = dict(os.environ, ONEWINDOW_DATABASE_URL=f"sqlite:///{tmp_path / 'sub.db'}")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "kb", "import", str(tmp_path / "missing.jsonl")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "onewindow: error:" in result.stderr and "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_database_url_is_a_clear_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'no-such-dir' / 'x' / 'db'}")
    (tmp_path / "no-such-dir").write_text("a file, not a folder", encoding="utf-8")
    code, _, err = run(capsys, "kb", "stats")
    assert code == 1 and "error:" in err and "Traceback" not in err


def test_desk_starts_with_host_and_port_from_the_environment(monkeypatch, capsys):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append((app, kwargs)))
    monkeypatch.delenv("ONEWINDOW_HOST", raising=False)
    monkeypatch.delenv("ONEWINDOW_DESK_PORT", raising=False)
    assert main(["desk"]) == 0
    monkeypatch.setenv("ONEWINDOW_HOST", "127.0.0.1")
    monkeypatch.setenv("ONEWINDOW_DESK_PORT", "8123")
    assert main(["desk"]) == 0
    assert calls == [
        ("desk.app:create_app", {"factory": True, "host": "0.0.0.0", "port": 8000, "ws": "none"}),
        ("desk.app:create_app", {"factory": True, "host": "127.0.0.1", "port": 8123, "ws": "none"}),
    ]


@pytest.mark.parametrize("command", ["desk", "run"])
def test_a_bad_port_is_a_clear_error(monkeypatch, capsys, command):
    monkeypatch.setenv("ONEWINDOW_DESK_PORT", "eighty")
    code, _, err = run(capsys, command)
    assert code == 1 and "ONEWINDOW_DESK_PORT" in err and "Traceback" not in err
