"""The letters read back from the PDF: where each block lies, what it says, how it flows."""

from __future__ import annotations

import io
import subprocess

import pdfplumber
import pytest
from PIL import Image
from pypdf import PdfReader

from pipeline.images import load_images
from pipeline.letters import LetterTemplate, french_date, render_letters
from pipeline.models import CampaignBundle
from pipeline.storage import LocalStorage
from pipeline.sources.sample import install_sample_images

MM = 72 / 25.4  # PDF points per millimetre
WINDOW = (100, 45, 190, 90)  # x0, y0, x1, y1 of a DL/C5 envelope window, mm from the top left


@pytest.fixture
def storage(tmp_path):
    storage = LocalStorage(tmp_path)
    install_sample_images(storage)
    return storage


def render(bundle: CampaignBundle, storage) -> tuple[bytes, LetterTemplate, list[str]]:
    images = load_images(storage, bundle)
    template = LetterTemplate.build(bundle, images.images)
    out = io.BytesIO()
    render_letters(template, bundle.letter_housings(), out)
    return out.getvalue(), template, images.warnings


def letters_pages(pdf) -> list[list]:
    """Pages grouped by letter: a letter starts on a page with a recipient block."""
    letters = []
    for page in pdf.pages:
        if "À l'attention de" in (page.extract_text() or "") or not letters:
            letters.append([page])
        else:
            letters[-1].append(page)
    return letters


def words_mm(page):
    return [
        {**w, "x0": w["x0"] / MM, "x1": w["x1"] / MM, "top": w["top"] / MM, "bottom": w["bottom"] / MM}
        for w in page.extract_words(extra_attrs=["fontname", "size"])
    ]


def inside(word, box) -> bool:
    x0, y0, x1, y1 = box
    return x0 <= word["x0"] and word["x1"] <= x1 and y0 <= word["top"] and word["bottom"] <= y1


@pytest.fixture
def sample(sample_bundle, storage):
    bundle = CampaignBundle.model_validate(sample_bundle)
    data, template, warnings = render(bundle, storage)
    return bundle, data, template, warnings


def test_one_letter_per_owned_housing_in_campaign_order_each_numbered(sample):
    bundle, data, template, warnings = sample
    assert warnings == [] and template.warnings == []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        letters = letters_pages(pdf)
        assert len(letters) == len(bundle.letter_housings()) == 5
        for pages, housing in zip(letters, bundle.letter_housings()):
            assert len(pages) == 2  # the sample's body is long: it flows onto a second page
            for number, page in enumerate(pages, start=1):
                label = [w for w in words_mm(page) if w["text"] == f"{number}/2"]
                assert label and label[0]["top"] > 270 and label[0]["x1"] > 170, f"label {number}/2"
            first_text = pages[0].extract_text()
            assert housing.owner.full_name.split()[0] in first_text


def test_recipient_block_lies_inside_the_envelope_window(sample):
    bundle, data, _, _ = sample
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for pages, housing in zip(letters_pages(pdf), bundle.letter_housings()):
            words = words_mm(pages[0])
            expected = ["À", "l'attention", "de"] + housing.owner.full_name.split()
            for line in housing.owner.postal_lines():
                expected += line.split()
            window_words = [w["text"] for w in words if inside(w, WINDOW)]
            assert window_words == expected  # nothing else in the window, nothing of the block outside it


def test_blocks_never_overlap(sample):
    bundle, data, _, _ = sample
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for pages in letters_pages(pdf):
            first = pages[0]
            words = words_mm(first)
            sender = [w for w in words if w["top"] < 45]
            assert sender and all(w["x0"] >= 100 and w["bottom"] < 45 for w in sender)
            logos = [i for i in first.images if i["top"] / MM < 45]
            assert len(logos) == 2 and all(i["x1"] / MM < 100 for i in logos)
            body = [w for w in words if w["top"] > 90 and w["top"] < 275]
            assert body and min(w["top"] for w in body) > 90


def test_signatories_sit_side_by_side_at_the_bottom_right_of_each_letters_last_page(sample):
    _, data, _, _ = sample
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for pages in letters_pages(pdf):
            last = pages[-1]
            names = {w["text"]: w for w in words_mm(last) if w["text"] in ("Jean", "Martin", "Sophie", "Bernard")}
            assert set(names) == {"Jean", "Martin", "Sophie", "Bernard"}
            assert names["Jean"]["x0"] < names["Sophie"]["x0"] and abs(names["Jean"]["top"] - names["Sophie"]["top"]) < 0.5
            assert all(w["x0"] >= 89.9 and w["top"] > 200 for w in names.values())
            signatures = [i for i in last.images if i["top"] / MM > 200]
            assert len(signatures) == 2 and all(i["x0"] / MM >= 89.9 for i in signatures)
            for page in pages[:-1]:
                assert "Martin" not in page.extract_text()


def test_each_image_is_embedded_once_per_pdf(sample):
    _, data, _, _ = sample
    reader = PdfReader(io.BytesIO(data))
    images = {obj.idnum for page in reader.pages for obj in page["/Resources"].get("/XObject", {}).values()}
    assert len(images) == 4  # two logos, two signatures, over ten pages


def test_text_is_extractable_in_reading_order(sample, tmp_path):
    bundle, data, _, _ = sample
    path = tmp_path / "letters.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-f", "3", "-l", "3", str(path), "-"], capture_output=True, text=True, check=True).stdout
    owner = bundle.letter_housings()[1].owner
    expected = ["À l'attention de", owner.full_name, *owner.postal_lines()]
    lines = [line for line in text.splitlines() if line.strip()]
    start = lines.index(expected[0])
    assert lines[start : start + len(expected)] == expected


