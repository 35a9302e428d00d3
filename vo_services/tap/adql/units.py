"""IN_UNIT (ADQL 2.1 §4.9): VOUnit parsing and conversion factors, with astropy.units."""
from __future__ import annotations

import warnings


class UnitError(ValueError):
    """A unit that cannot be parsed, or a conversion that cannot be made."""


def parse(text: str):
    """The astropy unit of a VOUnit string; :class:`UnitError` if it is not one."""
    from astropy import units

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated-but-valid VOUnits still convert
        try:
            return units.Unit(text, format="vounit")
        except ValueError:
            raise UnitError(f"'{text}' is not a VOUnit") from None


def factor(source, target) -> float:
    """The number to multiply a value in ``source`` by to express it in ``target``."""
    from astropy import units

    try:
        return float(source.to(target))
    except units.UnitConversionError:
        raise UnitError(f"a value in {source.to_string('vounit')} cannot be converted to "
                        f"{target.to_string('vounit')}") from None
