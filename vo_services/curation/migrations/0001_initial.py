"""The archive-curation models move here from ``accounts``: Django's state only.

They are unmanaged views of the ``lick`` tables (archive/schema.py, migrated by alembic), so no
table is touched. Their content types follow them, keeping the audit log's entries and the
permissions given to staff attached to the same models.
"""
from django.db import migrations, models

MOVED = ("program", "membership", "observation", "accessgrant")


def _relabel(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(ContentType.objects.filter(app_label=new, model__in=MOVED).values_list("model", flat=True))
    ContentType.objects.filter(app_label=old, model__in=set(MOVED) - taken).update(app_label=new)


def forwards(apps, schema_editor):
    _relabel(apps, "accounts", "curation")


def backwards(apps, schema_editor):
    _relabel(apps, "curation", "accounts")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='AccessGrant',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('principal', models.TextField()),
                    ('reason', models.TextField()),
                ],
                options={
                    'db_table': 'lick"."access_grant',
                    'managed': False,
                },
            ),
            migrations.CreateModel(
                name='Membership',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('observer', models.TextField(help_text="the observer's user name")),
                ],
                options={
                    'db_table': 'lick"."program_observer',
                    'ordering': ['program_id', 'observer'],
                    'managed': False,
                },
            ),
            migrations.CreateModel(
                name='Observation',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('obs_id', models.TextField(editable=False, unique=True)),
                    ('instrument_name', models.TextField(editable=False)),
                    ('observing_night', models.DateField(editable=False)),
                    ('frame_type', models.TextField(editable=False)),
                    ('target_name', models.TextField(editable=False, null=True)),
                    ('obs_release_date', models.DateTimeField(editable=False)),
                    ('release_override', models.DateTimeField(blank=True, help_text='release date set by an admin; it wins over the access rules until cleared', null=True)),
                ],
                options={
                    'db_table': 'lick"."observation',
                    'ordering': ['-observing_night', 'obs_id'],
                    'managed': False,
                },
            ),
            migrations.CreateModel(
                name='Program',
                fields=[
                    ('program_id', models.TextField(help_text='program or cover-sheet id', primary_key=True, serialize=False)),
                    ('title', models.TextField(blank=True, null=True)),
                    ('release_date', models.DateField(blank=True, help_text='when its data become public; empty: night + default period', null=True)),
                ],
                options={
                    'db_table': 'lick"."program',
                    'ordering': ['program_id'],
                    'managed': False,
                },
            ),
        ]),
        migrations.RunPython(forwards, backwards),
    ]
