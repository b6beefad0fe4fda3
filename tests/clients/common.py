"""Helpers shared by the client tests: free ports and waiting for a server."""

import socket
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base, path="/readyz", tries=300):
    for _ in range(tries):
        try:
            urllib.request.urlopen(base + path)
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{base} did not start")
