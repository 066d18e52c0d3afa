"""Fill the schema with one realistic campaign, for tests, demos and load runs.

The data has what real campaigns have and the letters must cope with: accented,
"œ" and hyphenated names, owners whose address BAN did not match, additional
address lines, housings without owner, owners of several housings, co-owners
(rank 2, who get no letter). Values are deterministic for a given seed; ids
are fresh UUIDs so a database can hold several seeded campaigns.

    python -m pipeline.db.seed HOUSINGS [--seed N] [--establishment-id UUID] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import unicodedata
import uuid
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import psycopg

FIRST_NAMES = [
    "Jean", "Marie", "Hélène", "Éric", "Stéphanie", "François", "Françoise", "Jérôme", "Loïc", "Zoé",
    "Noël", "Gaëlle", "Anaïs", "Joël", "Cécile", "Benoît", "Océane", "Chloé", "Léa", "Maël", "Inès",
    "Raphaël", "Agnès", "Thérèse", "Ophélie", "Gérard", "Michèle", "André", "Solène", "Timothée",
    "Jean-Pierre", "Marie-Thérèse", "Anne-Sophie", "Jean-François", "Pierre-Étienne", "Marie-Hélène",
]
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Lefèvre", "Lemaître", "Girard", "Rousseau", "Mercier", "Chevalier",
    "Fournier", "Bonnet", "Faure", "Gauthier", "Guérin", "Boucher", "Lacôte", "Béranger", "Périer",
    "Lœuillet", "Cœurdacier", "Bœuf", "Œhmichen", "Sœurin", "Vœltzel",
    "Martin-Lavigne", "Durand-Ruel", "Leroy-Beaulieu", "Saint-Exupéry", "Pérez-Gómez", "Le Bihan",
]
COMPANY_NAMES = ["SCI Les Érables", "SCI du Clos Saint-Éloi", "SCI Œillets & Cie", "SARL Immobilière Bréhat"]
STREETS = [
    "Rue de la République", "Rue Victor-Hugo", "Avenue Jean-Jaurès", "Place de l'Église", "Rue des Écoles",
    "Boulevard Gambetta", "Rue du Général-de-Gaulle", "Chemin des Œillets", "Impasse des Hêtres",
    "Rue Pasteur", "Allée des Peupliers", "Quai Saint-Éloi", "Rue de la Poste", "Route de Bâle",
    "Rue Émile-Zola", "Rue Jules-Ferry", "Rue du Château-d'Eau", "Avenue de la Libération",
]
ADDITIONAL_LINES = [
    "Bâtiment B", "Appartement 12", "Résidence Les Œillets", "Escalier C, 3e étage", "Chez M. Durand",
    "Lieu-dit Les Bruyères", "BP 42",
]
# (city, postal code, INSEE code, latitude, longitude)
CITIES = [
    ("Paris", "75011", "75111", 48.859, 2.379),
    ("Lyon", "69003", "69383", 45.760, 4.850),
    ("Marseille", "13005", "13205", 43.292, 5.398),
    ("Toulouse", "31000", "31555", 43.604, 1.444),
    ("Nantes", "44000", "44109", 47.218, -1.553),
    ("Bordeaux", "33000", "33063", 44.838, -0.579),
    ("Lille", "59000", "59350", 50.629, 3.057),
    ("Strasbourg", "67000", "67482", 48.583, 7.746),
    ("Rennes", "35000", "35238", 48.111, -1.680),
    ("Saint-Étienne", "42000", "42218", 45.440, 4.387),
    ("Besançon", "25000", "25056", 47.238, 6.024),
    ("Nîmes", "30000", "30189", 43.837, 4.360),
    ("Orléans", "45000", "45234", 47.903, 1.909),
    ("Périgueux", "24000", "24322", 45.184, 0.721),
    ("Châteauroux", "36000", "36044", 46.811, 1.691),
    ("Guéret", "23000", "23096", 46.171, 1.871),
    ("Mâcon", "71000", "71270", 46.307, 4.828),
    ("Épinal", "88000", "88160", 48.173, 6.451),
    ("Évreux", "27000", "27229", 49.027, 1.151),
    ("Ajaccio", "20000", "2A004", 41.927, 8.737),
]
DPE_LETTERS = "ABCDEFG"
DPE_WEIGHTS = [2, 5, 12, 25, 25, 18, 13]

BODY = """\
<p>Madame, Monsieur {{owner.fullName}},</p>
<p>Selon les données fiscales, votre logement situé <strong>{{housing.rawAddress}}</strong>
(référence cadastrale {{housing.cadastralReference}}) est vacant depuis
<strong>{{housing.vacancyStartYear}}</strong>.</p>
<p>Ce bien, <em>{{housing.housingKind}}</em> de {{housing.livingArea}} et {{housing.roomsCount}} pièces
construit en {{housing.buildingYear}}, a l’étiquette énergétique <strong>{{housing.energyConsumption}}</strong>.
Pour le remettre sur le marché, la collectivité met en œuvre un accompagnement gratuit :</p>
<ul>
<li>une visite et un diagnostic de votre logement ;</li>
<li>des aides à la rénovation énergétique, jusqu’à 10 000 € selon vos ressources ;</li>
<li>une mise en relation avec des professionnels de la gestion locative.</li>
</ul>
<p>Pour en savoir plus, contactez-nous en rappelant la référence « {{housing.localId}} ».</p>
<p>Nous vous prions d’agréer, Madame, Monsieur, l’expression de nos salutations distinguées.</p>
"""


@dataclass(frozen=True)
class SeededCampaign:
    campaign_id: str
    establishment_id: str
    housing_count: int
    letter_count: int  # housings with a primary owner
    owner_count: int  # distinct primary owners


def seed(database_url: str, housings: int, *, seed: int = 1, establishment_id: str | None = None) -> SeededCampaign:
    """Insert one campaign of exactly `housings` housings, in one transaction."""
    if housings < 0:
        raise ValueError("housings must be >= 0")
    rng = random.Random(seed)
    establishment_id = str(uuid.UUID(establishment_id)) if establishment_id else str(uuid.uuid4())
    # The establishment is a town: its housings are there, their owners anywhere.
    home = rng.choice(CITIES)
    housing_rows = [_housing(rng, home) for _ in range(housings)]
    ownerless = round(housings * 0.05)
    with_owner = housing_rows[ownerless:]
    owner_rows = [_owner(rng) for _ in range(round(len(with_owner) / 1.5))]
    links = []
    for i, housing in enumerate(with_owner):
        # Every owner gets one housing, the rest are spread: ~1.5 housings each.
        owner = owner_rows[i] if i < len(owner_rows) else rng.choice(owner_rows)
        links.append((housing[0], owner[0], 1))
    co_owners = [_owner(rng) for _ in range(round(len(with_owner) * 0.15))]
    for co_owner, housing in zip(co_owners, rng.sample(with_owner, len(co_owners))):
        links.append((housing[0], co_owner[0], 2))
    order = list(housing_rows)
    rng.shuffle(order)  # ownerless housings and an owner's housings land anywhere in the campaign

    campaign_id = uuid.uuid4()
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        _insert_campaign(cur, rng, campaign_id, establishment_id, home)
        _copy(cur, "owners", OWNER_COLUMNS, owner_rows + co_owners)
        _copy(cur, "housings", HOUSING_COLUMNS, housing_rows)
        _copy(cur, "campaign_housings", ("campaign_id", "housing_id", "position"),
              [(campaign_id, h[0], position) for position, h in enumerate(order, 1)])
        _copy(cur, "owners_housings", ("housing_id", "owner_id", "rank"), links)
    return SeededCampaign(
        campaign_id=str(campaign_id),
        establishment_id=establishment_id,
        housing_count=housings,
        letter_count=len(with_owner),
        owner_count=len(owner_rows),
    )


def _copy(cur: psycopg.Cursor, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_campaign(cur: psycopg.Cursor, rng: random.Random, campaign_id, establishment_id: str, home) -> None:
    city, postal_code, *_ = home
    year = 2026
    cur.execute(
        "INSERT INTO campaigns (id, establishment_id, title, description, status)"
        " VALUES (%s, %s, %s, %s, 'sending')",
        (
            campaign_id,
            establishment_id,
            f"Relance des propriétaires – {city} {year}",
            f"Logements vacants depuis plus de deux ans à {city} et alentours (données LOVAC {year}).",
        ),
    )
    sender_id = uuid.uuid4()
    domain = unicodedata.normalize("NFKD", city).encode("ascii", "ignore").decode().lower()
    cur.execute(
        "INSERT INTO senders (id, name, service, first_name, last_name, address, email, phone)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            sender_id,
            f"Ville {_of(city)}",
            "Service habitat et rénovation",
            rng.choice(FIRST_NAMES),
            rng.choice(LAST_NAMES),
            f"Hôtel de ville, 1 place de la Mairie, {postal_code} {city}",
            f"habitat@{domain}.fr",
            _phone(rng),
        ),
    )
    cur.executemany(
        "INSERT INTO signatories (sender_id, rank, first_name, last_name, role) VALUES (%s, %s, %s, %s, %s)",
        [
            (sender_id, 1, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), f"Maire {_of(city)}"),
            (sender_id, 2, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), "Adjointe chargée du logement"),
        ],
    )
    cur.execute(
        "INSERT INTO drafts (id, campaign_id, subject, body, written_at, written_from, sender_id)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            uuid.uuid4(),
            campaign_id,
            "Votre logement vacant : un accompagnement pour le remettre sur le marché",
            BODY,
            date(year, 1, 5) + timedelta(days=rng.randrange(300)),
            city,
            sender_id,
        ),
    )


OWNER_COLUMNS = (
    "id", "full_name", "raw_address", "ban_label", "ban_house_number", "ban_street", "ban_postal_code",
    "ban_city", "ban_score", "additional_address", "birth_date", "email", "phone", "kind",
)


def _owner(rng: random.Random) -> tuple:
    city, postal_code, _, _, _ = rng.choice(CITIES)
    number, street = str(rng.randint(1, 180)), rng.choice(STREETS)
    if rng.random() < 0.06:
        full_name, kind, birth_date = rng.choice(COMPANY_NAMES), "SCI, Copropriété, Autres personnes morales", None
    else:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        # LOVAC writes most names "LAST First"; some arrive the other way round.
        full_name = f"{last.upper()} {first}" if rng.random() < 0.7 else f"{first} {last}"
        kind = "Particulier"
        birth_date = date(1935, 1, 1) + timedelta(days=rng.randrange(60 * 365))
    raw_address = [f"{number} {street.upper()}", f"{postal_code} {city.upper()}"]
    if rng.random() < 0.1:
        ban = (None,) * 6  # the BAN did not match: letters use rawAddress
    else:
        label = f"{number} {street} {postal_code} {city}"
        ban = (label, number, street, postal_code, city, round(rng.uniform(0.45, 0.99), 2))
    additional = rng.choice(ADDITIONAL_LINES) if rng.random() < 0.1 else None
    email = f"proprietaire{rng.randrange(10**6)}@example.fr" if rng.random() < 0.3 else None
    phone = _phone(rng) if rng.random() < 0.3 else None
    return (uuid.uuid4(), full_name, raw_address, *ban, additional, birth_date, email, phone, kind)


HOUSING_COLUMNS = (
    "id", "invariant", "local_id", "raw_address", "geo_code", "plot_id", "cadastral_reference", "housing_kind",
    "living_area", "rooms_count", "building_year", "vacancy_start_year", "energy_consumption", "latitude",
    "longitude", "ban_label", "ban_score",
)


def _housing(rng: random.Random, where) -> tuple:
    city, postal_code, insee, lat, lon = where
    number, street = str(rng.randint(1, 180)), rng.choice(STREETS)
    # The fiscal ids: a 10-character invariant (commune, number, key letter),
    # and the national local id prefixed by the département.
    invariant = f"{insee[2:]}{rng.randrange(10**6):06d}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}"
    section, parcel = "".join(rng.choices("ABCDEHKLMNOPRSTXYZ", k=2)), rng.randint(1, 2500)
    kind = "APPART" if rng.random() < 0.62 else "MAISON"
    area = rng.randint(14, 120) if kind == "APPART" else rng.randint(45, 240)
    built = None if rng.random() < 0.1 else rng.randint(1850, 2015)
    ban_matched = rng.random() >= 0.08
    return (
        uuid.uuid4(),
        invariant,
        insee[:2] + invariant,
        [f"{number} {street.upper()}", f"{postal_code} {city.upper()}"],
        insee,
        f"{insee}000{section}{parcel:04d}",
        f"{section} {parcel:04d}",
        kind,
        area,
        max(1, min(9, round(area / 22 + rng.uniform(-1, 1)))),
        built,
        rng.randint(max(2005, (built or 0) + 1), 2024),
        rng.choices(DPE_LETTERS, DPE_WEIGHTS)[0] if rng.random() < 0.85 else None,
        round(lat + rng.uniform(-0.03, 0.03), 6),
        round(lon + rng.uniform(-0.03, 0.03), 6),
        f"{number} {street} {postal_code} {city}" if ban_matched else None,
        round(rng.uniform(0.5, 0.99), 2) if ban_matched else None,
    )


def _of(city: str) -> str:
    return f"d’{city}" if unicodedata.normalize("NFKD", city)[0] in "AEIOUY" else f"de {city}"


def _phone(rng: random.Random) -> str:
    return f"0{rng.choice('1234567')} " + " ".join(f"{rng.randrange(100):02d}" for _ in range(4))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.db.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("housings", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--establishment-id")
    parser.add_argument("--database-url", help="default: DATABASE_URL")
    args = parser.parse_args(argv)
    if args.database_url is None:
        from ..settings import get_settings

        args.database_url = get_settings().database_url
    from .migrate import migrate

    migrate(args.database_url)
    seeded = seed(args.database_url, args.housings, seed=args.seed, establishment_id=args.establishment_id)
    print(json.dumps(asdict(seeded)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
