"""Start-up work that makes the first request as quick as the ones after it.

Much of what a hashing request needs is loaded or built on first use: Pillow's image
plugins and its EXIF reader, the JPEG decoder, numpy's FFT (the ``imagehash`` profile's
DCT), the grey pass's tables, anyio's thread-pool backend. Done by the first request, that
made it about ten times slower than the next (33 ms against 3 ms for a small photo
through the Lambda handler). Done here, while the app is made, it falls in a Lambda
function's init phase, which SnapStart runs once and snapshots, and before a local
server takes its first connection.

The warm-up hashes a small image made here, every way a request can ask (both profiles,
exact and fast, PDQ, turned), on this thread: no thread is started, so the process stays
forkable and the snapshot holds no thread.
"""

from __future__ import annotations

import contextlib
import importlib
import io

from .._settings import Settings

__all__ = ["warm"]

#: EXIF orientation 6 (turned a quarter): the warm-up's JPEG takes the EXIF path too.
_ORIENTATION = 0x0112
_SIZE = (64, 48)


def _sample_jpeg() -> bytes:
    """A small colour JPEG with an EXIF orientation: a gradient, so no hash is degenerate."""
    import numpy as np
    from PIL import Image

    width, height = _SIZE
    ramp = np.linspace(0, 255, width * height, dtype=np.float64).reshape(height, width)
    pixels = np.stack([ramp, ramp[::-1], ramp.T[:, ::-1].T], axis=-1).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    exif = Image.Exif()
    exif[_ORIENTATION] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


_done = False


def warm(settings: Settings) -> None:
    """Load and build, once a process, what hashing requests need (the module's docstring).

    Never fails the app: a warm-up that raises (limits below its image, say) is left, and
    the first request then does the work itself.
    """
    global _done
    if _done:
        return
    from .._hashing import hash_image

    with contextlib.suppress(ImportError):
        # anyio loads its asyncio backend on the first call that runs work off the loop.
        importlib.import_module("anyio._backends._asyncio")
    try:
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
