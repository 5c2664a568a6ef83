"""Instructions the worker spends per request, as README's Performance section reports them.

    python3 bench/src/main/python/profile_worker.py [KIND ...]

KIND is lean (a lean call_prepared of math.sqrt), leancall (a lean call of math.sqrt by name), json
(a JSON call of math.sqrt) or jsonprep (a JSON call_prepared); all four by default. For each, the
worker (a Server over in-memory streams, in this process) answers N copies of one request under
callgrind, and again with none; the difference divided by N is the worker's work per request,
framing included, the pipe and the client not. Needs valgrind. ``--run KIND N`` is the measured
process itself."""
import io
import json
import os
import re
import struct
import subprocess
import sys

SOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "python", "src", "main", "python")
KINDS = ("lean", "leancall", "json", "jsonprep")
REQUESTS = 2000


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def lean_call(op, request_id, session, target):
    """A lean call_prepared (op 1) or call by name (op 3) of one float, 2.0 (PROTOCOL.md LEAN-1)."""
    return (struct.pack("<BBqH", 0xB1, op, request_id, len(session)) + session + struct.pack("<H", len(target)) + target
            + b"\x01d" + struct.pack("<d", 2.0))


def run(kind, count):
    sys.path.insert(0, SOURCES)
    from snakebridge_worker import DEFAULTS
    from snakebridge_worker.registry import Registry
    from snakebridge_worker.server import Server
    from snakebridge_worker.worker import Worker

    worker = Worker(Registry(DEFAULTS), "w")
    worker.install_sigint_handler()

    def serve(data):
        out = io.BytesIO()
        Server(io.BufferedReader(io.BytesIO(data)), out, worker).serve()
        return out.getvalue()

    setup = [{"id": 1, "op": "handshake", "protocol_version": 1, "min_supported_version": 1, "client_capabilities": ["lean"]},
             {"id": 2, "op": "prepare", "session_id": "s", "function": "math.sqrt"},
             {"id": 3, "op": "call", "session_id": "s", "function": "math.sqrt", "args": [2.0]}]
    answers = serve(b"".join(frame(json.dumps(request).encode()) for request in setup))
    (length,) = struct.unpack_from(">I", answers)
    (second,) = struct.unpack_from(">I", answers, 4 + length)
    prepared = json.loads(answers[8 + length:8 + length + second])["result"]["id"]  # the prepare's answer
    if kind == "lean":
        body = lean_call(1, 10, b"s", prepared.encode())
    elif kind == "leancall":
        body = lean_call(3, 10, b"s", b"math.sqrt")
    else:
        fields = {"function": "math.sqrt"} if kind == "json" else {"prepared": prepared}
        body = json.dumps(dict({"id": 10, "op": "call" if kind == "json" else "call_prepared", "session_id": "s"},
                               args=[2.0], **fields), separators=(",", ":")).encode()
    out = serve(frame(body) * count)  # one request, count times: building them costs nothing measurable
    if count and not (out[4] == 0xB1 or out[4:40].startswith(b'{"id":10,"ok":true')):
        raise AssertionError(f"the worker did not answer {kind} with a result: {out[:200]!r}")


def instructions(kind, count):
    result = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                             os.path.abspath(__file__), "--run", kind, str(count)],
                            env=dict(os.environ, PYTHONHASHSEED="0"), capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", result.stderr).group(1))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--run"]:
        run(sys.argv[2], int(sys.argv[3]))
    else:
        for kind in sys.argv[1:] or KINDS:
            print(f"{kind}: {(instructions(kind, REQUESTS) - instructions(kind, 0)) // REQUESTS} instructions a request")
