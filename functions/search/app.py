"""Lambda handler for /v1/search: asks Aurora in SQL (IndexEngine=aurora), else answers from
an in-memory index built from the DynamoDB table."""

from mangum import Mangum

from imghash.web import create_app

handler = Mangum(create_app(["search"], docs=False), lifespan="off")
