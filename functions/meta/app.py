"""Lambda handler for /v1/meta: the shared app with only the meta route (no numpy, no Pillow)."""

from mangum import Mangum

from imghash.web import create_app

handler = Mangum(create_app(["meta"], docs=False), lifespan="off")
