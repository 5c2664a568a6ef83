"""A hostile worker for the driver's tests: handshakes correctly, then answers the first call
with one kind of garbage (argv[1])."""
import json
import signal
import struct
import sys
import time

mode = sys.argv[1]
signal.signal(signal.SIGINT, signal.SIG_IGN)  # deaf to cancel: only the grace-period kill ends it
i, o = sys.stdin.buffer, sys.stdout.buffer


def read():
    header = i.read(4)
    if len(header) < 4:
        sys.exit(0)
    return json.loads(i.read(struct.unpack(">I", header)[0]))


def send_raw(data):
    o.write(data)
    o.flush()


def send(message):
    data = json.dumps(message).encode()
    send_raw(struct.pack(">I", len(data)) + data)


while True:
    request = read()
    op, rid = request["op"], request["id"]
    if op == "handshake":
        send({"id": rid, "ok": True, "result": {"protocol_version": 1, "min_supported_version": 1, "worker_id": "fake",
                                                "limits": request.get("limits", {})}})  # adopts the client's limits (HS-5)
    elif op in ("open_session", "ping"):
        send({"id": rid, "ok": True, "result": "pong" if op == "ping" else {}})
    elif mode == "garbage":
        send_raw(b"\x00\x00\x00\x05hello")
    elif mode == "json_array":
        send([1, 2])
    elif mode == "wrong_id":
        send({"id": rid + 1, "ok": True, "result": 1})
    elif mode == "huge_length":
        send_raw(struct.pack(">I", 0x7FFFFFFF))
    elif mode == "neither_ok_nor_error":
        send({"id": rid})
    elif mode == "unknown_tag":
        send({"id": rid, "ok": True, "result": {"__type__": "mystery", "__schema__": 1}})
    elif mode == "foreign_ref":
        send({"id": rid, "ok": True, "result": {"__type__": "ref", "__schema__": 1, "id": "a" * 32, "session_id": "someone-else"}})
    elif mode == "sends_the_hex_it_got":  # the call's first argument, as a frame: random bytes from a test
        payload = bytes.fromhex(request["args"][0])
        send_raw(struct.pack(">I", len(payload)) + payload)
    elif mode == "truncated":
        send_raw(struct.pack(">I", 100) + b'{"id"')
        sys.exit(0)
    elif mode == "silence":
        time.sleep(60)
