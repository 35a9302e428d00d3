"""One night on one telescope, as the observers would have spent it.

Calibrations in the afternoon (biases, dome flats, arcs, with the lamps on), sky flats and focus
frames in twilight where the instrument needs them, then science until morning twilight on
targets that are actually up at Lick, and a last arc or flat at dawn. Times only ever increase.
"""
from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from archive.demo.exposure import Exposure
from archive.demo.instruments import CalStep, Setup
from archive.demo.schedule import Slot
from archive.demo.sky import (
    BENCHMARK_FIELD,
    LICK_LATITUDE,
    Target,
    altitude,
    local_sidereal_hours,
    sun_times,
)


def _spelling(name: str, rng: random.Random) -> str:
    """Observers type 'Feige 110', 'feige110' or 'FEIGE110' for the same star."""
    return rng.choice((name, name, name.replace(" ", ""), name.lower().replace(" ", ""), name.upper()))


class _Sequence:
    """The growing list of a night's exposures and the clock that only moves forward."""

    def __init__(self, setup: Setup, night: date, slots: Sequence[Slot], rng: random.Random, start: datetime):
        self.setup, self.night, self.slots, self.rng, self.t = setup, night, slots, rng, start
        self.base = {**setup.idle, **setup.night_config(rng)}
        self.exposures: list[Exposure] = []

    def _who(self, moment: datetime) -> tuple[str, str]:
        for slot in self.slots:
            if slot.covers(moment):
                program = slot.program
                return program.observer_card, f"{program.program_id} [{program.cover_id}]"
        return self.setup.unscheduled_observer, "Engineering"

    def expose(self, frame_type: str, name: str, exptime: float, ra: float, dec: float,
               cards: Mapping[str, object], target: str | None = None) -> None:
        observer, program = self._who(self.t)
        self.exposures.append(Exposure(
            self.night, frame_type, name, self.t, exptime, ra, dec, observer, program, target,
            {**self.base, **cards}))
        self.t += timedelta(seconds=exptime + self.setup.readout * self.rng.uniform(0.9, 1.3))

    def calibrate(self, steps: Sequence[CalStep]) -> None:
        """Calibration blocks, pointed at the zenith (dome flats, lamps) with airmass 1."""
        for step in steps:
            name = self.rng.choice(step.objects)
            for _ in range(step.count):
                zenith_ra = local_sidereal_hours(self.t) * 15.0
                self.expose(step.frame_type, name, step.exptime, zenith_ra, LICK_LATITUDE, step.cards)
            self.t += timedelta(seconds=self.rng.uniform(30, 300))

    def observe(self, targets: Sequence[Target], until: datetime) -> None:
        """Visit targets that are up, a few exposures each, until ``until``."""
        setup, rng = self.setup, self.rng
        previous = None
        while self.t < until:
            later = self.t + timedelta(hours=1)
            up = [t for t in targets if t is not previous
                  and altitude(t.ra, t.dec, self.t) > 35 and altitude(t.ra, t.dec, later) > 30]
            if not up:
                self.t += timedelta(minutes=20)
                continue
            # The benchmark field is a favourite, so that cone searches around it find frames.
            weights = [6.0 if t is BENCHMARK_FIELD else 1.0 for t in up]
            target = previous = rng.choices(up, weights)[0]
            low, high = setup.exptimes[target.kind]
            exptime = round(rng.uniform(low, high), 2 if high <= 60 else 0)
            if exptime > 300:
                exptime = round(exptime, -1)
            self.t += timedelta(seconds=setup.acquire * rng.uniform(0.5, 1.5))
            name, cards = _spelling(target.name, rng), setup.visit_config(rng)
            for _ in range(rng.randint(*setup.visit)):
                if self.t + timedelta(seconds=exptime) > until:
                    return
                # Pointing jitter of a few arcseconds, as dithers and guiding leave it.
                dec = target.dec + rng.gauss(0, 3) / 3600
                ra = (target.ra + rng.gauss(0, 3) / 3600 / max(math.cos(math.radians(dec)), 0.05)) % 360
                self.expose("science", name, exptime, ra, dec, cards, target.name)


def plan_night(setup: Setup, night: date, slots: Sequence[Slot], targets: Sequence[Target],
               rng: random.Random) -> list[Exposure]:
    """Every exposure of the night, in time order."""
    sunset, sunrise = sun_times(night)
    seq = _Sequence(setup, night, slots, rng, sunset - timedelta(hours=rng.uniform(2.0, 3.0)))
    seq.calibrate(setup.afternoon)
    seq.t = max(seq.t, sunset + timedelta(minutes=10))
    seq.calibrate(setup.twilight)
    start = max(seq.t, sunset + timedelta(minutes=75))
    end = sunrise - timedelta(minutes=75)
    if rng.random() < 0.15:  # clouds: a late start or an early end
        start += timedelta(hours=rng.uniform(1, 4))
    elif rng.random() < 0.1:
        end -= timedelta(hours=rng.uniform(1, 3))
    seq.t = start
    observable = [t for t in targets if t.kind in setup.exptimes
                  and (t.year is None or night.year - 1 <= t.year <= night.year)]
    seq.observe(observable, end)
    seq.t = max(seq.t, sunrise - timedelta(minutes=45))
    seq.calibrate(setup.morning)
    return seq.exposures
