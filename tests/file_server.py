"""A local HTTP server for download tests: serves ``httpd.files`` (name -> bytes) under ``httpd.url``
(``http://127.0.0.1:PORT/w``), never the internet. ``httpd.headers`` (name -> headers) adds headers to a
file's answers; ``httpd.redirects`` (name -> (status, location, headers)) answers a name with a redirect,
as the Hugging Face Hub does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        self._answer(with_body=True)

    def do_HEAD(self):  # noqa: N802
        self._answer(with_body=False)

    def _answer(self, with_body: bool) -> None:
        name = self.path.removeprefix("/w/")
        if name in self.server.redirects:
            status, location, headers = self.server.redirects[name]
            self.send_response(status)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            return
        body = self.server.files.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        for key, value in self.server.headers.get(name, {}).items():
            self.send_header(key, value)
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def serving_files() -> Iterator[ThreadingHTTPServer]:
    """The running server; put files in its ``files`` dict; shut down on exit."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.files, httpd.headers, httpd.redirects = {}, {}, {}
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/w"
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
