"""imghash: perceptual image hashes (aHash, dHash, pHash), comparison and search.

>>> import imghash
>>> result = imghash.hash_image("photo.jpg")          # doctest: +SKIP
>>> result.hashes["phash"].hex()                      # doctest: +SKIP
'4edbd88c49eaf808'
>>> imghash.compare_images("a.jpg", "b.png").likely_same   # doctest: +SKIP
True
"""

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
from ._errors import (
    FetchBlocked,
    ImageTooLarge,
    ImghashError,
    InvalidRequest,
    UnsupportedImage,
    UpstreamError,
    UpstreamTimeout,
)
from ._hashing import DEFAULT_PROFILE, HashResult, hash_image
from ._hashvalue import Hash
from ._profiles import PROFILES, Profile
from ._settings import Settings, get_settings

__version__ = "0.1.0"

__all__ = [
    "ALGORITHMS",
    "DEFAULT_PROFILE",
    "LIKELY_SAME_MAX_DISTANCE",
    "PROFILES",
    "Algorithm",
    "AlgorithmComparison",
    "Comparison",
    "FetchBlocked",
    "Hash",
    "HashResult",
    "ImageTooLarge",
    "ImghashError",
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
    "get_settings",
    "hash_image",
    "similarity",
]
