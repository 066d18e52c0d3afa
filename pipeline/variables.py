"""The `{{...}}` variables of a letter body, and their French formats."""

from __future__ import annotations

import re
from collections.abc import Callable

from .models import Housing, Owner

VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

HOUSING_KINDS = {"APPART": "appartement", "MAISON": "maison"}


def _number(value: float | int | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}".replace(".", ",")


def _text(value) -> str:
    return "" if value is None else str(value)


FORMATS: dict[str, Callable[[Housing, Owner], str]] = {
    "owner.fullName": lambda h, o: o.full_name,
    "housing.rawAddress": lambda h, o: ", ".join(line.strip() for line in h.raw_address if line and line.strip()),
    "housing.localId": lambda h, o: _text(h.local_id),
    "housing.invariant": lambda h, o: _text(h.invariant),
    "housing.cadastralReference": lambda h, o: _text(h.cadastral_reference),
    "housing.plotId": lambda h, o: _text(h.plot_id),
    "housing.housingKind": lambda h, o: HOUSING_KINDS.get((h.housing_kind or "").upper(), _text(h.housing_kind).lower()),
    "housing.livingArea": lambda h, o: f"{_number(h.living_area)} m²" if h.living_area is not None else "",
    "housing.roomsCount": lambda h, o: _text(h.rooms_count),
    "housing.buildingYear": lambda h, o: _text(h.building_year),
    "housing.vacancyStartYear": lambda h, o: _text(h.vacancy_start_year),
    "housing.energyConsumption": lambda h, o: _text(h.energy_consumption),
}


def unknown_variables(text: str) -> set[str]:
    return {name for name in VARIABLE.findall(text) if name not in FORMATS}


def replace_variables(text: str, housing: Housing, owner: Owner) -> str:
    """Fill the known variables; an unknown one is left out (the caller warns once per job)."""

    left_out = False

    def value(match: re.Match) -> str:
        nonlocal left_out
        fmt = FORMATS.get(match.group(1))
        if fmt is None:
            left_out = True
            return ""
        return fmt(housing, owner)

    filled = VARIABLE.sub(value, text)
    # "Bonjour {{unknown}} Marie" must not print a double space.
    return re.sub(r" {2,}", " ", filled) if left_out else filled
