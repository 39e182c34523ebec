"""The package has one public face: a sorted, complete ``__all__``; errors carry DESIGN §5 codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

import imghash

ERRORS = {
    imghash.InvalidRequest: ("invalid_request", 400),
    imghash.FetchBlocked: ("url_not_allowed", 400),
    imghash.ImageTooLarge: ("too_large", 413),
    imghash.UnsupportedImage: ("unsupported_image", 415),
    imghash.UpstreamError: ("upstream_error", 502),
    imghash.UpstreamTimeout: ("upstream_timeout", 504),
    imghash.IndexMissing: ("index_not_found", 503),
    imghash.IndexCorrupt: ("index_corrupt", 503),
}


def isort_key(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions (ruff's RUF022 order)."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


def test_all_is_sorted_and_complete() -> None:
    assert imghash.__all__ == sorted(imghash.__all__, key=isort_key)
    assert set(imghash._HOME_OF) == set(imghash.__all__) - {"__version__"}
    for name in imghash.__all__:
        assert getattr(imghash, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = imghash.nope


def test_importing_the_package_loads_neither_numpy_nor_pillow() -> None:
    code = (
        "import sys, imghash; imghash.InvalidRequest; imghash.Settings; imghash.ALGORITHMS; "
        "imghash.PROFILES; imghash.fetch_url; h = imghash.Hash.from_hex('ff' * 8); h - h; "
        "heavy = {'numpy', 'PIL', 'httpx', 'imagehash'} & set(sys.modules); assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_library_inputs_and_hash_interop_are_public() -> None:
    """Issue 7: every kind of source, a safe URL fetcher, and a width-generic Hash."""
    assert {"hash_image", "compare_images", "fetch_url", "Hash"} <= set(imghash.__all__)
    assert imghash.fetch_url.__module__ == "imghash._sources"
    for name in ("from_hex", "from_bits", "from_signed", "from_imagehash", "to_imagehash"):
        assert callable(getattr(imghash.Hash, name)), name
    assert len(imghash.Hash(0)) == 64
    assert len(imghash.Hash(0, 256)) == 256


@pytest.mark.parametrize(("error", "expected"), ERRORS.items())
def test_every_error_has_its_code(
    error: type[imghash.ImghashError], expected: tuple[str, int]
) -> None:
    assert issubclass(error, imghash.ImghashError)
    assert (error.code, error.http_status) == expected
    assert error("what was wrong").to_dict() == {"code": expected[0], "message": "what was wrong"}
