"""Schema migrations: a database built by `upgrade` equals the models, and upgrades keep data."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from database import make_session
from database.base import Base
from database.engine import get_engine
from database.migrate import (
    MigrationError,
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from database.models import MODEL_MODULES, load_models
from knowledge.models import Department, Service


def _schema(url: str) -> list:
    with get_engine(url).connect() as connection:
        return connection.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name")).all()


def test_upgrade_from_empty_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert current_revision(url) is None
    result = upgrade(url)
    assert result.before is None and result.after == head_revision()
    with get_engine(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, load_models())
    assert diffs == []


def test_every_model_module_is_in_the_target_metadata():
    metadata = load_models()
    assert metadata is Base.metadata
    assert "knowledge.models" in MODEL_MODULES
    assert {"services", "departments", "bundles", "catalogue_state"} <= set(metadata.tables)


def test_upgrading_twice_is_a_no_op(db_url):
    before = _schema(db_url)
    result = upgrade(db_url)
    assert not result.changed
    assert result.after == head_revision() == current_revision(db_url)
    assert _schema(db_url) == before


def test_data_survives_an_upgrade(db_url):
    with make_session(db_url) as session:
        department = Department(code="D1", name="测试局", aliases=["测试"])
        session.add(department)
        session.flush()
        session.add(Service(code="S1", name="测试事项", department_id=department.id))
        session.commit()
    upgrade(db_url)
    with make_session(db_url) as session:
        service = session.execute(select(Service)).scalar_one()
        assert (service.code, service.name, service.department.aliases) == ("S1", "测试事项", ["测试"])


def test_server_defaults_fill_rows_written_without_the_orm(db_url):
    with get_engine(db_url).begin() as connection:
        connection.execute(text("INSERT INTO departments (code, name) VALUES ('D2', '原始SQL局')"))
        row = connection.execute(text("SELECT coordinating, aliases FROM departments WHERE code='D2'")).one()
    assert not row.coordinating and row.aliases in ("[]", [])


def test_downgrade_to_base_and_upgrade_again(db_url):
    with get_engine(db_url).connect() as connection:
        command.downgrade(alembic_config(connection, db_url), "base")
        connection.commit()
    assert current_revision(db_url) is None
    assert upgrade(db_url).after == head_revision()


def test_tables_without_migration_history_are_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    load_models().create_all(get_engine(url))
    with pytest.raises(MigrationError, match="no migration history"):
        upgrade(url)


def test_batch_table_rebuilds_keep_the_rows_that_reference_the_table(db_url):
    """Future SQLite batch migrations copy, drop and rename tables: with foreign keys on, the
    drop would cascade-delete referencing rows. Migrations run with foreign keys off."""
    from alembic.operations import Operations
    from sqlalchemy import String

    from database.migrate import _migration_connection
    from knowledge.models import Material

    with make_session(db_url) as session:
        department = Department(code="D1", name="测试局")
        service = Service(code="S1", name="测试事项", department=department)
        service.materials = [Material(name="身份证")]
        session.add(service)
        session.commit()
    with _migration_connection(db_url) as connection:
        operations = Operations(MigrationContext.configure(connection))
        with operations.batch_alter_table("services", recreate="always") as batch:
            batch.alter_column("online_depth", existing_type=String(50), type_=String(60))
        connection.commit()
    with make_session(db_url) as session:
        assert [m.name for m in session.execute(select(Material)).scalars()] == ["身份证"]
        assert session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
