"""``python -m archive.demo``: write a demo archive and print what was written."""
from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from archive.demo.generate import DEFAULT_START, DEFAULT_YEARS, generate_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archive.demo", description=__doc__)
    parser.add_argument("--root", type=Path, help="archive root (default: LICK_ARCHIVE_ROOT)")
    parser.add_argument("--seed", type=int, default=42)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--files", type=int, help="exact number of files")
    size.add_argument("--nights", type=int, help="number of telescope-nights with data")
    parser.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START, help="first night, YYYY-MM-DD")
    parser.add_argument("--years", type=int, default=DEFAULT_YEARS, help="length of the calendar")
    parser.add_argument("--quirk-rate", type=float, default=0.01, help="share of files with real-world defects")
    parser.add_argument("--corrupt-rate", type=float, default=0.0, help="share of unreadable files")
    args = parser.parse_args(argv)
    root = args.root
    if root is None:
        from archive.config import get_settings
        root = get_settings().archive_root
    began = time.perf_counter()
    summary = generate_demo(root, seed=args.seed, nights=args.nights, files=args.files, start=args.start,
                            years=args.years, quirk_rate=args.quirk_rate, corrupt_rate=args.corrupt_rate)
    print(summary.report())
    print(f"in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
