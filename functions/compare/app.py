"""Lambda handler for /v1/compare: the shared app with only the compare route, behind Mangum."""

from mangum import Mangum

from imghash.web import create_app

handler = Mangum(create_app(["compare"], docs=False), lifespan="off")
