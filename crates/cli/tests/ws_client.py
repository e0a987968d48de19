"""A minimal RFC 6455 client for the Python scripts that drive `antiphon serve` in tests
(aiortc/offer_data_channel.py, sessions/closed_sessions.py): the upgrade, masked frames out,
text frames in as JSON. Test code only; the server side is what is under test."""

import asyncio
import base64
import json
import os
import struct


async def ws_connect(host, port):
    """Opens ws://HOST:PORT/ws; the (reader, writer) pair after the 101 response."""
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
    """One masked frame with FIN set."""
    mask = os.urandom(4)
    n = len(data)
    if n < 126:
        header = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        header = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack(">H", n)
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack(">Q", n)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def ws_send(writer, text):
    """Sends `text` as one text frame."""
    writer.write(ws_frame(0x1, text.encode()))


async def ws_recv(reader):
    """The next text message, parsed as JSON; raises when the server closes."""
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
