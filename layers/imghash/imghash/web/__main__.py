"""``python -m imghash.web``: the local server (``make serve``) under uvicorn."""

from __future__ import annotations

import argparse
import os

from .._errors import ImghashError
from .._settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m imghash.web", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WORKERS", "1")),
        help="worker processes (default 1)",
    )
    args = parser.parse_args()
    try:
        settings = Settings.from_environ()
    except ImghashError as err:
        parser.error(err.message)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    import uvicorn

    from ._app import create_app

    print(f"imghash: serving http://{args.host}:{args.port}  (docs at /docs)", flush=True)
    common = {"host": args.host, "port": args.port, "log_level": "warning", "access_log": False}
    if args.workers > 1:  # each worker process builds its own app from the same environment
        uvicorn.run("imghash.web._app:create_app", factory=True, workers=args.workers, **common)
    else:
        uvicorn.run(create_app(settings=settings), **common)


if __name__ == "__main__":
    main()
