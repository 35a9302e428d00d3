"""Curation's boundaries: the admin's models name real columns, and ``ingest/store.py`` is the one
writer of ``lick.observation`` (the admin goes through ``ingest.curation.curator_changed``)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODE = ("archive", "ingest", "vo_services", "watcher", "scripts", "bench")
#: Writers allowed besides the store: schema migrations, and the benchmarks that set up their own
#: throw-away databases (the filler COPYs synthetic rows; SIA's gives them footprints; SODA's
#: releases its one frame; the count triggers' cost is timed on an UPDATE it rolls back).
ALLOWED = {"ingest/store.py", "archive/benchrows.py", "bench/bench_sia.py", "bench/bench_soda.py",
           "bench/bench_count_writes.py"}
_TABLE = r'"?lick"?\s*\.\s*"?observation"?(?![\w"])'
WRITES = [
    re.compile(rf"\b(insert\s+into|update|delete\s+from|copy|truncate(\s+table)?|merge\s+into)\s+(only\s+)?{_TABLE}",
               re.IGNORECASE),  # SQL text
    re.compile(r"\b(insert|update|delete)\(\s*observation\s*\)"),  # SQLAlchemy
    re.compile(r"\bobservation\.(insert|update|delete)\("),
    re.compile(r"\bObservation\.objects\b.*\.(update|create|delete|bulk_create|bulk_update|"
               r"get_or_create|update_or_create)\("),  # Django
]


def writers(root: Path) -> list[str]:
    """``path:line`` of every statement under ``root`` that writes lick.observation, outside
    :data:`ALLOWED` and the migrations."""
    found = []
    for top in CODE:
        for path in sorted((root / top).rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.suffix not in (".py", ".sql", ".sh") or "/migrations/" in rel or rel in ALLOWED:
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if any(pattern.search(line) for pattern in WRITES):
                    found.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_the_store_is_the_one_writer_of_observations():
    assert writers(ROOT) == []


@pytest.mark.parametrize("line", [
    'conn.exec_driver_sql("UPDATE lick.observation SET obs_release_date = now()")',
    "cur.execute('insert into \"lick\".\"observation\" (obs_id) values (%s)', (x,))",
    "conn.execute(update(observation).where(o.id == 1).values(frame_type='arc'))",
    "Observation.objects.filter(pk=obj.pk).update(release_override=None)",
])
def test_the_writer_check_finds_a_writer(tmp_path, line):
    (tmp_path / "vo_services").mkdir()
    (tmp_path / "vo_services" / "sneaky.py").write_text(f"def f():\n    {line}\n")
    assert writers(tmp_path) == [f"vo_services/sneaky.py:2: {line}"]


def test_the_writer_check_ignores_readers_and_other_tables(tmp_path):
    (tmp_path / "ingest").mkdir()
    (tmp_path / "ingest" / "reader.py").write_text(
        "SELECT obs_id FROM lick.observation\nUPDATE lick.observation_stats SET n = 1\n"
        "conn.execute(select(observation))\nDELETE FROM lick.access_grant\n")
    assert writers(tmp_path) == []


def test_curation_models_name_real_columns():
    from django.apps import apps

    from archive.schema import metadata

    for model in apps.get_app_config("curation").get_models():
        table = metadata.tables[model._meta.db_table.replace('"."', ".")]
        columns = {field.column for field in model._meta.concrete_fields}
        assert columns <= set(table.columns.keys()), (model.__name__, columns - set(table.columns.keys()))


def test_an_observation_cannot_be_saved_through_django(db):
    from vo_services.curation.models import Observation, ReadOnlyRow

    with pytest.raises(ReadOnlyRow):
        Observation(obs_id="nowhere").save()
