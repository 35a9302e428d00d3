-- What the query role (users' ADQL, and any SQL injected into it) does not need, taken from
-- PUBLIC in this database (issue 13): other sessions' query text, which holds their callers'
-- signed principals and queries; signalling other sessions, which share its role; creating
-- objects that outlive the session (schemas, tables outside pg_temp, large objects). What the
-- owner role needs back (it cancels aborted jobs' queries and ends sessions before dropping test
-- databases) is granted to it by name. Needs a superuser: scripts/setup.sh applies it to
-- lick_template (test databases are cloned from it) and to the archive's database, with
-- -v owner=<owner role>. Idempotent.
SELECT current_database() AS dbname \gset

REVOKE SELECT ON pg_catalog.pg_stat_activity FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_catalog.pg_stat_get_activity(integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_catalog.pg_stat_get_backend_activity(integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_catalog.pg_cancel_backend(integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_catalog.pg_terminate_backend(integer, bigint) FROM PUBLIC;
GRANT SELECT ON pg_catalog.pg_stat_activity TO :"owner";
GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_get_activity(integer) TO :"owner";
GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_get_backend_activity(integer) TO :"owner";
GRANT EXECUTE ON FUNCTION pg_catalog.pg_cancel_backend(integer) TO :"owner";
GRANT EXECUTE ON FUNCTION pg_catalog.pg_terminate_backend(integer, bigint) TO :"owner";

REVOKE EXECUTE ON FUNCTION pg_catalog.lo_creat(integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_catalog.lo_create(oid) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_catalog.lo_from_bytea(oid, bytea) FROM PUBLIC;
REVOKE CREATE ON DATABASE :"dbname" FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
