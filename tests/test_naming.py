from datetime import datetime, timezone

from pipeline.naming import archive_name, slugify


def test_slug_is_ascii_lowercase_and_safe_as_a_key_and_a_file_name():
    assert slugify("Logements vacants — Métropole de Lyon, relance été 2026") == "logements-vacants-metropole-de-lyon-relance-ete-2026"
    assert slugify("Cœur de ville : « Œuvre » n°2/3") == "coeur-de-ville-oeuvre-n2-3"
    assert slugify("../../etc/passwd?x=1#y") == "etc-passwd-x-1-y"
    assert slugify("Ωμέγα Кампания 李") == "campagne"
    assert slugify("") == "campagne"
    long = slugify("a" * 300)
    assert len(long) <= 80 and long == "a" * 80


def test_archive_name_is_the_utc_timestamp_then_the_slug():
    at = datetime(2026, 12, 4, 16, 5, 9, tzinfo=timezone.utc)
    assert archive_name("Relance 2026", at) == "20261204160509-relance-2026"
