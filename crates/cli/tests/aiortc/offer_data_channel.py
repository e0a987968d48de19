"""aiortc offers a data channel, or audio + video + a data channel, to `antiphon serve` over
its WebSocket signaling.

Usage: offer_data_channel.py HOST PORT [--media] [--small-limit]

Sends {"type":"offer","sdp":...} to ws://HOST:PORT/ws (../ws_client.py, a minimal RFC 6455 client: masked text
frames), applies the answer, opens the "chat" channel, sends a text and a binary message and
prints what comes back: `received text echo: ...`, `received binary ...`, then `state ...`.
With --media it also sends an audio and a video track (aiortc's generated silence and frames)
and prints `transceiver KIND DIRECTION CODEC` for each as negotiated. With --small-limit the
offer Antiphon sees says `a=max-message-size:1000`: a 2000-byte message then has an echo that
Antiphon must refuse to send, and the text sent after it must still come back (`received text
echo: after the refused echo`). Exits non-zero on any failure.
"""

import asyncio
import json
import sys
from pathlib import Path

import aioice.ice
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ws_client import ws_connect, ws_recv, ws_send  # noqa: E402

# The tests run in a network namespace that holds only loopback, and aioice gathers no
# 127.0.0.1 candidate on its own: gather on loopback only.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []


async def main(host, port, media, small_limit):
    reader, writer = await ws_connect(host, port)
    pc = RTCPeerConnection()
    if media:
        pc.addTrack(AudioStreamTrack())
        pc.addTrack(VideoStreamTrack())
    channel = pc.createDataChannel("chat")
    # Antiphon returns our tracks: count the frames aiortc decodes of each.
    frames = {}

    @pc.on("track")
    def on_track(track):
        async def count():
            frames[track.kind] = 0
            while True:
                try:
                    await track.recv()
                except Exception:
                    return
                frames[track.kind] += 1

        asyncio.ensure_future(count())

    received = []
    done = asyncio.get_running_loop().create_future()

    @channel.on("open")
    def on_open():
        channel.send("hello from aiortc")
        channel.send(b"\x01\x02\x03")

    expected = 2

    @channel.on("message")
    def on_message(message):
        nonlocal expected
        received.append(message)
        if len(received) == 2 and small_limit:
            # Antiphon may send us at most 1000 bytes: the echo of this one is refused.
            channel.send(b"\x07" * 2000)
            channel.send("after the refused echo")
            expected = 3
        if len(received) == expected and not done.done():
            done.set_result(None)

    # aiortc gathers all its candidates in setLocalDescription: the offer carries them.
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    if small_limit:
        offer = offer.replace("a=max-message-size:262144", "a=max-message-size:1000")
        if "a=max-message-size:1000" not in offer:
            raise RuntimeError("aiortc's offer has no a=max-message-size:262144 to lower")
    ws_send(writer, json.dumps({"type": "offer", "sdp": offer}))
    while True:
        message = await ws_recv(reader)
        if message["type"] == "answer":
            break
        if message["type"] == "error":
            raise RuntimeError("Antiphon refused the offer: " + message["message"])
    await pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="answer"))
    await asyncio.wait_for(done, 20)
    if media:
        for _ in range(100):
            if frames.get("audio", 0) >= 10 and frames.get("video", 0) >= 10:
                break
            await asyncio.sleep(0.1)
        for kind in sorted(frames):
            print("returned", kind, "frames", frames[kind], flush=True)
    for message in received:
        if isinstance(message, str):
            print("received text", message, flush=True)
        elif len(message) <= 16:
            print("received binary", ",".join(str(b) for b in message), flush=True)
        else:
            print("received binary of", len(message), "bytes", flush=True)
    for transceiver in pc.getTransceivers():
        codecs = transceiver._codecs  # aiortc keeps the negotiated codecs here
        first = codecs[0].mimeType if codecs else "none"
        print("transceiver", transceiver.kind, transceiver.currentDirection, first, flush=True)
    print("state", pc.connectionState, flush=True)
    await pc.close()
    writer.close()


if __name__ == "__main__":
    flags = sys.argv[3:]
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), "--media" in flags, "--small-limit" in flags))
