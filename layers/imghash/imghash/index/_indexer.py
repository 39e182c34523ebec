"""Turning an object's bytes into an index record: its hashes, or the reason it has none."""

from __future__ import annotations

from .._errors import ImghashError
from .._hashing import hash_image
from .._settings import Settings
from ._record import IndexRecord

__all__ = ["record_for"]


def record_for(
    data: bytes,
    *,
    bucket: str,
    key: str,
    version: str,
    size: int,
    sequencer: str,
    profile: str,
    settings: Settings,
) -> IndexRecord:
    """Hash ``data`` into a record; an image error becomes a record with its code."""
    try:
        result = hash_image(data, profile=profile, settings=settings)
    except ImghashError as err:
        return error_record(
            bucket=bucket,
            key=key,
            version=version,
            size=size,
            sequencer=sequencer,
            profile=profile,
            error=err,
        )
    return IndexRecord(
        bucket=bucket,
        key=key,
        version=version,
        size=size,
        profile=profile,
        sequencer=sequencer,
        format=result.format,
        width=result.width,
        height=result.height,
        hashes=dict(result.hashes),
        low_information=result.low_information,
    )


def error_record(
    *,
    bucket: str,
    key: str,
    version: str,
    size: int,
    sequencer: str,
    profile: str,
    error: ImghashError,
) -> IndexRecord:
    """The record of an object that is not hashed, and why (it is not retried)."""
    return IndexRecord(
        bucket=bucket,
        key=key,
        version=version,
        size=size,
        profile=profile,
        sequencer=sequencer,
        error=error.code,
        error_message=error.message,
    )
