"""The recipient list (XLSX): "Logements" and "Propriétaires", in the reference's columns.

Written in openpyxl's write-only mode, row by row, so memory does not grow
with the campaign's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .models import CampaignBundle, Housing, Owner

Column = tuple[str, int, Callable]  # header, width, value

HOUSING_KINDS = {"APPART": "Appartement", "MAISON": "Maison"}


def _lines(lines: list[str]) -> str:
    return ", ".join(line.strip() for line in lines if line and line.strip())


OWNER_COLUMNS: list[tuple[str, int, Callable[[Owner], object]]] = [
    ("Propriétaire", 30, lambda o: o.full_name),
    ("Adresse LOVAC du propriétaire", 40, lambda o: _lines(o.raw_address)),
    ("Adresse BAN du propriétaire", 40, lambda o: o.ban_address.label if o.ban_address else None),
    ("Adresse BAN du propriétaire - Fiabilité", 14, lambda o: o.ban_address.score if o.ban_address else None),
    ("Numéro", 8, lambda o: o.ban_address.house_number if o.ban_address else None),
    ("Voie", 30, lambda o: o.ban_address.street if o.ban_address else None),
    ("Code postal", 11, lambda o: o.ban_address.postal_code if o.ban_address else None),
    ("Commune", 22, lambda o: o.ban_address.city if o.ban_address else None),
    ("Complément d'adresse du propriétaire", 30, lambda o: o.additional_address),
]

HOUSING_COLUMNS: list[tuple[str, int, Callable[[Housing], object]]] = [
    ("Identifiant fiscal départemental", 18, lambda h: h.local_id),
    ("Identifiant fiscal national", 18, lambda h: h.invariant),
    ("Référence cadastrale", 16, lambda h: h.cadastral_reference),
    ("Code INSEE commune du logement", 12, lambda h: h.geo_code),
    ("Adresse LOVAC du logement", 40, lambda h: _lines(h.raw_address)),
    ("Adresse BAN du logement", 40, lambda h: h.ban_address.label if h.ban_address else None),
    ("Adresse BAN du logement - Fiabilité", 14, lambda h: h.ban_address.score if h.ban_address else None),
    ("Latitude", 11, lambda h: h.latitude),
    ("Longitude", 11, lambda h: h.longitude),
    ("Type de logement", 14, lambda h: HOUSING_KINDS.get((h.housing_kind or "").upper(), h.housing_kind)),
    ("Surface", 9, lambda h: h.living_area),
    ("Nombre de pièces", 9, lambda h: h.rooms_count),
    ("Date de construction", 12, lambda h: h.building_year),
    ("Date de début de vacance", 12, lambda h: h.vacancy_start_year),
]

HOUSING_SHEET = "Logements"
OWNER_SHEET = "Propriétaires"


def _sheet(workbook: Workbook, title: str, headers: list[tuple[str, int]], rows: Iterable[list]):
    sheet = workbook.create_sheet(title)
    # Layout must be set before the first row in write-only mode.
    sheet.freeze_panes = "A2"
    for index, (_, width) in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header_cells = []
    for name, _ in headers:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        sheet.append(row)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    return count


def build_spreadsheet(bundle: CampaignBundle, out: Path) -> tuple[int, int]:
    """Write the XLSX; returns (housing rows, owner rows)."""
    workbook = Workbook(write_only=True)
    housing_headers = [(name, width) for name, width, _ in HOUSING_COLUMNS + OWNER_COLUMNS]

    def housing_rows():
        for housing in bundle.housings:
            row = [value(housing) for _, _, value in HOUSING_COLUMNS]
            owner = housing.owner
            row += [value(owner) if owner else None for _, _, value in OWNER_COLUMNS]
            yield row

    def owner_rows():
        for owner in bundle.distinct_owners():
            yield [value(owner) for _, _, value in OWNER_COLUMNS]

    housings = _sheet(workbook, HOUSING_SHEET, housing_headers, housing_rows())
    owners = _sheet(workbook, OWNER_SHEET, [(n, w) for n, w, _ in OWNER_COLUMNS], owner_rows())
    workbook.save(out)
    return housings, owners
