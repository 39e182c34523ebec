"""Lambda handler for /v1/search: answers from an in-memory index built from the table."""

from mangum import Mangum

from imghash.web import create_app

handler = Mangum(create_app(["search"], docs=False), lifespan="off")
