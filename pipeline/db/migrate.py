"""Apply the schema migrations (migrations/*.sql, in name order) that a database lacks.

Applied names are recorded in `schema_migrations`. Each file runs in its own
transaction, so a failing one leaves no half-made schema and is retried on the
next run; a migration file must therefore not hold BEGIN/COMMIT itself.

    python -m pipeline.db.migrate [DATABASE_URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Any constant works, as long as nothing else in the database takes this
# advisory lock: it is "campmail" in ASCII.
LOCK_KEY = 0x63616D706D61696C


def migrate(database_url: str) -> list[str]:
    """Apply the pending migrations; return their names (empty when up to date)."""
    applied: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        # Several workers may start at once: the lock makes them take turns, and
        # the ones after the first find everything recorded. It is released
        # when the connection closes, whatever happens.
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {name for (name,) in conn.execute("SELECT name FROM schema_migrations")}
        for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
            if path.name in done:
                continue
            with conn.transaction():
                # Without parameters psycopg sends the file as one simple query,
                # which may hold many statements.
                conn.execute(path.read_text(encoding="utf-8"))
                conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (path.name,))
            applied.append(path.name)
    return applied


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args:
        database_url = args[0]
    else:
        from ..settings import get_settings

        database_url = get_settings().database_url
    applied = migrate(database_url)
    print("applied: " + ", ".join(applied) if applied else "up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
