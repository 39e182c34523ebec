"""Start-up work that makes the first request as quick as the ones after it.

Much of what a hashing request needs is loaded or built on first use: Pillow's image
plugins and its EXIF reader, the HEIF opener, the JPEG decoder, numpy's FFT (the
``imagehash`` profile's DCT), the grey pass's tables, anyio's thread-pool backend. Done by
the first request, that made it six to ten times slower than the next (33 ms against 3 ms
for a small photo through the Lambda handler). Done here, while the app is made, it falls
in a Lambda function's init phase, which SnapStart runs once and snapshots, and before a
local server takes its first connection.

The warm-up loads every image plugin and hashes a JPEG made here every way a request can
ask (both profiles, exact and fast, PDQ, turned), on this thread: no thread is started, so
the process stays forkable and the snapshot holds no thread. URL fetching is not warmed:
the fetcher (and httpx) stays for the first request that has a URL.
"""

from __future__ import annotations

import contextlib
import importlib
import io

from .._settings import Settings

__all__ = ["warm"]

#: EXIF orientation 6 (turned a quarter): the warm-up's JPEG takes the EXIF path too.
_ORIENTATION = 0x0112
#: Small, so the warm-up costs about 10 ms once loaded. Fast mode decodes an image this size
#: at full scale; a reduced scale is the same libjpeg call with another factor.
_SIZE = (64, 48)

_done = False


def _sample_jpeg() -> bytes:
    """A colour JPEG with an EXIF orientation. Its pixels do not matter, only the paths
    hashing it takes."""
    import numpy as np
    from PIL import Image

    width, height = _SIZE
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    waves = [np.sin(x / 9.0), np.cos(y / 7.0), np.sin((x + y) / 13.0)]
    pixels = np.stack([127.5 + 127.0 * w for w in waves], axis=-1).astype(np.uint8)
    exif = Image.Exif()
    exif[_ORIENTATION] = 6
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def warm(settings: Settings) -> None:
    """Load and build, once a process, what hashing requests need (the module's docstring).

    Never fails the app: a warm-up that raises (limits below its image, say) is left, and
    the first request then does the work itself; the next app made tries again.
    """
    global _done
    if _done:
        return
    from PIL import Image

    from .._decode import heif_available
    from .._hashing import hash_image

    with contextlib.suppress(ImportError):
        # anyio loads its asyncio backend on the first call that runs work off the loop.
        importlib.import_module("anyio._backends._asyncio")
    try:
        Image.init()  # every format's plugin, not only the five Pillow loads first
        heif_available()  # registers pillow-heif's opener, where it is installed
        data = _sample_jpeg()
        for profile in ("jimp", "imagehash"):
            for fast in (False, True):
                hash_image(
                    data,
                    algorithms="ahash,dhash,phash,pdq",
                    profile=profile,
                    fast=fast,
                    settings=settings,
                    dihedral=True,
                )
    except Exception:  # a warm-up is an optimisation only: the requests will say what fails
        return
    _done = True
