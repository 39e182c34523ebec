"""``python -m imghash.web``: the local server (``make serve``) under uvicorn, with limits."""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys

from .._errors import ImghashError
from .._settings import Settings


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything claims to serve; exits saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            sys.exit(
                f"imghash: port {port} on {host} is busy: another program is listening "
                f"there. Pick another port: make serve PORT={port + 1} "
                f"(or python -m imghash.web --port {port + 1})"
            )
        if err.errno == errno.EACCES:
            sys.exit(f"imghash: no permission to listen on port {port}; pick one above 1023")
        sys.exit(f"imghash: cannot listen on {host}:{port}: {err.strerror}")
    sock.set_inheritable(True)
    return sock


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
    sock = _bind(args.host, args.port)
    import uvicorn

    from ._app import create_app
    from ._server import limited_protocol, with_admission

    common: dict[str, object] = {
        "log_level": "warning",
        "access_log": False,
        "timeout_keep_alive": settings.keep_alive,
    }
    print(f"imghash: serving http://{args.host}:{args.port}  (docs at /docs)", flush=True)
    if args.workers > 1:  # each worker builds its app, and reads its limits, from the environment
        sock.close()
        uvicorn.run(
            "imghash.web._server:create_server_app",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            http="imghash.web._server:LimitedProtocol",
            **common,  # type: ignore[arg-type]
        )
        return
    app = with_admission(create_app(settings=settings), settings)
    config = uvicorn.Config(app, http=limited_protocol(settings), **common)  # type: ignore[arg-type]
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
