"""Turning an object's bytes into an index record: its hashes, or the reason it has none."""

from __future__ import annotations

from dataclasses import dataclass

from .._algorithms import ALGORITHMS
from .._errors import ImghashError
from .._hashing import hash_image
from .._settings import Settings
from ._record import IndexRecord

__all__ = ["INDEXED", "ObjectRef"]

#: The algorithms a record holds: every one of the registry, PDQ included.
INDEXED = tuple(ALGORITHMS)


@dataclass(frozen=True)
class ObjectRef:
    """Which object, which version of it, and how it is to be hashed."""

    bucket: str
    key: str
    version: str
    size: int
    sequencer: str
    profile: str
    #: Hash in fast mode (the CLI's ``index --fast``; the S3 indexer hashes exactly).
    fast: bool = False

    def hashed(self, data: bytes, settings: Settings) -> IndexRecord:
        """Hash ``data`` into a record; an image error becomes a record with its code."""
        try:
            result = hash_image(
                data, algorithms=INDEXED, profile=self.profile, fast=self.fast, settings=settings
            )
        except ImghashError as err:
            return self.failed(err)
        return IndexRecord(
            self.bucket,
            self.key,
            self.version,
            self.size,
            self.profile,
            sequencer=self.sequencer,
            format=result.format,
            width=result.width,
            height=result.height,
            hashes=dict(result.hashes),
            quality=dict(result.quality),
            low_information=result.low_information,
            fast=result.fast,
        )

    def failed(self, error: ImghashError) -> IndexRecord:
        """The record of an object that is not hashed, and why (it is not retried)."""
        return IndexRecord(
            self.bucket,
            self.key,
            self.version,
            self.size,
            self.profile,
            sequencer=self.sequencer,
            error=error.code,
            error_message=error.message,
        )
