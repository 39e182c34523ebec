"""imghash: perceptual image hashes (aHash, dHash, pHash, PDQ), comparison and search.

>>> import imghash
>>> result = imghash.hash_image("photo.jpg")                # doctest: +SKIP
>>> result.hashes["phash"].hex()                            # doctest: +SKIP
'4edbd88c49eaf808'
>>> imghash.compare_images("a.jpg", "b.png").likely_same     # doctest: +SKIP
True

Names are loaded on first use, so that importing the package (say, for its
errors or settings in a route that hashes nothing) does not import numpy or Pillow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._algorithms import ALGORITHMS, Algorithm
    from ._compare import (
        LIKELY_SAME_MAX_DISTANCE,
        AlgorithmComparison,
        Comparison,
        compare,
        compare_hashes,
        compare_images,
        similarity,
    )
    from ._dihedral import DIHEDRAL, dihedral_hashes
    from ._duplicates import DuplicateGroup, DuplicatePair, find_duplicates
    from ._errors import (
        FetchBlocked,
        ImageTooLarge,
        ImghashError,
        IndexCorrupt,
        IndexMissing,
        InvalidRequest,
        UnsupportedImage,
        UpstreamError,
        UpstreamTimeout,
    )
    from ._hashing import HashResult, hash_image
    from ._hashvalue import Hash
    from ._profiles import DEFAULT_PROFILE, PROFILES, Profile
    from ._settings import Settings, get_settings
    from ._sources import fetch_url

__version__ = "0.1.0"

_HOMES = {
    "._algorithms": ["ALGORITHMS", "Algorithm"],
    "._compare": [
        "LIKELY_SAME_MAX_DISTANCE",
        "AlgorithmComparison",
        "Comparison",
        "compare",
        "compare_hashes",
        "compare_images",
        "similarity",
    ],
    "._dihedral": ["DIHEDRAL", "dihedral_hashes"],
    "._duplicates": ["DuplicateGroup", "DuplicatePair", "find_duplicates"],
    "._errors": [
        "FetchBlocked",
        "ImageTooLarge",
        "ImghashError",
        "IndexCorrupt",
        "IndexMissing",
        "InvalidRequest",
        "UnsupportedImage",
        "UpstreamError",
        "UpstreamTimeout",
    ],
    "._hashing": ["HashResult", "hash_image"],
    "._hashvalue": ["Hash"],
    "._profiles": ["DEFAULT_PROFILE", "PROFILES", "Profile"],
    "._settings": ["Settings", "get_settings"],
    "._sources": ["fetch_url"],
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "ALGORITHMS",
    "DEFAULT_PROFILE",
    "DIHEDRAL",
    "LIKELY_SAME_MAX_DISTANCE",
    "PROFILES",
    "Algorithm",
    "AlgorithmComparison",
    "Comparison",
    "DuplicateGroup",
    "DuplicatePair",
    "FetchBlocked",
    "Hash",
    "HashResult",
    "ImageTooLarge",
    "ImghashError",
    "IndexCorrupt",
    "IndexMissing",
    "InvalidRequest",
    "Profile",
    "Settings",
    "UnsupportedImage",
    "UpstreamError",
    "UpstreamTimeout",
    "__version__",
    "compare",
    "compare_hashes",
    "compare_images",
    "dihedral_hashes",
    "fetch_url",
    "find_duplicates",
    "get_settings",
    "hash_image",
    "similarity",
]


def __getattr__(name: str) -> Any:
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module 'imghash' has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
