"""Throwaway PostgreSQL databases for tests, on the server of DATABASE_URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from pipeline.db.migrate import migrate

SERVER_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_database(*, migrated: bool = True) -> Iterator[str]:
    """Create a database with a random name, migrated unless told not to; yield its URL; drop it."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = urlunsplit(urlsplit(SERVER_URL)._replace(path="/" + name))
        if migrated:
            migrate(url)
        yield url
    finally:
        # FORCE: a test that failed may have left a connection open.
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _admin(statement: sql.Composable) -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(statement)
