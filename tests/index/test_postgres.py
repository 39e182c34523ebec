"""The PostgreSQL store itself, on a real server: layout and rebuild of m, the schema made
once under concurrency, the plan of a search, connections, the Data API's requests."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from botocore.stub import Stubber

from imghash import Hash, InvalidRequest, Settings
from imghash._errors import IndexMissing, IndexUnavailable
from imghash.index import IndexRecord, PostgresStore, SearchService, open_store, store_from_settings
from imghash.index._pgschema import WIDE, Layout
from imghash.index._pgwire import Psycopg, psycopg_sql
from imghash.index._postgres import GET, PUT, masked, search_params, search_sql
from tests.index.test_store_search import answers, oracle, pdq_query, planted
from tests.pg import CLUSTER_ARN, DATABASE, SECRET_ARN


@pytest.fixture
def store(pg_url: str) -> Any:
    found = PostgresStore.connect(pg_url)
    yield found
    found.close()


@pytest.mark.parametrize(
    ("substrings", "widths"), [(3, (22, 21, 21)), (4, (16,) * 4), (5, (13, 13, 13, 13, 12))]
)
def test_layout_cuts_64_bits_most_significant_first(
    substrings: int, widths: tuple[int, ...]
) -> None:
    layout = Layout("hashes64", 64, substrings)
    assert layout.widths == widths
    value = 0x0123_4567_89AB_CDEF
    pieces = [(value >> s) & ((1 << w) - 1) for s, w in zip(layout.shifts, widths, strict=True)]
    rebuilt = 0
    for piece, width in zip(pieces, widths, strict=True):
        rebuilt = (rebuilt << width) | piece
    assert rebuilt == value


def test_the_wide_layout_cuts_256_bits_in_16_and_sql_agrees(pg_url: str) -> None:
    assert WIDE.widths == (16,) * 16
    value = int.from_bytes(bytes(range(1, 33)), "big")  # 0x0102...20: each piece differs
    pieces = [(value >> shift) & 0xFFFF for shift in WIDE.shifts]
    assert pieces == [int.from_bytes(bytes([2 * i + 1, 2 * i + 2]), "big") for i in range(16)]
    columns = ", ".join(WIDE.substring_sql(part) for part in range(16))
    sql = (
        f"SELECT {columns}, {WIDE.hex_sql('hash')}, {WIDE.distance_sql('hash', 'q')} "
        f"FROM (SELECT {WIDE.query_sql('h')} AS hash) AS t"
    )
    with psycopg.connect(pg_url, autocommit=True) as db:
        row = db.execute(
            psycopg_sql(sql),
            {"h": WIDE.query_param(Hash(value, 256)), "q": Hash(value ^ 0b1011, 256).hex()},
        ).fetchone()
    assert row is not None
    assert list(row[:16]) == pieces
    assert row[16] == Hash(value, 256).hex()
    assert row[17] == 3


@pytest.mark.parametrize(("layout", "k"), [(Layout("hashes64", 64, 4), 9), (WIDE, 31), (WIDE, 40)])
def test_probes_hold_every_value_within_the_radius(layout: Layout, k: int) -> None:
    query = int.from_bytes(bytes(range(7, 7 + layout.bits // 8)), "big")
    found = [{int(v) for v in p.strip("{}").split(",")} for p in layout.probes(query, k)]
    for part, values in enumerate(found):
        mine = (query >> layout.shifts[part]) & 0xFFFF
        radius = k // layout.substrings
        assert values == {v for v in range(1 << 16) if (v ^ mine).bit_count() <= radius}


def test_rebuild_changes_m_and_search_stays_exact(store: PostgresStore, pg_url: str) -> None:
    records, query = planted(seed=5, size=60)
    for record in records:
        store.put(record)
    service = SearchService(store)
    assert store.layout.substrings == 4
    for m in (3, 5, 4):
        assert store.rebuild(m).substrings == m
        for k in (0, 5, 10, 16):
            assert answers(service, query, k, None) == oracle(records, query, k, None), (m, k)
    store.rebuild(3)
    # A store told to use another m refuses, naming the command that changes it.
    other = PostgresStore.connect(pg_url, Settings(database_substrings=4))
    with pytest.raises(InvalidRequest, match="imghash rebuild --substrings 4"):
        other.get("b1", "a/0")
    other.close()
    same = PostgresStore.connect(pg_url, Settings(database_substrings=3))
    assert same.get("b1", "a/0") == records[0]
    same.close()


def test_a_new_database_takes_the_setting(pg_url: str) -> None:
    found = PostgresStore.connect(pg_url, Settings(database_substrings=3))
    assert found.layout.widths == (22, 21, 21)
    found.close()


def test_the_schema_is_made_once_by_concurrent_starts(pg_url: str) -> None:
    errors: list[BaseException] = []
    stores = [PostgresStore.connect(pg_url) for _ in range(4)]

    def start(found: PostgresStore) -> None:
        try:
            found.put(IndexRecord("b", f"k{id(found)}", "v", 1, "jimp", hashes={"phash": Hash(7)}))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(list(stores[0].scan())) == 4
    for found in stores:
        found.close()


def test_probes_are_index_only_scans_and_nothing_is_scanned_whole(
    store: PostgresStore, pg_url: str
) -> None:
    store.put(IndexRecord("b", "seed", "v", 1, "jimp", hashes={"phash": Hash(1)}))
    with psycopg.connect(pg_url, autocommit=True) as db:
        # 50,000 more records with random hashes, in SQL: quicker than one put each.
        db.execute(
            """INSERT INTO records (bucket, key, version, sequencer, size, profile, indexed_at,
                                    low_information)
               SELECT 'b', 'k' || i, 'v', '', 1, 'jimp', '', false
               FROM generate_series(1, 50000) AS i"""
        )
        db.execute(
            """INSERT INTO hashes64 (id, space, hash)
               SELECT r.id, s.id, ('x' || left(md5(r.key), 16))::bit(64)::bigint
               FROM records r, hash_spaces s WHERE s.profile = 'jimp' AND s.algorithm = 'phash'
               AND r.key <> 'seed'"""
        )
        db.execute("VACUUM ANALYZE")
        query = Hash.from_hex("4edbd88c49eaf808")
        params: dict[str, Any] = {
            "profile": "jimp",
            "algorithm": "phash",
            "k": 10,
            "limit": 20,
        }
        params.update(search_params(store.layout, [query], 10))
        plan = "\n".join(
            row[0] for row in db.execute(psycopg_sql("EXPLAIN " + search_sql(store.layout)), params)
        )
    for part in range(1, 5):
        assert f"Index Only Scan using hashes64_s{part} on hashes64" in plan, plan
    assert "Seq Scan on hashes64" not in plan, plan
    assert "Seq Scan on records" not in plan, plan


def test_pdq_probes_are_index_only_scans_of_sixteen_substrings(
    store: PostgresStore, pg_url: str
) -> None:
    store.put(IndexRecord("b", "seed", "v", 1, "jimp", hashes={"pdq": Hash(1, 256)}))
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute(
            """INSERT INTO records (bucket, key, version, sequencer, size, profile, indexed_at,
                                    low_information)
               SELECT 'b', 'k' || i, 'v', '', 1, 'jimp', '', false
               FROM generate_series(1, 60000) AS i"""
        )
        db.execute(
            """INSERT INTO hashes256 (id, space, hash, quality)
               SELECT r.id, s.id, ('x' || md5(r.key) || md5(r.key || '!'))::bit(256), 90
               FROM records r, hash_spaces s WHERE s.profile = 'jimp' AND s.algorithm = 'pdq'
               AND r.key <> 'seed'"""
        )
        db.execute("VACUUM ANALYZE")
        queries = [Hash(2**256 - 3, 256), Hash(7, 256)]  # a dihedral search's shape: several
        params: dict[str, Any] = {"profile": "jimp", "algorithm": "pdq", "k": 31, "limit": 20}
        params.update(search_params(WIDE, queries, 31))
        plan = "\n".join(
            row[0] for row in db.execute(psycopg_sql("EXPLAIN " + search_sql(WIDE, 2)), params)
        )
    for part in range(1, 17):  # each of the two queries' probes: 32 index-only scans
        assert plan.count(f"Index Only Scan using hashes256_s{part} on hashes256") == 2, plan
    assert "Seq Scan on hashes256" not in plan, plan
    assert "Seq Scan on records" not in plan, plan


def test_a_database_made_before_pdq_gains_its_table(pg_url: str) -> None:
    """An index made before PDQ (no hashes256, no 256-bit spaces): a search opened
    read-only says how to upgrade it; the next writer adds the table, and the 64-bit
    records are untouched."""
    records, query = planted(seed=6, size=20)
    old = PostgresStore.connect(pg_url)
    for record in records:
        old.put(record)
    with psycopg.connect(pg_url, autocommit=True) as db:  # back to the schema before PDQ
        db.execute("DROP TABLE hashes256")
        db.execute("DELETE FROM index_layout WHERE hash_table = 'hashes256'")
        db.execute("DELETE FROM hash_spaces WHERE bits = 256")
    old.close()
    before = [(r.bucket, r.key, {"phash": r.hashes["phash"]}) for r in records if r.hashes]
    reader = PostgresStore.connect(pg_url, read_only=True)
    with pytest.raises(IndexMissing, match=r"predates PDQ.*imghash index --db URL"):
        reader.get("b1", "a/0")
    reader.close()
    writer = PostgresStore.connect(pg_url)
    assert [
        (r.bucket, r.key, {"phash": r.hashes["phash"]})
        for r in (writer.get(b, k) for b, k, _ in before)
        if r is not None
    ] == before
    for record in records:  # written again: now with PDQ
        writer.put(replace(record, version="v2"))
    service = SearchService(writer)
    wide = pdq_query(query)
    assert answers(service, wide, 31, None, "pdq") == oracle(records, wide, 31, None, "pdq")
    assert answers(service, query, 12, None) == oracle(records, query, 12, None)
    writer.close()


def test_a_database_made_before_fast_records_gains_its_column(pg_url: str) -> None:
    """An index made before fast-mode records (no ``fast`` column): a search opened
    read-only says how to upgrade it; the next writer adds the column, every record it
    held reads as exact, and a fast record keeps its mark."""
    records, _query = planted(seed=7, size=10)
    old = PostgresStore.connect(pg_url)
    for record in records:
        old.put(record)
    old.close()
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute("ALTER TABLE records DROP COLUMN fast")
    reader = PostgresStore.connect(pg_url, read_only=True)
    with pytest.raises(IndexMissing, match=r"predates fast-mode records.*imghash index --db"):
        reader.get("b1", "a/0")
    reader.close()
    writer = PostgresStore.connect(pg_url)
    assert [writer.get(r.bucket, r.key) for r in records] == records
    fast = replace(records[0], version="v2", fast=True)
    assert writer.put(fast)
    assert writer.get(fast.bucket, fast.key) == fast
    writer.close()
    reader = PostgresStore.connect(pg_url, read_only=True)
    assert reader.get(fast.bucket, fast.key) == fast
    reader.close()


def test_ties_are_ordered_by_code_point_whatever_the_server_collation() -> None:
    # The tests' server sorts by code point already (C.UTF-8, no ICU nor OS locales in
    # this build), so the property tests could not see a language-aware order; Aurora's
    # default (en_US.UTF-8) puts 'a' before 'Z'. Python's order is forced in the SQL.
    sql = search_sql(Layout("hashes64", 64, 4))
    assert 'ORDER BY f.distance, f.bucket COLLATE "C", f.key COLLATE "C"' in sql
    assert 'ORDER BY hits.distance, r.bucket COLLATE "C", r.key COLLATE "C"' in sql


def test_one_connection_is_kept_and_remade_when_lost(pg_url: str) -> None:
    executor = Psycopg(pg_url, reuse_one=True)
    first = executor.run("SELECT pg_backend_pid()").rows[0][0]
    assert executor.run("SELECT pg_backend_pid()").rows[0][0] == first  # kept
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    again = executor.run("SELECT pg_backend_pid() WHERE CAST(:x AS integer) = 1", {"x": 1}).rows[0][
        0
    ]
    assert again != first  # the lost connection was made again, the statement retried
    executor.close()


def test_a_lambda_keeps_one_connection(pg_url: str) -> None:
    settings = Settings.from_environ(
        {"IMGHASH_DATABASE_URL": pg_url, "AWS_LAMBDA_FUNCTION_NAME": "imghash-search"}
    )
    found = store_from_settings(settings)
    assert isinstance(found, PostgresStore)
    assert isinstance(found.executor, Psycopg)
    assert found.executor.reuse_one
    found.close()


def test_the_pool_serves_threads(store: PostgresStore) -> None:
    records, query = planted(seed=2, size=30)
    for record in records:
        store.put(record)
    expected = oracle(records, query, 12, None)
    results: list[Any] = []

    def search() -> None:
        results.append(answers(SearchService(store), query, 12, None))

    threads = [threading.Thread(target=search) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 6


def test_an_unreachable_server_is_a_clear_error(tmp_path: Any) -> None:
    url = f"postgresql://me:secret@/imghash?host={tmp_path}&connect_timeout=2"
    found = open_store(url)
    with pytest.raises(IndexUnavailable, match=r"postgresql://me:\*\*\*@") as caught:
        found.get("b", "k")
    assert "secret" not in str(caught.value)
    found.close()


def test_locations_choose_the_store(tmp_path: Any, pg_url: str) -> None:
    from imghash.index import SQLiteStore

    assert isinstance(open_store(str(tmp_path / "i.db")), SQLiteStore)
    found = open_store(pg_url)
    assert isinstance(found, PostgresStore)
    found.close()
    settings = Settings.from_environ(
        {"IMGHASH_DB": str(tmp_path / "i.db"), "IMGHASH_DATABASE_URL": pg_url}
    )
    assert settings.index_location == pg_url  # the URL wins over the file
    assert masked("postgresql://u:pw@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert masked("postgresql://u@h/d") == "postgresql://u@h/d"


def test_the_data_api_requests(rds_data: Any) -> None:
    """The request shapes, as the service receives them (botocore's Stubber checks them
    against the rds-data model): typed parameters, no arrays, the same named SQL."""
    settings = Settings(
        aurora_cluster_arn=CLUSTER_ARN, aurora_secret_arn=SECRET_ARN, aurora_database=DATABASE
    )
    store = PostgresStore.data_api(settings, client=rds_data, manage_schema=True)
    record = IndexRecord(
        "b", "k", "v1", 12, "jimp", sequencer="0001", hashes={"phash": Hash(2**63 + 5)}
    )
    assert store.put(record)  # the schema, then the write: served by the real server
    sent = rds_data.service.requests
    assert sent[-1]["sql"] == PUT
    assert {p["name"]: p["value"] for p in sent[-1]["parameters"]} == {
        "bucket": {"stringValue": "b"},
        "key": {"stringValue": "k"},
        "version": {"stringValue": "v1"},
        "sequencer": {"stringValue": "0001"},
        "size": {"longValue": 12},
        "profile": {"stringValue": "jimp"},
        "indexed_at": {"stringValue": record.indexed_at},
        "format": {"isNull": True},
        "width": {"isNull": True},
        "height": {"isNull": True},
        "low_information": {"booleanValue": False},
        "error": {"isNull": True},
        "error_message": {"isNull": True},
        "fast": {"booleanValue": False},
        "hashes": {"stringValue": "phash=8000000000000005"},
    }
    assert all(r["resourceArn"] == CLUSTER_ARN and r["secretArn"] == SECRET_ARN for r in sent)
    search = SearchService(store).search(
        Hash(2**63 + 4), algorithm="phash", max_distance=16, limit=None, profile="jimp"
    )
    assert search == ([record.match_dict(1)], 1)
    probes = {p["name"]: p["value"] for p in sent[-1]["parameters"]}
    assert probes["q1"] == {"longValue": Hash(2**63 + 4).signed}
    assert probes["limit"] == {"isNull": True}
    assert set(probes["p1"]) == {"stringValue"}  # an array literal, cast in the SQL

    # PDQ: the hash travels as hex text (no 256-bit number in the Data API), its quality
    # as a number, and eight queries of a dihedral search in one statement.
    wide = IndexRecord(
        "b", "w", "v1", 1, "jimp", hashes={"pdq": Hash(2**255 + 9, 256)}, quality={"pdq": 64}
    )
    assert store.put(wide)
    assert {p["name"]: p["value"] for p in sent[-1]["parameters"]}["hashes"] == {
        "stringValue": f"pdq={Hash(2**255 + 9, 256).hex()}=64"
    }
    assert store.get("b", "w") == wide
    eight = {f"o{n}": Hash(2**255 + (1 << n), 256) for n in range(8)}
    found = SearchService(store).search(
        eight, algorithm="pdq", max_distance=31, limit=None, profile="jimp"
    )
    assert found == ([wide.match_dict(1) | {"orientation": "o0"}], 2)
    probes = {p["name"]: p["value"] for p in sent[-1]["parameters"]}
    assert probes["q8"] == {"stringValue": eight["o7"].hex()}
    assert "q9" not in probes
    assert set(probes["p16_8"]) == {"stringValue"}  # each query's own probes
    assert "p17_1" not in probes

    # The same request through botocore's Stubber, which validates it against the model.
    stubbed = PostgresStore.data_api(settings, client=_client())
    stubbed._layout = store.layout  # the schema is there already
    with Stubber(stubbed.executor.client) as stub:  # type: ignore[attr-defined]
        stub.add_response(
            "execute_statement",
            {"records": [], "numberOfRecordsUpdated": 0},
            {
                "resourceArn": CLUSTER_ARN,
                "secretArn": SECRET_ARN,
                "database": DATABASE,
                "sql": GET,
                "parameters": [
                    {"name": "bucket", "value": {"stringValue": "b"}},
                    {"name": "key", "value": {"stringValue": "gone"}},
                ],
            },
        )
        assert stubbed.get("b", "gone") is None
        stub.assert_no_pending_responses()


def _client() -> Any:
    import boto3

    return boto3.client(
        "rds-data",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
