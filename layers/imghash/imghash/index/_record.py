"""One index record per object: where it is, which version, and its hashes (DESIGN §8)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .._hashvalue import Hash

__all__ = ["SCALAR_COLUMNS", "IndexRecord", "normalise_sequencer", "now"]

#: The record's scalar fields, one column each in the SQL stores (SQLite, PostgreSQL), in
#: the order they read and write them; the hashes and their quality are stored apart, and
#: ``fast`` is each store's own (SQLite adds it to a file made before it).
SCALAR_COLUMNS = (
    "bucket",
    "key",
    "version",
    "sequencer",
    "size",
    "profile",
    "indexed_at",
    "format",
    "width",
    "height",
    "low_information",
    "error",
    "error_message",
)

#: S3 sequencers are hex strings of varying length; padded on the left they sort in order.
_SEQUENCER_WIDTH = 32


def normalise_sequencer(sequencer: str | None) -> str:
    """An S3 event's sequencer made comparable as a string ("" when there is none)."""
    if not sequencer:
        return ""
    return sequencer.upper().rjust(_SEQUENCER_WIDTH, "0")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class IndexRecord:
    """An indexed object: an image with its hashes, or an object that is not one, with why."""

    bucket: str
    key: str
    #: S3 version id when the bucket is versioned, else the ETag; for files, size and mtime.
    version: str
    size: int
    profile: str
    indexed_at: str = field(default_factory=now)
    #: Orders the events of one key (normalised S3 sequencer); "" when unknown.
    sequencer: str = ""
    format: str | None = None
    width: int | None = None
    height: int | None = None
    hashes: Mapping[str, Hash] = field(default_factory=dict)
    #: The score of each hash that has one: PDQ's quality, 0 to 100 (at most 49 is
    #: ``low_information``, as Meta advises discarding such hashes).
    quality: Mapping[str, int] = field(default_factory=dict)
    low_information: bool = False
    #: Hashed in fast mode: a JPEG decoded at a reduced scale, its hashes a few bits at
    #: most from the exact ones (README, "Fast mode"). False for every other file, which
    #: fast mode hashes exactly.
    fast: bool = False
    #: An error code (``unsupported_image``, ``too_large``...) for objects not hashed.
    error: str | None = None
    error_message: str | None = None

    def match_dict(self, distance: int) -> dict[str, Any]:
        """The object as a search match: where, how far, hashes (and their quality, when
        they have one), size, and ``fast`` when its hashes were made in fast mode."""
        found: dict[str, Any] = {
            "bucket": self.bucket,
            "key": self.key,
            "distance": distance,
            "hashes": {name: value.hex() for name, value in self.hashes.items()},
            "width": self.width,
            "height": self.height,
        }
        if self.quality:
            found["quality"] = dict(self.quality)
        if self.fast:
            found["fast"] = True
        return found
