"""The recipient list read back cell by cell."""

from __future__ import annotations

from openpyxl import load_workbook

from pipeline.models import CampaignBundle
from pipeline.spreadsheet import build_spreadsheet

HOUSING_HEADERS = [
    "Identifiant fiscal départemental", "Identifiant fiscal national", "Référence cadastrale",
    "Code INSEE commune du logement", "Adresse LOVAC du logement", "Adresse BAN du logement",
    "Adresse BAN du logement - Fiabilité", "Latitude", "Longitude", "Type de logement", "Surface",
    "Nombre de pièces", "Date de construction", "Date de début de vacance",
]
OWNER_HEADERS = [
    "Propriétaire", "Adresse LOVAC du propriétaire", "Adresse BAN du propriétaire",
    "Adresse BAN du propriétaire - Fiabilité", "Numéro", "Voie", "Code postal", "Commune",
    "Complément d'adresse du propriétaire",
]


def test_both_sheets_hold_the_reference_columns_with_typed_cells(sample_bundle, tmp_path):
    bundle = CampaignBundle.model_validate(sample_bundle)
    path = tmp_path / "r.xlsx"
    assert build_spreadsheet(bundle, path) == (6, 4)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Logements", "Propriétaires"]

    housings = workbook["Logements"]
    assert [c.value for c in housings[1]] == HOUSING_HEADERS + OWNER_HEADERS
    assert all(c.font.b for c in housings[1])
    assert housings.freeze_panes == "A2" and housings.auto_filter.ref == "A1:W7"
    assert housings.column_dimensions["E"].width >= 30
    assert [c.value for c in housings[2]] == [
        "691230000001", "691230000001", "000 AB 001", "69123", "3 RUE MERCIERE, 69002 LYON",
        "3 Rue Merciere 69002 Lyon", 0.9, 45.761, 4.831, "Appartement", 54.5, 3, 1932, 2019,
        "Marie-Hélène Lefèvre", "12 RUE DES LILAS, 69003 LYON", "12 Rue des Lilas 69003 Lyon", 0.97,
        "12", "Rue des Lilas", "69003", "Lyon", None,
    ]
    assert housings["C3"].value == "000 AB 002" and housings["O3"].value == "Œdipe Cœurderoy"
    assert housings["Q3"].value is None and housings["W3"].value == "Chez Mme Dubœuf"  # no BAN address
    assert [c.value for c in housings[4]][14:] == [None] * 9  # the housing without owner
    assert isinstance(housings["K2"].value, float) and isinstance(housings["L2"].value, int)
    assert isinstance(housings["M2"].value, int) and housings["M2"].data_type == "n"

    owners = workbook["Propriétaires"]
    assert [c.value for c in owners[1]] == OWNER_HEADERS and all(c.font.b for c in owners[1])
    assert owners.freeze_panes == "A2" and owners.auto_filter.ref == "A1:I5"
    names = [row[0] for row in owners.iter_rows(min_row=2, values_only=True)]
    # One row per distinct owner, although Marie-Hélène Lefèvre owns two housings.
    assert names == ["Marie-Hélène Lefèvre", "Œdipe Cœurderoy", "Γεώργιος Παπαδόπουλος", bundle.housings[5].owner.full_name]


def test_memory_stays_flat_with_the_row_count(sample_bundle, tmp_path):
    import tracemalloc

    def peak(rows: int) -> int:
        data = dict(sample_bundle, housings=[dict(sample_bundle["housings"][0], id=f"h{i}") for i in range(rows)])
        bundle = CampaignBundle.model_validate(data)
        tracemalloc.start()
        build_spreadsheet(bundle, tmp_path / f"{rows}.xlsx")
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(500), peak(5000)
    # Write-only mode streams rows to disk: ten times the rows must not take ten times the memory.
    assert large < small * 3, (small, large)
