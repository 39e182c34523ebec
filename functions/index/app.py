"""Lambda handler for the bucket's ObjectCreated/ObjectRemoved events and Batch Operations."""

from imghash.index import index_handler

handler = index_handler()
