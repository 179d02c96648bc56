"""The YAML catalogue schema: every problem names the file, the entry and what is wrong."""
from __future__ import annotations

from pathlib import Path

import pytest

from catalogue_helpers import edit_yaml
from knowledge.catalogue_schema import CatalogueError, load_catalogue


def problems_of(root: Path) -> list[str]:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(root)
    return info.value.problems


def only_problem_matching(problems: list[str], *parts: str) -> str:
    matching = [p for p in problems if all(part in p for part in parts)]
    assert matching, f"no problem mentions all of {parts}: {problems}"
    return matching[0]


def test_the_fixture_catalogue_is_valid(catalogue_copy):
    catalogue = load_catalogue(catalogue_copy)
    assert [s.basic_code for s in catalogue.services] == ["440307006001", "440307006002", "440307002004"]


def test_invalid_yaml_names_the_file_and_line(catalogue_copy):
    path = catalogue_copy / "services" / "broken.yml"
    path.write_text("- basic_code: '440307099001'\n  name: 坏文件\n  aliases: [未闭合\n  type: 公共服务\n", encoding="utf-8")
    problem = only_problem_matching(problems_of(catalogue_copy), str(path), "not valid YAML")
    assert "line " in problem
    line = int(problem.split("line ")[1].split(":")[0])
    assert 3 <= line <= 5


def test_unknown_department(catalogue_copy):
    path = catalogue_copy / "services" / "health.yml"
    edit_yaml(path, lambda services: services[0].update(department="T-NOPE"))
    only_problem_matching(
        problems_of(catalogue_copy), str(path), "service 440307006001 (生育登记)", "unknown department T-NOPE"
    )


def test_missing_required_element(catalogue_copy):
    path = catalogue_copy / "services" / "police.yml"
    edit_yaml(path, lambda services: services[0].pop("conditions"))
    only_problem_matching(problems_of(catalogue_copy), str(path), "entry 1 (出生登记（新生儿入户）)", "conditions", "field required")


def test_bad_material_form(catalogue_copy):
    path = catalogue_copy / "services" / "health.yml"
    edit_yaml(path, lambda services: services[1]["materials"][0].update(form="扫描件"))
    only_problem_matching(
        problems_of(catalogue_copy), str(path), "entry 2 (出生医学证明签发（首次签发）)", "materials.0.form", "form must be one of"
    )


def test_duplicate_department_code(catalogue_copy):
    path = catalogue_copy / "departments.yml"
    edit_yaml(path, lambda departments: departments[2].update(code="T-GA"))
    only_problem_matching(problems_of(catalogue_copy), str(path), "department code T-GA", "used twice")


def test_duplicate_service_basic_code(catalogue_copy):
    path = catalogue_copy / "services" / "police.yml"
    edit_yaml(path, lambda services: services[0].update(basic_code="440307006001"))
    only_problem_matching(
        problems_of(catalogue_copy),
        str(path),
        "service 440307006001 (出生登记（新生儿入户）)",
        "basic_code already used in",
        "health.yml",
    )


def test_promised_limit_above_statutory(catalogue_copy):
    path = catalogue_copy / "services" / "police.yml"
    edit_yaml(path, lambda services: services[0]["time_limit"].update(promised={"value": 40, "unit": "自然日"}))
    only_problem_matching(
        problems_of(catalogue_copy),
        str(path),
        "entry 1 (出生登记（新生儿入户）)",
        "time_limit",
        "promised time limit exceeds the statutory one",
    )


def test_every_problem_is_reported_at_once(catalogue_copy):
    edit_yaml(catalogue_copy / "services" / "health.yml", lambda s: s[0].update(department="T-NOPE"))
    edit_yaml(catalogue_copy / "services" / "police.yml", lambda s: s[0].pop("conditions"))
    problems = problems_of(catalogue_copy)
    assert any("unknown department T-NOPE" in p for p in problems)
    assert any("conditions" in p for p in problems)
