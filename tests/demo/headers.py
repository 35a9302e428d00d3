"""Reading generated files back the way the archive's instrument readers do."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from astropy.io import fits

END_CARD = b"END".ljust(80)


def header(path: Path) -> fits.Header:
    """The primary header, read with the repairs the ingest path needs for the demo's quirks.

    astropy cannot parse a card with a NUL inside its string value (``VerifyError``, even after
    ``verify('silentfix')``), so NULs become blanks first; a header without END runs to the end
    of the file (astropy's ``ignore_missing_end`` reads it the same way).
    """
    raw = path.read_bytes()
    end = next((i + 80 for i in range(0, len(raw), 80) if raw[i:i + 80] == END_CARD), len(raw))
    return fits.Header.fromstring(raw[:end].replace(b"\0", b" ").decode("ascii"))


def fits_files(root: Path) -> list[Path]:
    return sorted(root.glob("*/*/*/*.fits"))


def instrument(path: Path, hdr: fits.Header) -> str:
    directory = path.parent.name
    if directory == "AO":
        return "ShaneAO/ShARCS"
    if "VERSION" not in hdr:  # the KAST program, before NEWCAM
        return {"blue": "Kast Blue", "red": "Kast Red"}[hdr["SPSIDE"].strip()]
    version = str(hdr["VERSION"]).strip("' ")
    return {"kastb": "Kast Blue", "kastr": "Kast Red", "nickel_direct": "Nickel Direct",
            "nickel_spectrograph": "Nickel Spectrograph", "apf": "APF Levy"}[version]


def _on(hdr: fits.Header, keys: str) -> bool:
    return any(str(hdr.get(f"LAMPSTA{k}", "")).strip() in ("on", "True") for k in keys)


def frame_type(path: Path, hdr: fits.Header) -> str:
    """The frame type by the old archive's rules, written out here apart from ingest's."""
    name = instrument(path, hdr)
    obj = str(hdr.get("OBJECT", "")).strip().lower()
    if name.startswith("Kast"):
        if not any(key.startswith("LAMPSTA") for key in hdr):
            for word in ("flat", "dark", "arc", "bias"):
                if word in obj:
                    return word
            return "science"
        if hdr["EXPTIME"] <= 1:
            return "bias"
        if _on(hdr, "12345"):
            return "flat"
        if _on(hdr, "ABCDEFGHIJK") and hdr["EXPTIME"] <= 61:
            return "arc"
        return "science"
    if name == "ShaneAO/ShARCS":
        if str(hdr.get("FILT2NAM", "")).strip() == "Blank25":
            return "dark"
        if str(hdr.get("CALYNAM", "")).strip() in ("Red Light", "Argon"):
            return "arc"
        return "flat" if _on(hdr, "12345") else "science"
    if name.startswith("Nickel"):
        exptime = float(hdr["EXPTIME"])
        if str(hdr["OBSTYPE"]).strip() == "DARK":
            return "bias" if exptime == 0 else "dark"
        if "bias" in obj:
            return "bias" if exptime == 0 else "flat"
        for word, kind in (("flat", "flat"), ("lamp", "arc"), ("hg", "arc"), ("focus", "focus")):
            if word in obj:
                return kind
        return "science"
    label = obj.replace(" ", "")
    for words, kind in ((("bias",), "bias"), (("dark",), "dark"),
                        (("wideflat", "narrowflat", "iodine"), "flat"), (("thar",), "arc")):
        if label in words:
            return kind
    return "science"


def start_time(hdr: fits.Header) -> datetime:
    value = hdr.get("DATE-BEG") or hdr["DATE-OBS"]
    return datetime.fromisoformat(str(value).strip())


def observing_night(moment: datetime) -> date:
    """Noon-to-noon in UTC-8."""
    return (moment - timedelta(hours=8) - timedelta(hours=12)).date()
