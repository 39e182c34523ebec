"""Lambda handler for /v1/hash: the shared app with only the hash route, behind Mangum."""

from mangum import Mangum

from imghash.web import create_app

handler = Mangum(create_app(["hash"], docs=False), lifespan="off")
