"""Lambda handler of the stack's IndexSchema custom resource (IndexEngine=aurora only)."""

from imghash.index._setup import setup_handler

handler = setup_handler()
