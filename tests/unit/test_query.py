"""``_query``: the search's radius rule is the index's, for every algorithm of the registry."""

from __future__ import annotations

import pytest

from imghash import ALGORITHMS, Algorithm
from imghash._errors import InvalidRequest
from imghash._query import hash_query, radius_limit, search_radius
from imghash.index._search import check_query, distance_limit


@pytest.mark.parametrize("algorithm", list(ALGORITHMS.values()), ids=list(ALGORITHMS))
def test_the_radius_range_is_the_index_s(algorithm: Algorithm) -> None:
    high = radius_limit(algorithm)
    assert high == distance_limit(algorithm.bits)
    assert search_radius(algorithm, None) == algorithm.max_distance <= high
    check_query(search_radius(algorithm, high), None, algorithm.bits)  # the index takes it
    with pytest.raises(InvalidRequest):
        search_radius(algorithm, high + 1)
    digits = algorithm.bits // 4
    assert len(hash_query("f" * digits, algorithm)) == algorithm.bits
    with pytest.raises(InvalidRequest, match=f"{digits} hex digits"):
        hash_query("f" * (80 - digits), algorithm)