def test_body_html_is_reduced_to_what_a_letter_needs(sample):
    bundle, data, _, _ = sample
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        first = pdf.pages[0]
        text = first.extract_text()
        assert "alert(" not in "".join(p.extract_text() for p in pdf.pages)
        assert "• un diagnostic du logement" in text and "1. Répondez au questionnaire" in text
        assert "zerologementvacant.beta.gouv.fr" in text  # a link prints as its text
        words = words_mm(first)
        bold = {w["text"] for w in words if "Bold" in w["fontname"]}
        assert {"Marie-Hélène", "Lefèvre", "10", "000", "€", "Ce", "proposons"} <= bold
        italic = {w["text"] for w in words if "Oblique" in w["fontname"]}
        assert "2019." in italic or "2019" in italic


def test_all_twelve_variables_are_replaced_with_their_formats(sample):
    bundle, data, _, _ = sample
    housing = bundle.letter_housings()[0]
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = " ".join(pdf.pages[0].extract_text().split())
    for expected in (
        "Madame, Monsieur Marie-Hélène Lefèvre,",
        "3 RUE MERCIERE, 69002 LYON",
        "(appartement de 54,5 m², 3 pièces, construit en 1932) est vacant depuis 2019",
        f"référence {housing.local_id} (invariant {housing.invariant}, parcelle {housing.cadastral_reference}, identifiant {housing.plot_id}, étiquette énergie {housing.energy_consumption})",
        "À Lyon, le 4 décembre 2026",
        "Objet : Votre logement vacant au 3 RUE MERCIERE, 69002 LYON",
    ):
        assert expected in text
    assert "{{" not in text


def test_unknown_variable_is_left_out_and_warned(sample_bundle, storage):
    sample_bundle["draft"]["body"] = "<p>Bonjour {{owner.civility}} {{owner.fullName}}, {{ housing.nope }}fin.</p>"
    data, template, _ = render(CampaignBundle.model_validate(sample_bundle), storage)
    assert template.warnings == ["unknown variables left out of the letters: {{housing.nope}}, {{owner.civility}}"]
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert "Bonjour Marie-Hélène Lefèvre, fin." in pdf.pages[0].extract_text()


def test_any_script_prints_and_a_missing_glyph_is_replaced_visibly(sample_bundle, storage):
    owner = sample_bundle["housings"][0]["owner"]
    owner["fullName"] = "Ёлка Щукина Ωμέγα Œuvre ÉÇÀ 李小龍"
    data, template, _ = render(CampaignBundle.model_validate(sample_bundle), storage)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = pdf.pages[0].extract_text()
    assert "Ёлка Щукина Ωμέγα Œuvre ÉÇÀ \ufffd\ufffd\ufffd" in text
    assert any("character(s) the font cannot print" in w for w in template.warnings)


def test_french_dates():
    from datetime import date

    assert french_date(date(2026, 12, 4)) == "4 décembre 2026"
    assert french_date(date(2027, 2, 1)) == "1 février 2027"
    assert french_date(date(2027, 8, 15)) == "15 août 2027"


def big_png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    "content, reason",
    [
        (None, "is missing from storage"),
        (b"\x89PNG\r\n\x1a\n not really", "is not a readable image"),
        (big_png(6000, 5000), "more than 25 megapixels"),
        (b"\xff" * (10 * 1024 * 1024 + 1), "larger than 10 MB"),
    ],
)
def test_a_bad_image_leaves_its_place_empty_and_warns(sample_bundle, storage, content, reason):
    key = "sample/logo-metropole.png"
    if content is None:
        storage.delete_prefix(key)
    else:
        storage.put_bytes(key, content)
    data, _, warnings = render(CampaignBundle.model_validate(sample_bundle), storage)
    assert len(warnings) == 1 and warnings[0].startswith(f"logo 2 ({key}) ") and reason in warnings[0]
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert len([i for i in pdf.pages[0].images if i["top"] / MM < 45]) == 1
        assert len(letters_pages(pdf)) == 5


def test_long_names_and_addresses_wrap_inside_the_window(sample_bundle, storage):
    owner = sample_bundle["housings"][0]["owner"]
    owner["fullName"] = "Indivision " + " ".join(["Marie-Françoise de La Tour d’Auvergne-Lauraguais"] * 3)
    owner["additionalAddress"] = "Chez Maître Jean-Baptiste Lecœur, notaire associé, étude du Vieux-Port, 3ᵉ étage gauche"
    bundle = CampaignBundle.model_validate(sample_bundle)
    data, _, _ = render(bundle, storage)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        words = words_mm(pdf.pages[0])
    block = [w for w in words if 40 < w["top"] < 95 and w["x0"] > 100]
    assert all(inside(w, WINDOW) for w in block)
    text = " ".join(w["text"] for w in block)
    assert "Lauraguais" in text and "gauche" in text and "69003 Lyon" in text


def test_a_long_subject_wraps_left_aligned_not_justified(sample_bundle, storage):
    sample_bundle["draft"]["subject"] = "Votre logement vacant : un accompagnement pour le remettre sur le marché"
    data, _, _ = render(CampaignBundle.model_validate(sample_bundle), storage)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        words = words_mm(pdf.pages[0])
    objet = next(w for w in words if w["text"] == "Objet")
    line = sorted((w for w in words if abs(w["top"] - objet["top"]) < 0.5), key=lambda w: w["x0"])
    gaps = [b["x0"] - a["x1"] for a, b in zip(line, line[1:])]
    assert len(line) > 5 and max(gaps) < 1.4, gaps  # a space is 1.23 mm; a justified line stretches them
