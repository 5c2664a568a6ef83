"""The lean encoding (PROTOCOL.md LEAN-*): prepared calls without JSON, and a worker that survives
any lean frame (a seeded generator of malformed frames, as the JSON fuzz tests do for JSON)."""
import json
import random
import struct
import unittest

from snakebridge_worker import lean
from snakebridge_worker.errors import BridgeError
from worker_client import WorkerProcess


def lean_text(text):
    return text.encode("utf-8")


def call_frame(request_id, session, prepared, *args):
    body = bytearray(struct.pack("<BBqH", 0xB1, 1, request_id, len(session)) + lean_text(session))
    body += struct.pack("<H", len(prepared)) + lean_text(prepared) + struct.pack("<B", len(args))
    for arg in args:
        if arg is None:
            body += b"N"
        elif arg is True or arg is False:
            body += b"T" if arg else b"F"
        elif type(arg) is float:
            body += b"d" + struct.pack("<d", arg)
        elif type(arg) is int:
            body += b"q" + struct.pack("<q", arg)
        else:
            data = arg.encode("utf-8")
            body += b"s" + struct.pack("<I", len(data)) + data
    return bytes(body)


def by_name_frame(request_id, session, function, *args):
    """A lean call by name (LEAN-1, op 3): call_prepared's frame with the function in place of the prepared id."""
    frame = bytearray(call_frame(request_id, session, function, *args))
    frame[1] = 3
    return bytes(frame)


def execute_frame(request_id, session, prepared, want, columns):
    rows = len(columns[0]) if columns else 0
    body = bytearray(struct.pack("<BBqH", 0xB1, 2, request_id, len(session)) + lean_text(session))
    body += struct.pack("<H", len(prepared)) + lean_text(prepared) + struct.pack("<BIB", want, rows, len(columns))
    for column in columns:
        kind = "d" if type(column[0]) is float else "q"
        body += kind.encode() + struct.pack("<%d%s" % (len(column), kind), *column)
    return bytes(body)


def parse_response(payload):
    magic, request_id, kind = struct.unpack_from("<Bqc", payload)
    rest = payload[10:]
    if kind == b"d":
        return request_id, struct.unpack("<d", rest)[0]
    if kind == b"q":
        return request_id, struct.unpack("<q", rest)[0]
    if kind == b"s":
        return request_id, rest[4:].decode("utf-8")
    if kind == b"A":
        dtype, count = struct.unpack_from("<BI", rest)
        return request_id, (dtype, rest[5:])
    return request_id, {b"N": None, b"T": True, b"F": False}[kind]


