"""Lambda handler for POST /v1/hash/batch: the shared app with only the batch route, behind
Mangum."""

from mangum import Mangum

from imghash.web import create_app

handler = Mangum(create_app(["batch"], docs=False), lifespan="off")
