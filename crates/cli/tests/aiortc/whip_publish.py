"""aiortc as a WHIP client (RFC 9725) of `antiphon serve`: publishes an audio and a video track
(aiortc's generated silence and frames) and a data channel with `POST /whip`, applies the
answer, checks the data channel echo, then ends the session with `DELETE`.

Usage: whip_publish.py HOST PORT [TOKEN]

aiortc does not trickle: its offer carries every candidate. Prints `created LOCATION ETAG`,
`received echo: ...`, `deleted STATUS`, and exits non-zero on any failure.
"""

import asyncio
import sys
import urllib.error
import urllib.request

import aioice.ice
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

# The tests run in a network namespace that holds only loopback, and aioice gathers no
# 127.0.0.1 candidate on its own: gather on loopback only.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []


def request(method, url, token, body=None, content_type=None):
    """A blocking HTTP request: (status, headers, body)."""
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=20) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


async def main(host, port, token):
    base = f"http://{host}:{port}"
    pc = RTCPeerConnection()
    pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
    channel = pc.createDataChannel("whip")
    echoed = asyncio.get_running_loop().create_future()

    @channel.on("open")
    def on_open():
        channel.send("hello from aiortc")

    @channel.on("message")
    def on_message(message):
        if not echoed.done():
            echoed.set_result(message)

    await pc.setLocalDescription(await pc.createOffer())
    loop = asyncio.get_running_loop()
    status, headers, answer = await loop.run_in_executor(
        None,
        lambda: request("POST", base + "/whip", token, pc.localDescription.sdp.encode(), "application/sdp"),
    )
    if status != 201:
        raise SystemExit(f"POST answered {status}: {answer}")
    location = headers["Location"]
    print("created", location, headers["ETag"], flush=True)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    message = await asyncio.wait_for(echoed, 30)
    print("received", message, flush=True)
    if message != "echo: hello from aiortc":
        raise SystemExit("wrong echo")
    for transceiver in pc.getTransceivers():
        print("transceiver", transceiver.kind, transceiver.currentDirection, flush=True)
    status, _, _ = await loop.run_in_executor(None, lambda: request("DELETE", base + location, token))
    print("deleted", status, flush=True)
    await pc.close()
    if status != 200:
        raise SystemExit(f"DELETE answered {status}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
