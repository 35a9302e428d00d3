"""The demo generator as a whole: layout, size, determinism, idempotency, quirks, CLI."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from archive.demo import QUIRKS, generate_demo
from archive.demo.__main__ import main
from tests.demo.conftest import DEMO_FILES
from tests.demo.headers import fits_files, header, observing_night, start_time

FILE_NAMES = {
    "shane": re.compile(r"[br][0-9]+\.fits"),
    "nickel": re.compile(r"(d|spec)[0-9]+\.fits"),
    "AO": re.compile(r"s[0-9]{4}\.fits"),
    "APF": re.compile(r"uc[a-z]*-[a-z]{3}[0-9]+\.fits"),
}


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_exact_file_count_and_every_instrument(demo):
    assert demo.files == DEMO_FILES == len(fits_files(demo.root))
    assert set(demo.counts) == {"Kast Blue", "Kast Red", "Nickel Direct", "Nickel Spectrograph",
                                "ShaneAO/ShARCS", "APF Levy"}
    assert demo.total_bytes == sum(p.stat().st_size for p in fits_files(demo.root))


def test_layout_is_month_day_instrument_file(demo):
    for path in fits_files(demo.root):
        month, day, directory, name = path.relative_to(demo.root).parts
        assert re.fullmatch(r"20[0-9]{2}-[01][0-9]", month) and re.fullmatch(r"[0-3][0-9]", day)
        assert FILE_NAMES[directory].fullmatch(name), path


def test_directory_date_is_the_observing_night(demo_headers):
    stale_dates = 0
    for path, hdr, _, _ in demo_headers:
        night = date.fromisoformat(f"{path.parts[-4]}-{path.parts[-3]}")
        assert observing_night(start_time(hdr)) == night, path
        stale_dates += path.parent.name == "AO"
    assert stale_dates  # ShARCS frames are among those checked (they need DATE-BEG)


def test_several_years_of_nights(demo):
    years = {night.year for _, night in demo.nights}
    assert len(years) >= 3
    assert {telescope for telescope, _ in demo.nights} == {"Shane", "Nickel", "APF"}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    first = generate_demo(tmp_path / "a", seed=3, files=150)
    generate_demo(tmp_path / "b", seed=3, files=150)
    generate_demo(tmp_path / "c", seed=4, files=150)
    a, b, c = (_tree(tmp_path / name) for name in "abc")
    assert first.files == 150 and a == b
    assert a != c


def test_second_run_rewrites_nothing(tmp_path):
    generate_demo(tmp_path, seed=5, files=120)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    again = generate_demo(tmp_path, seed=5, files=120)
    assert again.written == 0 and again.unchanged == 120
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == before


def test_file_time_is_the_readout_time(demo):
    for path in [p for p in fits_files(demo.root) if p.name.startswith("d")][:50]:
        end = datetime.fromisoformat(header(path)["DATE-END"]).replace(tzinfo=timezone.utc)
        assert abs(path.stat().st_mtime - end.timestamp() - 2) < 0.01


def test_size_by_nights(tmp_path):
    summary = generate_demo(tmp_path, seed=9, nights=4)
    assert len(summary.nights) == 4 and summary.files > 4 * 20


def test_quirk_rate_one_gives_a_quirk_per_file_and_corrupt_is_off(tmp_path):
    summary = generate_demo(tmp_path, seed=2, files=90, quirk_rate=1.0)
    assert sum(len(v) for v in summary.quirks.values()) == 90
    assert set(summary.quirks) == set(QUIRKS)


def test_corrupt_files_only_on_request(tmp_path):
    summary = generate_demo(tmp_path, seed=2, files=60, corrupt_rate=0.5)
    assert 10 < len(summary.quirks["corrupt"]) < 50


def test_main_prints_a_summary(tmp_path, capsys):
    assert main(["--root", str(tmp_path), "--files", "40", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "40 files" in out and "schedule" in out
    assert len(fits_files(tmp_path)) == 40
