"""A small world of proprietary data for the auth and leak tests: two programs, their users, and
real FITS files in their proprietary period whose bytes carry a marker.

- ``alice`` observes for program LEAKA, which owns three files (OBJECT = 'LEAKSECRET-n'),
  released a year from now, at RA 321.5, Dec -45.
- ``bob`` observes for LEAKB, which owns nothing here; ``carol`` is archive staff.
- One public file sits at the same place ('LEAKPUBLIC'), so that every search finds something.

Each caller has a personal token; alice and bob have passwords. Rows and users are committed
(the live server must see them) and removed afterwards.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from archive.db import engine
from ingest.pipeline import ingest_batch
from tests.ingest.samples import load_samples, write_fits

MARKER = b"LEAKSECRET"
PASSWORDS = {"alice": "alice-Sees-LEAKA-42", "bob": "bob-Sees-LEAKB-42"}
RA, DEC = 321.5, -45.0
NIGHT_DIR = "2003-03/03/shane"


@dataclass
class World:
    secret_ids: list[str]
    public_id: str
    files: dict[str, Path]
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str | None) -> dict[str, str]:
        """Django test-client keyword arguments that authenticate as ``who`` (None: anonymous)."""
        return {} if who is None else {"HTTP_AUTHORIZATION": f"Bearer {self.tokens[who]}"}

    def http_headers(self, who: str | None) -> dict[str, str]:
        return {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}


def _cards_with_object(cards: bytes, value: str) -> bytes:
    out = bytearray(cards)
    for i in range(0, len(cards), 80):
        if cards[i:i + 8] == b"OBJECT  ":
            out[i:i + 80] = f"OBJECT  = '{value}'".ljust(80).encode()
    return bytes(out)


def build(root: Path) -> World:
    sample = next(s for s in load_samples() if s.key == "kast_red_1")
    names = {f"leak{i}": f"LEAKSECRET-{i}" for i in range(1, 4)} | {"leakpub": "LEAKPUBLIC"}
    paths = {stem: write_fits(root / NIGHT_DIR / f"{stem}.fits", _cards_with_object(sample.cards, target),
                              sample.data_size(), end=not sample.has_end)
             for stem, target in names.items()}
    report = ingest_batch(list(paths.values()), root=root)
    assert not report.failed, report.failed
    ids = {stem: f"{NIGHT_DIR}/{stem}" for stem in paths}
    secret = [ids[f"leak{i}"] for i in range(1, 4)]
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("INSERT INTO lick.program (program_id, title) VALUES ('LEAKA', 'secret'), "
                             "('LEAKB', 'other') ON CONFLICT DO NOTHING")
        conn.exec_driver_sql("INSERT INTO lick.program_observer (program_id, observer) VALUES "
                             "('LEAKA', 'alice'), ('LEAKB', 'bob') ON CONFLICT DO NOTHING")
        for n, obs_id in enumerate([*secret, ids["leakpub"]]):
            conn.exec_driver_sql(
                "UPDATE lick.observation SET target_name = %s, frame_type = 'science', s_ra = %s, s_dec = %s, "
                "pos = spoint(radians(%s), radians(%s)), t_exptime = 4242.5, "
                "obs_release_date = now() + interval '1 year' WHERE obs_id = %s",
                (names[obs_id.rsplit("/", 1)[1]], RA + n * 0.001, DEC, RA + n * 0.001, DEC, obs_id))
        conn.exec_driver_sql("UPDATE lick.observation SET obs_release_date = now() - interval '1 day' "
                             "WHERE obs_id = %s", (ids["leakpub"],))
        conn.exec_driver_sql("DELETE FROM lick.access_grant WHERE observation_id IN "
                             "(SELECT id FROM lick.observation WHERE obs_id LIKE %s)", (f"{NIGHT_DIR}/%",))
        conn.exec_driver_sql("INSERT INTO lick.access_grant (observation_id, principal, reason) "
                             "SELECT id, 'program:LEAKA', 'test' FROM lick.observation WHERE obs_id = ANY(%s)",
                             (secret,))
    world = World(secret, ids["leakpub"], {ids[s]: p for s, p in paths.items()})
    world.tokens = make_users()
    return world


def make_users(known_tokens: dict[str, str] | None = None) -> dict[str, str]:
    """The three users, each with a token (the given ones, so that a world outlives a flush)."""
    from django.contrib.auth.models import User

    from vo_services.accounts import tokens
    from vo_services.accounts.models import ApiToken

    made = {}
    for name in ("alice", "bob", "carol"):
        User.objects.filter(username=name).delete()
        user = User(username=name, is_staff=name == "carol")
        if name in PASSWORDS:
            user.set_password(PASSWORDS[name])
        else:
            user.set_unusable_password()
        user.save()
        if known_tokens:
            made[name] = known_tokens[name]
            ApiToken.objects.create(user=user, name="tests", digest=tokens.digest(made[name]), prefix="lick_")
        else:
            made[name] = tokens.issue(user, "tests")[1]
    return made


def ensure_users(world: World) -> None:
    """Transactional tests end with a flush of Django's tables: bring the users back."""
    from django.contrib.auth.models import User

    if User.objects.filter(username__in=("alice", "bob", "carol")).count() != 3:
        make_users(world.tokens)


def tear_down(root: Path) -> None:
    from django.contrib.auth.models import User

    User.objects.filter(username__in=("alice", "bob", "carol")).delete()
    shutil.rmtree(root / NIGHT_DIR.split("/")[0], ignore_errors=True)
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("DELETE FROM lick.observation WHERE obs_id LIKE %s", (f"{NIGHT_DIR}/%",))
        conn.exec_driver_sql("DELETE FROM lick.program WHERE program_id IN ('LEAKA', 'LEAKB')")
