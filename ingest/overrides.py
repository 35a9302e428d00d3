"""Override files: an observer's or admin's per-night corrections to the access rules (rule 1).

A night's instrument directory may hold ``override.access`` or ``override.N.access`` files; only
the highest-numbered one counts. Each line is one of::

    <glob> access <name> [<name> ...] | public | all-observers
    <glob> obstype <frame type>

matched against file names; the first matching line of each kind wins. ``#`` starts a comment.
An ``obstype`` line corrects the frame type, and the other rules then apply to the corrected type;
an ``access`` line decides access outright. A line that cannot be parsed makes the whole file an
error, which fails closed for the files of that directory.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

from archive.schema import FRAME_TYPES
from ingest.layout import OVERRIDE_FILE



class OverrideError(ValueError):
    """An override file that cannot be read or parsed."""


@dataclass(frozen=True)
class OverrideLine:
    pattern: str
    kind: str  # 'access' or 'obstype'
    values: tuple[str, ...]

    def matches(self, file_name: str) -> bool:
        return fnmatch.fnmatchcase(file_name, self.pattern)


def parse_override(text: str, source: str = "override.access") -> list[OverrideLine]:
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if len(words) < 3 or words[1] not in ("access", "obstype"):
            raise OverrideError(f"{source} line {number}: expected '<glob> access|obstype <value>'")
        if words[1] == "obstype" and (len(words) != 3 or words[2] not in FRAME_TYPES):
            raise OverrideError(f"{source} line {number}: obstype must be one of {', '.join(FRAME_TYPES)}")
        lines.append(OverrideLine(words[0], words[1], tuple(words[2:])))
    return lines


def override_file(directory: Path) -> Path | None:
    """The override file in force in ``directory``: the highest-numbered one."""
    try:
        names = [(int(m.group(1) or 0), name) for name in os.listdir(directory)
                 if (m := OVERRIDE_FILE.match(name))]
    except OSError:
        return None
    return directory / max(names)[1] if names else None


class Overrides:
    """Override lines per directory, read once for the life of this object.

    An object serves one ingest batch (one transaction), so that every file of the batch is
    judged by the same override files, and a directory is listed once for the batch rather than
    once for each of its files (bulk ingest spent most of its time listing night directories).
    A changed override file applies from the next batch.
    """

    def __init__(self, root: Path):
        self.root = root
        self._cache: dict[str, list[OverrideLine]] = {}

    def lines_for(self, rel_dir: str) -> list[OverrideLine]:
        lines = self._cache.get(rel_dir)
        if lines is None:
            path = override_file(self.root / rel_dir)
            try:
                lines = parse_override(path.read_text(errors="replace"), path.name) if path else []
            except OSError as exc:
                raise OverrideError(f"cannot read {path}: {exc.strerror}") from None
            self._cache[rel_dir] = lines
        return lines

    def first(self, file_path: str, kind: str) -> OverrideLine | None:
        """The first line of ``kind`` that matches the file, in the file's directory's overrides."""
        rel_dir, _, name = file_path.rpartition("/")
        return next((line for line in self.lines_for(rel_dir)
                     if line.kind == kind and line.matches(name)), None)
