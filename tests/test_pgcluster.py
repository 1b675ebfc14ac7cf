"""The test PostgreSQL server starts, takes connections and has the extensions the bot uses."""

from __future__ import annotations

import psycopg


def test_fresh_database_answers_and_has_extensions(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT 1 + 1").fetchone() == (2,)
        names = {row[0] for row in conn.execute("SELECT name FROM pg_available_extensions")}
        assert {"unaccent", "pg_trgm"} <= names
        conn.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        assert conn.execute("SELECT unaccent('Sở Tài chính')").fetchone() == ("So Tai chinh",)


def test_each_test_gets_its_own_database(pg_cluster, pg_url: str) -> None:
    other = pg_cluster.database()
    assert other != pg_url
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE only_here (x int)")
    with psycopg.connect(other, autocommit=True) as conn:
        count = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'"
                             ).fetchone()
        assert count == (0,)
