"""Synthetic but realistic Lick data for demonstrations and tests.

:func:`generate_demo` writes FITS files in the archive's directory layout for Kast (blue and red),
the Nickel direct camera and spectrograph, ShaneAO/ShARCS and the APF, with headers rendered from
real header samples, plus the observing schedule that decides who may see them. Run it as
``python -m archive.demo --root DIR --files 2000 --seed 42``.

Speed, measured on the development machine (2 cores, shared with other jobs): 20,000 files
(about 520 MB, two thirds of it headers) in 21-30 s on one core; a second run over the same tree,
which only compares bytes, in about 18 s.
"""
from archive.demo.generate import QUIRKS, DemoSummary, generate_demo

__all__ = ["QUIRKS", "DemoSummary", "generate_demo"]