class LeanWorkerTest(unittest.TestCase):
    def setUp(self):
        self.worker = WorkerProcess()
        self.worker._next_id += 1
        self.worker.send_frame(json.dumps({"id": self.worker._next_id, "op": "handshake", "protocol_version": 1,
                                           "min_supported_version": 1, "client_capabilities": ["lean"]}).encode())
        self.assertIn("lean", self.worker.read_frame()["result"]["capabilities"])
        self.sqrt = self.worker.ok("prepare", session_id="s", function="math.sqrt")["id"]

    def tearDown(self):
        self.worker.close()

    def lean(self, frame):
        self.worker.send_frame(frame)
        payload = self.worker.read_raw_frame()
        return parse_response(payload) if payload[0] == 0xB1 else json.loads(payload)

    def test_a_lean_call_gets_a_lean_scalar_answer(self):
        self.assertEqual(self.lean(call_frame(41, "s", self.sqrt, 2.0)), (41, 2.0 ** 0.5))
        echo = self.worker.ok("prepare", session_id="s", function="str.lower")["id"]
        self.assertEqual(self.lean(call_frame(42, "s", echo, "ÀB")), (42, "àb"))
        identity = self.worker.ok("prepare", session_id="s", function="max")["id"]
        self.assertEqual(self.lean(call_frame(43, "s", identity, 3, -2 ** 63)), (43, 3))
        self.assertEqual(self.lean(call_frame(44, "s", identity, True, False)), (44, True))

    def test_what_has_no_lean_form_is_answered_in_json(self):
        self.assertEqual(self.lean(call_frame(7, "s", self.sqrt, -1.0))["error"]["type"], "ValueError")
        divmod_ = self.worker.ok("prepare", session_id="s", function="divmod")["id"]
        self.assertEqual(self.lean(call_frame(8, "s", divmod_, 7, 2)), {"id": 8, "ok": True, "result": {
            "__type__": "tuple", "__schema__": 1, "elements": [3, 1]}})
        self.assertEqual(self.lean(call_frame(9, "s", "0" * 32, 1.0))["error"]["code"], "ref_not_found")

    def test_a_lean_execute_answers_one_array(self):
        request_id, (dtype, data) = self.lean(execute_frame(5, "s", self.sqrt, 2, [[float(i) for i in range(300)]]))
        self.assertEqual((request_id, dtype), (5, 2))
        self.assertEqual(list(struct.unpack("<300d", data)), [i ** 0.5 for i in range(300)])
        failed = self.lean(execute_frame(6, "s", self.sqrt, 2, [[1.0, -1.0]]))
        self.assertEqual(list(failed["result"]["errors"]), ["1"])  # a failed row: the JSON answer says which
        power = self.worker.ok("prepare", session_id="s", function="math.pow")["id"]
        self.assertEqual(self.lean(execute_frame(7, "s", power, 0, [[2.0, 3.0], [10, 2]]))["result"]["values"], [1024.0, 9.0])

    def test_a_malformed_lean_frame_is_a_protocol_error_and_the_worker_keeps_serving(self):
        good = call_frame(3, "s", self.sqrt, 2.0)
        for frame in (good[:5], good[:-1], good + b"x", good[:1] + b"\x09" + good[2:],
                      call_frame(3, "s", self.sqrt, 2.0)[:-9] + b"z" + b"\0" * 8,
                      struct.pack("<BBqH", 0xB1, 1, 3, 2) + b"\xff\xfe" + good[14:]):
            answer = self.lean(frame)
            self.assertEqual(answer["error"]["code"], "protocol", frame)
        self.assertEqual(self.lean(good), (3, 2.0 ** 0.5))

    def test_seeded_hostile_lean_frames_never_end_the_worker(self):
        rng = random.Random(18)
        seeds = [call_frame(1, "s", self.sqrt, 2.0), call_frame(2, "s", self.sqrt, "x", None, 7),
                 execute_frame(3, "s", self.sqrt, 2, [[1.0, 2.0]]), execute_frame(4, "s", self.sqrt, 0, [[1, 2], [3, 4]]),
                 by_name_frame(5, "s", "math.sqrt", 2.0), by_name_frame(6, "s", "max", "x", None, 7)]
        for _ in range(300):
            frame = bytearray(rng.choice(seeds))
            for _ in range(rng.randint(1, 4)):
                mutation = rng.randrange(4) if len(frame) > 1 else 2
                if mutation == 0:
                    del frame[rng.randrange(1, len(frame)):]
                elif mutation == 1:
                    frame[rng.randrange(1, len(frame))] = rng.randrange(256)
                elif mutation == 2:
                    frame += bytes(rng.randrange(256) for _ in range(rng.randint(1, 9)))
                else:
                    frame[rng.randrange(1, len(frame))] = rng.choice((0, 0xFF, 0x7F, 0x80))
            answer = self.lean(bytes(frame))
            self.assertTrue(type(answer) is tuple or "ok" in answer, answer)
        self.assertEqual(self.worker.ok("ping"), "pong")

    def test_a_client_that_did_not_ask_for_lean_gets_a_protocol_error(self):
        plain = WorkerProcess()
        try:
            plain.send_frame(call_frame(1, "s", "x", 1.0))
            self.assertEqual(json.loads(plain.read_raw_frame())["error"]["code"], "protocol")
            self.assertEqual(plain.ok("ping"), "pong")
        finally:
            plain.close()


class LeanParserTest(unittest.TestCase):
    def test_the_parser_raises_only_protocol_errors_on_random_bytes(self):
        rng = random.Random(1818)
        for _ in range(5000):
            frame = bytes([0xB1, rng.choice((1, 2, rng.randrange(256)))]) + bytes(
                rng.randrange(256) for _ in range(rng.randrange(40)))
            try:
                lean.parse_request(frame, 1000)
            except BridgeError as error:
                self.assertIn(error.code, ("protocol", "invalid_value"))


if __name__ == "__main__":
    unittest.main()
