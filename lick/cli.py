"""``lick-admin``: the archive's admin commands.

Each sub-command is a thin shell over a domain module; errors an admin can fix end in one clear
line (``lick-admin: error: …``) and exit status 1, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from archive.errors import AdminError

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None], str]] = {}


def command(name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    """Register a sub-command: its function, its arguments and its one-line help."""
    def register(func: Command) -> Command:
        COMMANDS[name] = (func, arguments, help)
        return func
    return register


def _migrate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--revision", default="head", help="Alembic revision of the archive schema (default head)")


@command("migrate", "apply the archive's (Alembic) and Django's migrations", _migrate_args)
def migrate(args: argparse.Namespace) -> int:
    from archive.migrate import migrate_all

    for line in migrate_all(args.revision):
        print(line)
    return 0


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", help="archive root (default: LICK_ARCHIVE_ROOT)")
    p.add_argument("--files", type=int, default=2000, help="about how many FITS files (default 2000)")
    p.add_argument("--seed", type=int, default=42)


@command("generate-demo", "write synthetic Lick FITS files and a demo schedule", _demo_args)
def generate_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from archive.config import get_settings
    from archive.demo import generate_demo as generate

    root = Path(args.root) if args.root else get_settings().archive_root
    summary = generate(root, seed=args.seed, files=args.files)
    print(summary.report())
    return 0


def _schedule_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="schedule as .csv or .json (format: ingest/schedule.py)")


@command("import-schedule", "import an observing schedule (programs, observers, nights)", _schedule_args)
def import_schedule(args: argparse.Namespace) -> int:
    from pathlib import Path

    from archive.db import engine
    from ingest.schedule import import_schedule as store, read_schedule

    slots = read_schedule(Path(args.file))
    with engine("ingest").begin() as conn:
        count = store(conn, slots)
    print(f"imported {count} schedule slot(s) from {args.file}")
    created = _ensure_observer_users(o for slot in slots for o in slot.observers)
    if created:
        print(f"made {len(created)} user(s) for new observers (no password yet): {', '.join(created[:10])}"
              + (" ..." if len(created) > 10 else ""))
    return 0


def _ensure_observer_users(names) -> list[str]:
    _setup_django()
    from vo_services.accounts.observers import ensure_users

    return ensure_users(names)


def _user_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true", help="set the password to the first line of stdin")
    p.add_argument("--staff", action="store_true", help="archive staff: sees everything, may use the admin pages")
    p.add_argument("--superuser", action="store_true", help="staff with every admin permission")
    p.add_argument("--program", action="append", default=[], metavar="ID",
                   help="make the user an observer of program ID (repeatable)")
    p.add_argument("--token", metavar="NAME", help="issue a personal API token and print it")


@command("user", "create or update a user of the archive (password, staff, programs, a token)", _user_args)
def user(args: argparse.Namespace) -> int:
    _setup_django()
    from vo_services.accounts.observers import configure_user

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    report, token = configure_user(args.username, password=password, staff=args.staff or args.superuser,
                                   superuser=args.superuser, programs=args.program, token_name=args.token)
    print(report)
    if token:
        print(token)
    return 0


@command("demo-accounts", "give the demo archive an admin and an observer who can log in")
def demo_accounts(args: argparse.Namespace) -> int:
    _setup_django()
    from vo_services.accounts.demo import make_demo_accounts

    for line in make_demo_accounts():
        print(line)
    return 0


def _setup_django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")
    django.setup()


def _ingest_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", help="files or directories (default: the whole archive root)")
    p.add_argument("--from-list", metavar="FILE", help="read paths from FILE, one a line")
    p.add_argument("--force", action="store_true", help="re-read files even when size and mtime match")
    p.add_argument("--dry-run", action="store_true", help="read and map, report, write nothing")
    p.add_argument("--jobs", type=int, default=0, help="reader processes (default: one per core)")
    p.add_argument("--quiet", action="store_true", help="no progress line")


@command("ingest", "bulk-ingest files or trees through the real ingest path", _ingest_args)
def ingest(args: argparse.Namespace) -> int:
    from ingest.bulk import bulk_ingest

    report = bulk_ingest(args.paths, from_list=args.from_list, force=args.force,
                         dry_run=args.dry_run, jobs=args.jobs, progress=not args.quiet)
    for path, reason in report.failed[:50]:
        print(f"  failed: {path}: {reason}")
    if len(report.failed) > 50:
        print(f"  ... and {len(report.failed) - 50} more failures")
    print(("dry run: " if args.dry_run else "") + report.summary())
    return 0


def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--database", help="database to fill (default: the configured one)")
    p.add_argument("--proprietary", type=float, default=0.3, help="fraction still proprietary")
    p.add_argument("--seed", type=int, default=7)


@command("fill-bench-rows", "append metadata rows directly, for benchmarks (no FITS files)", _bench_args)
def fill_bench_rows(args: argparse.Namespace) -> int:
    from archive.benchrows import fill

    fill(args.rows, dbname=args.database, seed=args.seed, proprietary=args.proprietary)
    print(f"appended {args.rows} rows")
    return 0


def _holdings_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rebuild", action="store_true",
                   help="recount the summaries (holdings, the count summaries of archive/visible_counts.py) from every row "
                        "(writers wait meanwhile)")


@command("holdings", "print what the archive holds (the front page's summary); --rebuild it from the rows",
         _holdings_args)
def holdings(args: argparse.Namespace) -> int:
    from archive import visible_counts
    from archive.db import engine
    from archive.holdings import rebuild

    if args.rebuild:
        with engine("owner").begin() as conn:
            print(f"holdings recounted: {rebuild(conn)} summary row(s)")
            for summary, rows in visible_counts.rebuild(conn).items():
                print(f"{summary} recounted: {rows} summary row(s)")
    with engine("owner").connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT telescope, instrument, sum(public_files), sum(coalesce(proprietary_files, 0)) "
            "FROM lick.public_holdings GROUP BY 1, 2 ORDER BY 1, 2").all()
    for telescope, instrument, public, proprietary in rows:
        print(f"{telescope:8s} {instrument:22s} {public or 0:>10,} public {proprietary:>10,} proprietary")
    return 0


def _reapply_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--night", help="only this observing night (YYYY-MM-DD)")
    p.add_argument("--telescope", choices=("Shane", "Nickel", "APF"), help="only this telescope")


@command("reapply-access", "decide access again from the stored rows, e.g. after a schedule change",
         _reapply_args)
def reapply_access(args: argparse.Namespace) -> int:
    from datetime import date

    from ingest.pipeline import reapply_access as reapply

    try:
        night = date.fromisoformat(args.night) if args.night else None
    except ValueError:
        raise AdminError(f"--night must be a date like 2019-05-02, not '{args.night}'") from None
    print(f"access decided again for {reapply(night=night, telescope=args.telescope)} file(s)")
    return 0


def _failures_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--retry", action="store_true", help="ingest the failed files again")


@command("failures", "list files that could not be ingested, with the reason; --retry them", _failures_args)
def failures(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from archive.db import engine
    from archive.schema import ingest_failure
    from ingest.pipeline import batches, ingest_batch

    with engine("ingest").connect() as conn:
        rows = conn.execute(select(ingest_failure).order_by(ingest_failure.c.file_path)).all()
    for row in rows:
        print(f"{row.file_path}\t{row.attempts} attempt(s)\t{row.reason}")
    print(f"{len(rows)} failed file(s)")
    if args.retry and rows:
        from archive.config import get_settings

        root = get_settings().archive_root
        for batch in batches([root / r.file_path for r in rows]):
            print("retry: " + ingest_batch(batch, root=root, force=True).summary())
    return 0


def _translate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", help="the ADQL query (use quotes), or - to read it from standard input")
    p.add_argument("--parse-only", action="store_true",
                   help="check the query against ADQL 2.1 alone (grammar and types), knowing no table")
    p.add_argument("--maxrec", type=int, help="apply this MAXREC, as /tap/sync would")


@command("translate-adql", "print the SQL an ADQL query translates to, or its error", _translate_args)
def translate_adql(args: argparse.Namespace) -> int:
    from vo_services.tap.adql import AdqlError, check, translate
    from vo_services.tap.catalog import catalog

    text = sys.stdin.read() if args.query == "-" else args.query
    try:
        if args.parse_only:
            print(check(text))
        else:
            print(translate(text, catalog(), maxrec=args.maxrec).sql)
    except AdqlError as exc:
        print(f"lick-admin: ADQL error: {exc}", file=sys.stderr)
        return 1
    return 0


def _registry_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="only check, print no records")


@command("coverage", "compute the sky coverage (MOCs, sky picture) of the public rows now")
def coverage(args: argparse.Namespace) -> int:
    from archive.coverage.refresh import refresh

    print(refresh().summary())
    return 0


@command("registry", "print the publishing registry's VOResource records and check them "
         "(IVOA schemas, Registry of Registries rules)", _registry_args)
def registry(args: argparse.Namespace) -> int:
    _setup_django()
    from lxml import etree

    from archive.config import get_settings
    from vo_services.registry.checks import registry_problems
    from vo_services.registry.state import datestamp, synchronise
    from vo_services.registry.validation import SchemaFilesMissing

    settings = get_settings()
    # Read-only: printing the records must not move their dates; the next harvest does that.
    entries = synchronise(settings, write=False)
    resources = [e.record.stamped(datestamp(e.created), datestamp(e.updated)) for e in entries if e.record]
    if not args.quiet:
        for resource in resources:
            print(etree.tostring(resource, pretty_print=True, encoding="unicode"))
    for entry in entries:
        if entry.deleted:
            print(f"withdrawn (served as deleted since {datestamp(entry.updated)}): {entry.identifier}")
    try:
        problems = registry_problems(resources, settings.public_url)
    except SchemaFilesMissing as exc:
        raise AdminError(str(exc)) from None
    for problem in problems:
        print(f"lick-admin: registry: {problem}", file=sys.stderr)
    print(f"{len(resources)} records, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")
    parser = argparse.ArgumentParser(prog="lick-admin", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, arguments, help_text) in COMMANDS.items():
        arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command][0](args)
    except AdminError as exc:
        print(f"lick-admin: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lick-admin: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
