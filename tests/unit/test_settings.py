"""Settings are read from a mapping in one place, typed, with documented defaults."""

from __future__ import annotations

import pytest

from imghash import InvalidRequest, Settings


def test_defaults() -> None:
    s = Settings.from_environ({})
    assert s == Settings()
    assert (s.max_bytes, s.max_pixels, s.max_frames) == (20_000_000, 50_000_000, 1000)
    assert s.fetch_timeout == 10.0
    assert s.allow_private_urls is False
    assert s.api_keys == frozenset()


def test_every_variable_is_read() -> None:
    s = Settings.from_environ(
        {
            "IMGHASH_MAX_BYTES": "1_000",
            "IMGHASH_MAX_PIXELS": "2000",
            "IMGHASH_MAX_FRAMES": "3",
            "IMGHASH_FETCH_TIMEOUT": "2.5",
            "IMGHASH_ALLOW_PRIVATE_URLS": "1",
            "IMGHASH_API_KEYS": " k1, k2 ,,",
        }
    )
    assert (s.max_bytes, s.max_pixels, s.max_frames, s.fetch_timeout) == (1000, 2000, 3, 2.5)
    assert s.allow_private_urls is True
    assert s.api_keys == {"k1", "k2"}


def test_batch_limits() -> None:
    s = Settings.from_environ({})
    assert (s.max_batch_bytes, s.batch_fetch_seconds, s.batch_seconds) == (6_000_000, 15.0, 24.0)
    s = Settings.from_environ(
        {
            "IMGHASH_MAX_BATCH_BYTES": "2_000_000",
            "IMGHASH_BATCH_FETCH_SECONDS": "0",
            "IMGHASH_BATCH_SECONDS": "1.5",
        }
    )
    assert (s.max_batch_bytes, s.batch_fetch_seconds, s.batch_seconds) == (2_000_000, 0.0, 1.5)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("IMGHASH_MAX_BATCH_BYTES", "100", "below the minimum"),
        ("IMGHASH_BATCH_SECONDS", "-1", "below the minimum"),
        ("IMGHASH_MAX_BYTES", "lots", "not a whole number"),
        ("IMGHASH_MAX_PIXELS", "0", "below the minimum"),
        ("IMGHASH_FETCH_TIMEOUT", "soon", "not a number"),
        ("IMGHASH_FETCH_TIMEOUT", "nan", "below the minimum"),
        ("IMGHASH_ALLOW_PRIVATE_URLS", "maybe", "must be 1 or 0"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, fragment: str) -> None:
    with pytest.raises(InvalidRequest, match=fragment) as info:
        Settings.from_environ({name: value})
    assert name in info.value.message


def test_database_settings() -> None:
    s = Settings.from_environ(
        {
            "IMGHASH_DB": "here.db",
            "IMGHASH_DATABASE_URL": " postgresql://u@h/d ",
            "IMGHASH_DATABASE_SUBSTRINGS": "3",
            "IMGHASH_DATABASE_POOL": "2",
            "IMGHASH_AURORA_CLUSTER_ARN": "arn:aws:rds:eu-west-1:1:cluster:c",
            "IMGHASH_AURORA_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:s",
            "AWS_LAMBDA_FUNCTION_NAME": "imghash-search",
        }
    )
    assert s.index_location == "postgresql://u@h/d"
    assert (s.database_substrings, s.database_pool, s.in_lambda) == (3, 2, True)
    assert s.aurora_cluster_arn.endswith(":cluster:c")
    assert s.aurora_secret_arn.endswith(":secret:s")
    assert s.aurora_database == "imghash"
    defaults = Settings.from_environ({"IMGHASH_DB": "here.db"})
    assert (defaults.index_location, defaults.database_substrings) == ("here.db", None)
    assert defaults.in_lambda is False


@pytest.mark.parametrize("value", ["2", "9", "four"])
def test_substrings_outside_the_range_are_refused(value: str) -> None:
    with pytest.raises(InvalidRequest, match="IMGHASH_DATABASE_SUBSTRINGS"):
        Settings.from_environ({"IMGHASH_DATABASE_SUBSTRINGS": value})
