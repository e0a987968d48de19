"""Hostile clients against `antiphon serve`, measured: what the server holds and whether it
keeps serving. Run inside a loopback-only namespace (`cargo xtask netns python3 ...`):

    python3 benches/serve/hostile_clients.py target/release/antiphon

Four loads, each against a fresh server, printing the server's resident memory (VmRSS) before
and under the load and whether a fresh WebSocket session still gets an answer:
  0. 200 idle WebSocket sessions (the baseline for the next);
  1. 200 WebSocket sessions each parking a partial frame (127 KiB announced, all but its
     last KiB sent) and never finishing it;
  2. one session sending 1,000,000 pings and never reading the pongs;
  3. 1,000 concurrent TCP clients, each sending half a request head, against a server under
     `ulimit -n 1024`.
"""

import os
import socket
import struct
import subprocess
import sys
import time


def start(binary, limit=None):
    command = [binary, "serve", "--addr", "127.0.0.1:0", "--max-sessions", "1024"]
    if limit:
        command = ["sh", "-c", f'ulimit -n {limit} && exec "$0" "$@"'] + command
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    first = server.stdout.readline().strip()
    address = first.removeprefix("listening on http://").rstrip("/")
    host, port = address.rsplit(":", 1)
    return server, (host, int(port))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def websocket(address):
    sock = socket.create_connection(address, timeout=10)
    sock.sendall(
        f"GET /ws HTTP/1.1\r\nHost: {address[0]}:{address[1]}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode()
    )
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise RuntimeError("closed during the handshake")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.decode(errors="replace"))
    return sock


def frame(opcode, payload, fin=True, announced=None):
    length = len(payload) if announced is None else announced
    head = bytes([(0x80 if fin else 0) | opcode])
    if length < 126:
        head += bytes([0x80 | length])
    elif length < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", length)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", length)
    return head + b"\0\0\0\0" + payload


def still_serves(address):
    try:
        sock = websocket(address)
        sock.sendall(frame(1, b'{"type":"getStats"}'))
        reply = sock.recv(4096)
        sock.close()
        return b"getStats before the offer" in reply
    except OSError as error:
        return f"no: {error}"


def idle_sessions(binary):
    server, address = start(binary)
    before = rss_kib(server.pid)
    socks = [websocket(address) for _ in range(200)]
    time.sleep(1)
    under = rss_kib(server.pid)
    for sock in socks:
        sock.close()
    server.kill()
    print(f"200 idle sessions: RSS {before} KiB before, {under} KiB with them open")


def parked_frames(binary):
    server, address = start(binary)
    before = rss_kib(server.pid)
    socks = []
    for _ in range(200):
        sock = websocket(address)
        # A frame within the 128 KiB limit, announced whole and sent all but its last KiB.
        whole = frame(1, b" " * (127 * 1024))
        sock.sendall(whole[: len(whole) - 1024])
        socks.append(sock)
    time.sleep(1)
    under = rss_kib(server.pid)
    serves = still_serves(address)
    for sock in socks:
        sock.close()
    server.kill()
    print(f"200 parked partial frames: RSS {before} KiB before, {under} KiB under load; still serves: {serves}")


def unread_pings(binary):
    server, address = start(binary)
    before = rss_kib(server.pid)
    sock = websocket(address)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ping = frame(9, b"x" * 16)
    batch = ping * 1000
    sent = 0
    sock.settimeout(30)
    try:
        while sent < 1_000_000:
            sock.sendall(batch)
            sent += 1000
    except OSError as error:
        print(f"  the server stopped taking pings after {sent}: {error}")
    time.sleep(1)
    under = rss_kib(server.pid)
    serves = still_serves(address)
    sock.close()
    server.kill()
    print(f"{sent} pings never read: RSS {before} KiB before, {under} KiB under load; still serves: {serves}")


def many_clients(binary):
    server, address = start(binary, limit=1024)
    before = rss_kib(server.pid)
    socks = []
    for _ in range(1000):
        try:
            sock = socket.create_connection(address, timeout=2)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            socks.append(sock)
        except OSError:
            pass
    time.sleep(1)
    under = rss_kib(server.pid)
    alive = server.poll() is None
    for sock in socks:
        sock.close()
    time.sleep(1)
    serves = still_serves(address)
    server.kill()
    print(f"1000 half-sent requests under ulimit -n 1024 ({len(socks)} connected): RSS {before} KiB before, "
          f"{under} KiB under load; server alive: {alive}; serves after: {serves}")


if __name__ == "__main__":
    binary = sys.argv[1]
    idle_sessions(binary)
    parked_frames(binary)
    unread_pings(binary)
    many_clients(binary)
