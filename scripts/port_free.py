"""`make run`'s first step: say at once when its address is taken (gunicorn would retry five times,
then stop on a bare `Connection in use`). Usage: port_free.py HOST PORT; exit 1 with the message."""

import socket
import sys

LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def main(host: str, port: int) -> int:
    bare = host.strip("[]")
    try:
        socket.create_connection((LOOPBACK.get(bare, bare), port), timeout=1).close()
    except OSError:
        return 0  # nothing answers there: free
    sys.exit(f"make run: {host}:{port} is in use (a server already running?): stop it, or choose "
             f"another port, make run PORT={port + 1}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
