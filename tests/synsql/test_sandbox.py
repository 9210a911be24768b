import sqlite3

import pytest

from trove_blocks.synsql.sandbox import DatabasePool, execute_sql, open_read_only


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "shop" / "shop.sqlite"
    path.parent.mkdir()
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)")
    connection.executemany("INSERT INTO item VALUES (?, ?)", [(i, f"n{i}") for i in range(50)])
    connection.commit()
    connection.close()
    return path


def test_reads_run_and_count_rows(database):
    result = execute_sql(open_read_only(database), "WITH x AS (SELECT * FROM item) SELECT count(*) FROM x", 2)
    assert result.ok and result.rows == 1


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO item VALUES (99, 'x')",
        "UPDATE item SET name = 'y'",
        "DROP TABLE item",
        "ATTACH DATABASE ':memory:' AS other",
        "PRAGMA journal_mode = WAL",
        "CREATE TEMP TABLE t (a)",
    ],
)
def test_writes_attach_and_pragma_are_refused(database, sql):
    assert execute_sql(open_read_only(database), sql, 2).reason == "sql_not_read_only"
    check = sqlite3.connect(database)
    assert check.execute("SELECT count(*) FROM item").fetchone() == (50,)


def test_slow_query_hits_the_time_limit(database):
    endless = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r"
    assert execute_sql(open_read_only(database), endless, 0.2).reason == "sql_timeout"


def test_errors_and_missing_databases(database):
    pool = DatabasePool(database.parent.parent, size=1)
    assert pool.run("shop", "SELECT nope FROM item", 1).reason == "sql_error"
    assert pool.run("shop", "SELECT 1; SELECT 2", 1).reason == "sql_error"
    assert pool.run("other", "SELECT 1", 1).reason == "database_missing"
    assert pool.run("shop", "SELECT name FROM item", 1).rows == 50
    pool.close()
