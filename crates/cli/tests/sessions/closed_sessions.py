"""Opens and closes signaling sessions with `antiphon serve` one after another and reports how
much of the server's memory each closed session kept.

Usage: closed_sessions.py HOST PORT SERVER_PID OFFER_JSON WARM_UP SESSIONS

Each session: a WebSocket to ws://HOST:PORT/ws (../ws_client.py, a minimal RFC 6455
client), the offer from OFFER_JSON ({"type":"offer","sdp":...}, its
candidates removed so that Antiphon checks no address), the answer awaited, then a close frame
and the socket closed; Antiphon answers, gathers and closes the connection. After WARM_UP
sessions the server's VmRSS is read, then after SESSIONS more (and a moment for the last close
to finish). Prints `rss_before_kib N`, `rss_after_kib N`, `sessions N`, `kept_per_session_bytes N`.
"""

import asyncio
import json
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ws_client import ws_connect, ws_frame, ws_recv  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


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
