"""The HTTP service: GET /healthz and GET /hello, answered in JSON, with the standard library only."""

import json
import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


def route(path: str, query: str) -> tuple[HTTPStatus, dict[str, str]]:
    """The answer to GET `path?query`: a status and a JSON body."""
    if path == "/healthz":
        return HTTPStatus.OK, {"status": "ok"}
    if path == "/hello":
        name = parse_qs(query).get("name", [""])[0] or "world"
        return HTTPStatus.OK, {"message": f"Hello, {name}"}
    return HTTPStatus.NOT_FOUND, {"error": f"no route {path}"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    # do_GET, do_POST and log_message are the names http.server calls.
    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        status, body = route(parts.path, parts.query)
        self._send(status, body)

    def do_POST(self) -> None:  # noqa: N802
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "this service answers GET only"})

    def _send(self, status: HTTPStatus, body: dict[str, str]) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.info("%s %s", self.address_string(), format % args)


# In a container the service listens on every interface.
def create_server(port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:  # noqa: S104
    """The HTTP server, bound to `host:port` (port 0 picks a free one) and not yet serving."""
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
