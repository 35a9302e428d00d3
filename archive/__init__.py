"""The Lick archive's core: configuration, the one schema definition, database access, migrations.

Everything that both the ingest side and the VO services need lives here, so that each concept
has a single owner (the schema, the published-table metadata, the database roles).
"""
