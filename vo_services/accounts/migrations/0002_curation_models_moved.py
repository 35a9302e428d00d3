"""Programs, observers, observations and grants now belong to the ``curation`` app: Django's state
only (they are unmanaged views of ``lick`` tables; no table is touched)."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("curation", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.DeleteModel(name="AccessGrant"),
            migrations.DeleteModel(name="Membership"),
            migrations.DeleteModel(name="Observation"),
            migrations.DeleteModel(name="Program"),
        ]),
    ]
