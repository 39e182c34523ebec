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
        "imghash.PROFILES; heavy = {'numpy', 'PIL'} & set(sys.modules); assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("error", "expected"), ERRORS.items())
def test_every_error_has_its_code(
    error: type[imghash.ImghashError], expected: tuple[str, int]
) -> None:
    assert issubclass(error, imghash.ImghashError)
    assert (error.code, error.http_status) == expected
    assert error("what was wrong").to_dict() == {"code": expected[0], "message": "what was wrong"}
