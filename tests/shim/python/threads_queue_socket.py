"""Threads, a queue and sockets, the way a plain Python program uses them: a third-party
interpreter (Debian's /usr/bin/python3) run natively and under the shim must print the same.

A threaded echo server on 127.0.0.1 (one handler thread per client, blocking accept and recv)
serves client threads; producers and consumers pass numbers through a bounded queue.Queue;
sleeping threads wake in the order of their delays; a lock keeps a shared counter exact; timed
waits on an empty queue and an unset event expire. Each part prints exact results, never
timings. The sleepers prove cooperation: twelve threads sleeping 0.3 s at once take about
0.3 s, not 3.6 s, both natively and when they are greenlets on one OS thread.

If the environment names a file in COGENT_TEST_THREADS, the number of the process's OS threads
that run its own code is written there while all the sleepers are alive, as the C tests of
tests/shim do through report_threads.h: every thread in /proc/self/task except the shim
runtime's thread pool ("cogent-pool"), which the socket.create_connection lookups (getaddrinfo)
start under the shim.
"""

import os
import queue
import socket
import sys
import threading
import time

CLIENTS = 8
MESSAGES = 50
PRODUCERS = 3
CONSUMERS = 4
ITEMS = 500


def report_threads():
    path = os.environ.get("COGENT_TEST_THREADS")
    if not path:
        return
    count = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm") as comm:
                if comm.read().strip() != "cogent-pool":
                    count += 1
        except FileNotFoundError:
            pass  # a thread that has just exited
    with open(path, "w") as out:
        out.write(f"{count}\n")


def handle(conn):
    with conn:
        while True:
            data = conn.recv(4096)
            if not data:
                return
            conn.sendall(data)


def serve(listener, count):
    handlers = []
    for _ in range(count):
        conn, _ = listener.accept()
        handler = threading.Thread(target=handle, args=(conn,))
        handler.start()
        handlers.append(handler)
    for handler in handlers:
        handler.join()


def client(port, index, results):
    echoed = 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for n in range(MESSAGES):
            message = f"client {index} message {n}\n".encode()
            sock.sendall(message)
            reply = b""
            while len(reply) < len(message):
                chunk = sock.recv(len(message) - len(reply))
                if not chunk:
                    raise RuntimeError(f"client {index}: the server closed the connection")
                reply += chunk
            if reply != message:
                raise RuntimeError(f"client {index}: sent {message!r}, got {reply!r}")
            echoed += len(reply)
    results[index] = echoed


def echo_part():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(CLIENTS)
    port = listener.getsockname()[1]
    server = threading.Thread(target=serve, args=(listener, CLIENTS))
    server.start()
    results = [None] * CLIENTS
    clients = [threading.Thread(target=client, args=(port, i, results)) for i in range(CLIENTS)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    server.join()
    listener.close()
    for index, echoed in enumerate(results):
        print(f"echo: client {index} got back {echoed} bytes in {MESSAGES} messages")


def producer(items, first):
    for n in range(first, first + ITEMS):
        items.put(n)
        if n % 50 == 0:
            time.sleep(0.001)


def consumer(items, totals, index):
    count = total = 0
    while True:
        n = items.get()
        if n is None:
            break
        count += 1
        total += n
    totals[index] = (count, total)


def queue_part():
    items = queue.Queue(maxsize=16)
    totals = [None] * CONSUMERS
    consumers = [threading.Thread(target=consumer, args=(items, totals, i)) for i in range(CONSUMERS)]
    producers = [threading.Thread(target=producer, args=(items, p * ITEMS)) for p in range(PRODUCERS)]
    for t in consumers + producers:
        t.start()
    for t in producers:
        t.join()
    for _ in consumers:
        items.put(None)
    for t in consumers:
        t.join()
    count = sum(c for c, _ in totals)
    total = sum(s for _, s in totals)
    expected = sum(range(PRODUCERS * ITEMS))
    print(f"queue: {count} items consumed, sum {total} (expected {expected})")
    try:
        items.get(timeout=0.05)
        print("queue: get on an empty queue returned an item")
    except queue.Empty:
        print("queue: get with a timeout on an empty queue raised Empty")


def sleep_part():
    woke = []
    woke_lock = threading.Lock()
    alive = threading.Barrier(13)

    def sleeper(index, delay):
        alive.wait()
        time.sleep(delay)
        with woke_lock:
            woke.append(index)

    # Three groups of four, 0.1 s apart: the groups wake in order of their delays.
    delays = [0.3, 0.1, 0.2] * 4
    sleepers = [threading.Thread(target=sleeper, args=(i, d)) for i, d in enumerate(delays)]
    start = time.monotonic()
    for t in sleepers:
        t.start()
    alive.wait()
    report_threads()
    for t in sleepers:
        t.join()
    elapsed = time.monotonic() - start
    groups = [sorted(woke[g * 4:(g + 1) * 4]) for g in range(3)]
    print(f"sleep: groups woke in the order {groups}")
    print(f"sleep: 12 threads slept 0.1-0.3 s at once in under 1.5 s: {elapsed < 1.5}")


def lock_part():
    counter = 0
    lock = threading.Lock()

    def add():
        nonlocal counter
        for n in range(20000):
            with lock:
                counter += 1
            if n % 1000 == 0:
                time.sleep(0)

    adders = [threading.Thread(target=add) for _ in range(6)]
    for t in adders:
        t.start()
    for t in adders:
        t.join()
    print(f"lock: counter {counter} (expected {6 * 20000})")
    event = threading.Event()
    print(f"event: wait(0.05) on an unset event returned {event.wait(0.05)}")


def main():
    echo_part()
    queue_part()
    sleep_part()
    lock_part()
    return 0


if __name__ == "__main__":
    sys.exit(main())
