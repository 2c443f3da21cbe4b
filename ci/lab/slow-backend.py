#!/usr/bin/python3
"""Tiny HTTP backend of the lab's web hosts (installed as /etc/lab/slow-backend.py).

Listens on 127.0.0.1:8081 inside the host; nginx proxies /slow to it. Every request waits
the number of seconds written in /var/www/DELAY (absent/empty/invalid: 0; decimals allowed)
and then answers 200 "slow ok". Fault switch from the controller:
    ci/lab.sh exec web2 -- sh -c 'echo 2 > /var/www/DELAY'      # 2 s per request
    ci/lab.sh exec web2 -- rm -f /var/www/DELAY                  # back to instant
"""

import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DELAY_FILE = "/var/www/DELAY"
PID_FILE = "/run/slow-backend.pid"


def delay() -> float:
    try:
        with open(DELAY_FILE, encoding="ascii") as f:
            return max(0.0, float(f.read().strip() or 0))
    except (OSError, ValueError):
        return 0.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lab-slow/1"

    def answer(self, body: bool) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        d = delay()
        if d:
            time.sleep(d)
        data = b"slow ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Delay", f"{d:g}")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self.answer(True)

    def do_POST(self) -> None:  # noqa: N802
        self.answer(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self.answer(False)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (quiet)
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 8081), Handler)
    server.daemon_threads = True
    with open(PID_FILE, "w", encoding="ascii") as f:
        f.write(f"{os.getpid()}\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
