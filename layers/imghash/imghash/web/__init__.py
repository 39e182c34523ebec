"""The HTTP API of imghash: an app factory that mounts any of its routes (DESIGN §5).

from imghash.web import create_app
app = create_app()                      # every route and /docs: the local server
app = create_app(["meta"], docs=False)  # one function's app in AWS Lambda
"""

from ._app import ROUTES, create_app

__all__ = ["ROUTES", "create_app"]
