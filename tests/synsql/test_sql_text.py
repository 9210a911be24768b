from trove_blocks.synsql.sql_text import normalize_sql


def test_whitespace_collapses_outside_quotes_only():
    sql = "SELECT  a,\n\t b\nFROM t\nWHERE s = 'two  spaces\n kept' AND \"my  col\" = `x  y` AND [p  q] = 1"
    assert normalize_sql(sql) == (
        "SELECT a, b FROM t WHERE s = 'two  spaces\n kept' AND \"my  col\" = `x  y` AND [p  q] = 1"
    )


def test_escaped_quotes_and_comments():
    assert normalize_sql("SELECT 'it''s   so'  ,  1") == "SELECT 'it''s   so' , 1"
    assert normalize_sql("SELECT a -- first   col\n  , b FROM t") == "SELECT a -- first   col\n, b FROM t"
    assert normalize_sql("SELECT /* a\n  b */  1") == "SELECT /* a\n  b */ 1"


def test_real_synsql_sql_keeps_its_literals():
    import json

    records = json.load(open("tests/data/text2sql/synsql_data_sample.json", encoding="utf-8"))
    for record in records:
        out = normalize_sql(record["sql"])
        assert "\n" not in out or "--" in out
        for literal in __import__("re").findall(r"'[^']*'", record["sql"]):
            assert literal in out


def test_single_dash_and_slash_and_unclosed_spans():
    assert normalize_sql("SELECT a  -  b  /  c\n FROM t") == "SELECT a - b / c FROM t"
    assert normalize_sql('SELECT "a""  b"   ,  [x  y') == 'SELECT "a""  b" , [x  y'
    assert normalize_sql("SELECT 'open   literal") == "SELECT 'open   literal"
    assert normalize_sql("SELECT 1  /* open   comment") == "SELECT 1 /* open   comment"
    assert normalize_sql("SELECT 1 --   last  \n") == "SELECT 1 --   last"


def test_fast_paths_equal_the_general_scan_fuzzed():
    import random

    from trove_blocks.synsql.sql_text import _normalize_spans

    rng = random.Random(5)
    alphabet = [
        "a",
        "b",
        " ",
        "  ",
        "\n",
        "\t",
        "\r\n",
        "\xa0",
        "'",
        "''",
        '"',
        '""',
        "`",
        "[",
        "]",
        "\x01",
        "é",
        "-",
        "--",
        "/",
        "x = ",
        "\n    ",
    ]
    for _ in range(100_000):
        sql = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert normalize_sql(sql) == _normalize_spans(sql), repr(sql)
