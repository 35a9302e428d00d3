"""The front page's content: holdings per instrument and year, the last night, service recipes.

Counts come from the summary the database keeps as rows are written (``lick.public_holdings``,
archive/holdings.py), read as the query role: one small aggregate, whatever the table's size.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from vo_services.results.query import run_query


@dataclass
class Instrument:
    telescope: str
    name: str
    public: int = 0
    proprietary: int = 0
    bytes: int = 0
    first_year: int | None = None
    last_year: int | None = None


@dataclass
class Holdings:
    """Public files per (instrument, year), and how many more are still proprietary there."""

    instruments: list[Instrument] = field(default_factory=list)
    years: list[int] = field(default_factory=list)  # newest first
    cells: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)  # (year, column) -> (public, proprietary)

    @property
    def public(self) -> int:
        return sum(i.public for i in self.instruments)

    @property
    def proprietary(self) -> int:
        return sum(i.proprietary for i in self.instruments)

    def rows(self) -> list[tuple[int, list[tuple[int, int] | None]]]:
        """The year-by-instrument table, for the template."""
        return [(year, [self.cells.get((year, col)) for col in range(len(self.instruments))])
                for year in self.years]


def holdings() -> Holdings:
    rows = run_query("SELECT telescope, instrument, year, coalesce(public_files, 0), coalesce(public_bytes, 0), "
                     "coalesce(proprietary_files, 0) FROM lick.public_holdings ORDER BY telescope, instrument, year")
    result = Holdings()
    columns: dict[tuple[str, str], int] = {}
    for telescope, name, year, public, size, proprietary in rows:
        col = columns.setdefault((telescope, name), len(columns))
        if col == len(result.instruments):
            result.instruments.append(Instrument(telescope, name))
        inst = result.instruments[col]
        inst.public += public
        inst.proprietary += proprietary
        inst.bytes += size
        inst.first_year = year if inst.first_year is None else min(inst.first_year, year)
        inst.last_year = year if inst.last_year is None else max(inst.last_year, year)
        result.cells[(year, col)] = (public, proprietary)
    result.years = sorted({year for year, _ in result.cells}, reverse=True)
    return result


@dataclass(frozen=True)
class LastNight:
    night: date
    instruments: list[tuple[str, str, int, int]]  # telescope, instrument, files, public files

    @property
    def files(self) -> int:
        return sum(i[2] for i in self.instruments)

    @property
    def public(self) -> int:
        return sum(i[3] for i in self.instruments)


def last_night() -> LastNight | None:
    rows = run_query("SELECT night, telescope, instrument, files, public_files FROM lick.last_night "
                     "ORDER BY telescope, instrument")
    if not rows:
        return None
    return LastNight(rows[0][0], [tuple(r[1:]) for r in rows])


def night_query(night: date) -> str:
    """ADQL for the public files of one observing night (lick.observations shows it as a timestamp)."""
    return f"SELECT * FROM lick.observations WHERE observing_night = '{night.isoformat()}'"


def tap_sync_url(base: str, adql: str) -> str:
    """A TAP sync URL (TAP 1.1 §2.3.1) that a SAMP hub or a browser can fetch as it is."""
    return f"{base}/tap/sync?" + urlencode({"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "votable",
                                            "QUERY": adql})


def recipes(base: str) -> list[tuple[str, str, str]]:
    """Copy-paste recipes: (tool, language for the code block, text), with this server's URL."""
    return [
        ("TOPCAT", "text",
         f"VO → Table Access Protocol (TAP) Query → TAP URL: {base}/tap\n"
         "then, e.g.: SELECT TOP 100 * FROM ivoa.obscore WHERE instrument_name = 'Kast Red'\n"
         f"or VO → Cone Search → Cone Search URL: {base}/scs?"),
        ("Aladin", "text",
         f"File → Open → Others → TAP → enter the TAP server {base}/tap\n"
         "or load a query's VOTable directly: File → Open → URL:\n"
         + tap_sync_url(base, "SELECT TOP 1000 * FROM ivoa.obscore WHERE dataproduct_type = 'image'")),
        ("pyvo", "python",
         "import pyvo\n"
         f"tap = pyvo.dal.TAPService(\"{base}/tap\")\n"
         "rows = tap.search(\"SELECT TOP 10 obs_id, target_name, t_exptime, access_url FROM ivoa.obscore \"\n"
         "                  \"WHERE instrument_name = 'Kast Red' ORDER BY t_min DESC\").to_table()\n"
         f"cone = pyvo.dal.SCSService(\"{base}/scs\").search(pos=(83.63, 22.01), radius=0.5)\n"
         "# proprietary data: log in first (a token from /auth/)\n"
         "# session = requests.Session(); session.headers['Authorization'] = 'Bearer lick_...'\n"
         f"# tap = pyvo.dal.TAPService(\"{base}/tap\", session=session)"),
        ("astroquery", "python",
         "from astroquery.utils.tap.core import TapPlus\n"
         f"lick = TapPlus(url=\"{base}/tap\")\n"
         "job = lick.launch_job(\"SELECT TOP 10 * FROM ivoa.obscore WHERE dataproduct_type = 'image'\")\n"
         "print(job.get_results())\n"
         "# async, for long queries:\n"
         "job = lick.launch_job_async(\"SELECT instrument_name, count(*) FROM ivoa.obscore GROUP BY instrument_name\")"),
    ]
