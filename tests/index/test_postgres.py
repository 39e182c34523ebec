"""The PostgreSQL store itself, on a real server: layout and rebuild of m, the schema made
once under concurrency, the plan of a search, connections, the Data API's requests."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from botocore.stub import Stubber

from imghash import Hash, InvalidRequest, Settings
from imghash._errors import IndexUnavailable
from imghash.index import IndexRecord, PostgresStore, SearchService, open_store, store_from_settings
from imghash.index._pgschema import Layout
from imghash.index._pgwire import Psycopg, psycopg_sql
from imghash.index._postgres import GET, PUT, masked, search_sql
from tests.index.test_store_search import answers, oracle, planted
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


def test_probes_hold_every_value_within_the_radius() -> None:
    layout = Layout("hashes64", 64, 4)
    query = 0xFFFF_0000_1234_8000
    probes = [{int(v) for v in p.strip("{}").split(",")} for p in layout.probes(query, 9)]
    for part, found in enumerate(probes):
        mine = (query >> layout.shifts[part]) & 0xFFFF
        expected = {v for v in range(1 << 16) if (v ^ mine).bit_count() <= 2}
        assert found == expected


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
            "q": query.signed,
            "k": 10,
            "limit": 20,
        }
        for part, probes in enumerate(store.layout.probes(query.value, 10)):
            params[f"p{part + 1}"] = probes
        plan = "\n".join(
            row[0] for row in db.execute(psycopg_sql("EXPLAIN " + search_sql(store.layout)), params)
        )
    for part in range(1, 5):
        assert f"Index Only Scan using hashes64_s{part} on hashes64" in plan, plan
    assert "Seq Scan on hashes64" not in plan, plan
    assert "Seq Scan on records" not in plan, plan


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
        "hashes": {"stringValue": "phash=8000000000000005"},
    }
    assert all(r["resourceArn"] == CLUSTER_ARN and r["secretArn"] == SECRET_ARN for r in sent)
    search = SearchService(store).search(
        Hash(2**63 + 4), algorithm="phash", max_distance=16, limit=None, profile="jimp"
    )
    assert search == ([record.match_dict(1)], 1)
    probes = {p["name"]: p["value"] for p in sent[-1]["parameters"]}
    assert probes["q"] == {"longValue": Hash(2**63 + 4).signed}
    assert probes["limit"] == {"isNull": True}
    assert set(probes["p1"]) == {"stringValue"}  # an array literal, cast in the SQL

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
