#!/usr/bin/env python3
"""An echo server that goes wrong on purpose, for the benchmark runner's test: with --corrupt it
flips one byte of every connection's 200th byte, with --drop it closes each connection after 200
bytes. The runner must report it as failed."""

import argparse
import selectors
import signal
import socket
import sys

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, default=0)
p.add_argument("--corrupt", action="store_true")
p.add_argument("--drop", action="store_true")
args = p.parse_args()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", args.port))
listener.listen(128)
listener.setblocking(False)
print(f"listening on {listener.getsockname()[1]}", flush=True)

selector = selectors.DefaultSelector()
selector.register(listener, selectors.EVENT_READ)
echoed = {}
while True:
    for key, _ in selector.select():
        if key.fileobj is listener:
            conn, _ = listener.accept()
            conn.setblocking(True)
            echoed[conn] = 0
            selector.register(conn, selectors.EVENT_READ)
            continue
        conn = key.fileobj
        data = conn.recv(65536)
        before = echoed[conn]
        if data and args.drop and before >= 200:
            data = b""
        if not data:
            selector.unregister(conn)
            del echoed[conn]
            conn.close()
            continue
        if args.corrupt and before <= 200 < before + len(data):
            i = 200 - before
            data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
        echoed[conn] = before + len(data)
        conn.sendall(data)
