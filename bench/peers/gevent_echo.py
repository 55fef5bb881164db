#!/usr/bin/python3
"""gevent_echo: the peer for cogent's greenlet echo server, a TCP echo server on gevent.

    /usr/bin/python3 gevent_echo.py [--host 127.0.0.1] [--port N]    (N = 0: any free port)

A StreamServer spawns a greenlet per connection that reads and writes the bytes back until the
client closes. No monkey-patching: StreamServer hands each handler a gevent socket already.
Prints `listening on N` once it listens. SIGINT or SIGTERM stops the server and ends it with
status 0. Run it with Debian's /usr/bin/python3, the interpreter python3-gevent is installed for.
"""

import argparse
import resource
import signal
import socket

import gevent
from gevent.server import StreamServer

BUFFER_SIZE = 64 * 1024


def echo(sock, address):
    # A reset ends only this connection; StreamServer closes the socket when the handler returns.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            data = sock.recv(BUFFER_SIZE)
            if not data:
                return
            sock.sendall(data)
    except OSError:
        pass


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main():
    parser = argparse.ArgumentParser(description="gevent TCP echo server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error("--port: 0 to 65535")
    raise_fd_limit()

    # Python already ignores SIGPIPE: a write to a closed peer raises EPIPE in its handler only.
    # backlog: with StreamServer's default of 128, a 10,000-client burst waits on SYN retries.
    server = StreamServer((args.host, args.port), echo, backlog=socket.SOMAXCONN)
    server.start()

    # Without a pool, stop() only closes the listener and sets the event serve_forever waits
    # on; main then returns with the handlers still parked, and the process exits with 0.
    gevent.signal_handler(signal.SIGTERM, server.stop)
    gevent.signal_handler(signal.SIGINT, server.stop)
    print(f"listening on {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
