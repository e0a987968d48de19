"""Opens and closes signaling sessions with `antiphon serve` one after another and reports how
much of the server's memory each closed session kept.

Usage: closed_sessions.py HOST PORT SERVER_PID OFFER_JSON WARM_UP SESSIONS

Each session: a WebSocket to ws://HOST:PORT/ws (a minimal RFC 6455 client, as in
../aiortc/offer_data_channel.py), the offer from OFFER_JSON ({"type":"offer","sdp":...}, its
candidates removed so that Antiphon checks no address), the answer awaited, then a close frame
and the socket closed; Antiphon answers, gathers and closes the connection. After WARM_UP
sessions the server's VmRSS is read, then after SESSIONS more (and a moment for the last close
to finish). Prints `rss_before_kib N`, `rss_after_kib N`, `sessions N`, `kept_per_session_bytes N`.
"""

import asyncio
import base64
import json
import os
import struct
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def ws_connect(host, port):
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(f"no WebSocket upgrade: {head!r}")
    return reader, writer


def ws_frame(opcode, data):
    mask = os.urandom(4)
    n = len(data)
    if n < 126:
        header = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        header = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack(">H", n)
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack(">Q", n)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


async def ws_recv(reader):
    while True:
        b0, b1 = await reader.readexactly(2)
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack(">H", await reader.readexactly(2))
        elif n == 127:
            (n,) = struct.unpack(">Q", await reader.readexactly(8))
        payload = await reader.readexactly(n)
        if b0 & 0x0F == 0x1:
            return json.loads(payload.decode())
        if b0 & 0x0F == 0x8:
            raise RuntimeError("the server closed the WebSocket")


async def session(host, port, offer):
    reader, writer = await ws_connect(host, port)
    writer.write(ws_frame(0x1, offer))
    while True:
        message = await ws_recv(reader)
        if message["type"] == "answer":
            break
        if message["type"] == "error":
            raise RuntimeError(f"offer refused: {message}")
    writer.write(ws_frame(0x8, struct.pack(">H", 1000)))
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main(host, port, pid, offer_path, warm_up, sessions):
    with open(offer_path) as f:
        offer = json.load(f)
    offer["sdp"] = "".join(
        line
        for line in offer["sdp"].splitlines(keepends=True)
        if not line.startswith("a=candidate:") and not line.startswith("a=end-of-candidates")
    )
    text = json.dumps(offer).encode()
    for _ in range(warm_up):
        await session(host, port, text)
    await asyncio.sleep(1)
    before = rss_kib(pid)
    started = time.monotonic()
    for _ in range(sessions):
        await session(host, port, text)
    elapsed = time.monotonic() - started
    await asyncio.sleep(1)
    after = rss_kib(pid)
    print(f"rss_before_kib {before}")
    print(f"rss_after_kib {after}")
    print(f"sessions {sessions}")
    print(f"seconds {elapsed:.1f}")
    print(f"kept_per_session_bytes {(after - before) * 1024 // sessions}")


if __name__ == "__main__":
    host, port, pid, offer_path, warm_up, sessions = sys.argv[1:7]
    asyncio.run(main(host, int(port), int(pid), offer_path, int(warm_up), int(sessions)))
