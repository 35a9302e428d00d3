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
    print(summary)
    return 0


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
