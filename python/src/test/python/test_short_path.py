"""The worker's short path (server.py: the commonest calls answered without the general dispatch)
must answer every request exactly as the general path does: the same bytes, the same refs left,
the same cancels, expiries and policy checks."""
import io
import json
import os
import shutil
import socket
import struct
import tempfile
import unittest
from unittest import mock

from snakebridge_worker import DEFAULTS, registry as registry_module
from snakebridge_worker.__main__ import _socket_streams
from snakebridge_worker.framing import read_frame, write_frame
from snakebridge_worker.registry import Registry
from snakebridge_worker.server import Server
from snakebridge_worker.worker import Worker
from test_lean import by_name_frame, call_frame
from worker_client import WorkerProcess, await_file, mark_then_await


def framed(payload):
    return struct.pack(">I", len(payload)) + payload


def json_frame(request_id, op, **fields):
    return json.dumps(dict(fields, id=request_id, op=op)).encode("utf-8")


class _Ids:
    """Ref ids in order (a registry draws them at random): two runs make the same ids."""

    def __init__(self):
        self.count = 0

    def uuid4(self):
        self.count += 1
        return mock.Mock(hex=f"{self.count:032x}")


def ref_id(n):
    return f"{n:032x}"


class InProcessWorker:
    """A worker answering frames from memory, with the short path on or off, its clock in the test's hands."""

    def __init__(self, short_path=True):
        self.now = 1000.0
        self.registry = Registry(DEFAULTS, clock=lambda: self.now)
        self.worker = Worker(self.registry, "w")
        self.short_path = short_path
        self.short_answers = 0
        self._ids = _Ids()

    def answer(self, *payloads):
        """The bytes the worker writes for these request frames."""
        out = io.BytesIO()
        server = Server(io.BufferedReader(io.BytesIO(b"".join(map(framed, payloads)))), out, self.worker)
        run_now = server._run_now

        def counted(*args):
            self.short_answers += 1
            return run_now(*args)
        server._run_now = counted
        server.short_path = self.short_path
        with mock.patch.object(registry_module, "uuid", self._ids):
            server.serve()
        return out.getvalue()


def requests():
    """Requests of every kind the short path takes or must leave to the general path: results with and
    without a lean form, errors of user code and of the request, other sessions, a policy, refs."""
    sent = [json_frame(1, "handshake", protocol_version=1, min_supported_version=1, client_capabilities=["lean"],
                    limits={"max_string_length": 50})]
    sqrt, nan, power, text, get, obj, tuple_of = (ref_id(n) for n in range(1, 8))
    for n, function in enumerate(("math.sqrt", "float", "pow", "str.__mul__", "os.environ.get", "object", "divmod"), 2):
        sent.append(json_frame(n, "prepare", session_id="s", function=function))
    sent += [
        json_frame(20, "call", session_id="s", function="math.sqrt", args=[2.0]),  # the general path learns the name
        call_frame(21, "s", sqrt, 2.0), call_frame(22, "s", sqrt, -1.0), call_frame(23, "s", sqrt, 9),
        call_frame(24, "s", nan, "nan"), call_frame(25, "s", nan, "-inf"), call_frame(26, "s", nan, "x"),
        call_frame(27, "s", power, 2, 10), call_frame(28, "s", power, 2, 70), call_frame(29, "s", power, 2.0, 0.5),
        call_frame(30, "s", text, "ab", 3), call_frame(31, "s", text, "ab", 30), call_frame(32, "s", text, "\u00e9", 2),
        call_frame(33, "s", get, "NO_SUCH_VARIABLE_HERE"), call_frame(34, "s", obj), call_frame(35, "s", tuple_of, 7, 2),
        call_frame(36, "s", sqrt), call_frame(37, "s", sqrt, None), call_frame(38, "s", sqrt, True),
        call_frame(39, "s", ref_id(99), 1.0), call_frame(40, "other", sqrt, 1.0), call_frame(41, "", sqrt, 1.0),
        call_frame(42, "s", "", 1.0), call_frame(43, "s", ref_id(8), 1.0),  # ref 8: the object call 34 made
        by_name_frame(50, "s", "math.sqrt", 16.0), by_name_frame(51, "s", "abs", -7), by_name_frame(52, "s", "math.nope"),
        by_name_frame(53, "s", "not a name"), by_name_frame(54, "s", "math.sqrt", "x"), by_name_frame(55, "", "abs", 1),
        json_frame(60, "call", session_id="s", function="math.sqrt", args=[-4.0]),
        json_frame(61, "call", session_id="s", function="math.sqrt", args=[4.0], want="ref"),
        json_frame(62, "call", session_id="s", function="math.sqrt", args=[4.0], want="nothing"),
        json_frame(63, "call", session_id="s", function="math.sqrt", args=[4.0], kwargs={}),
        json_frame(64, "call", session_id="s", function="math.sqrt", args=[4.0], release=[ref_id(9)]),
        json_frame(65, "call", session_id="s", function="math.sqrt", args="4.0"),
        json_frame(66, "call", session_id="", function="math.sqrt", args=[4.0]),
        json_frame(67, "call", session_id="s", function="math.sqrt", args=[[4.0]]),
        json_frame(68, "call", session_id="s", function="divmod", args=[7, 2]),
        json_frame(69, "call", session_id="s", function="math.sqrt", args=[4.0], object=None),
        json_frame(80, "call", session_id="s", function="callable", args=[1]),
        json_frame(81, "call", session_id="s", function="abs", args=[-3]),
        json_frame(82, "call", session_id="s", function="os.environ.get", args=["NO_SUCH_VARIABLE_HERE"]),
        json_frame(83, "call", session_id="s", function="pow", args=[2, 70]),
        json_frame(84, "call", session_id="s", function="float", args=["nan"]),
        json_frame(85, "call", session_id="s", function="str", args=[12]),
        json_frame(86, "call_prepared", session_id="s", prepared=sqrt, args=[9.0]),
        json_frame(87, "call_prepared", session_id="s", prepared=sqrt, args=[-9.0]),
        json_frame(88, "call_prepared", session_id="s", prepared=tuple_of, args=[9, 4]),
        json_frame(89, "call_prepared", session_id="s", prepared=ref_id(99), args=[9.0]),
        json_frame(90, "call_prepared", session_id="s", prepared="", args=[9.0]),
        json_frame(91, "call_prepared", session_id="s", prepared=[sqrt], args=[9.0]),
        json_frame(92, "call_prepared", session_id="s", prepared=sqrt, args=[9.0], want="ref"),
        json_frame(93, "call_prepared", session_id="s", prepared=text, args=["ab"], kwargs={"x": 1}),
        json_frame(94, ["call"], session_id="s", function="abs", args=[1]),
        json_frame(70, "open_session", session_id="p", policy={"allow_modules": ["math"]}),
        json_frame(71, "prepare", session_id="p", function="math.sqrt"),
        call_frame(72, "p", ref_id(11), 4.0), by_name_frame(73, "p", "math.sqrt", 4.0), by_name_frame(74, "p", "abs", -1),
        json_frame(75, "call", session_id="p", function="math.sqrt", args=[4.0]),
        json_frame(76, "session_info", session_id="s"),
    ]
    return sent


class ShortPathTest(unittest.TestCase):
    def test_every_request_gets_the_same_answer_by_the_short_path_as_by_the_general_path(self):
        general, short = InProcessWorker(short_path=False), InProcessWorker()
        expected, actual = general.answer(*requests()), short.answer(*requests())
        # 18 lean call_prepared, 4 lean calls by name, 11 JSON calls and 3 JSON call_prepared take the short
        # path: the comparison is not vacuous
        self.assertEqual(short.short_answers, 36)
        self.assertEqual(general.short_answers, 0)
        self.assertEqual(_frames(actual), _frames(expected))
        self.assertEqual(short.registry.session_info("s"), general.registry.session_info("s"))

    def test_a_short_path_request_expires_the_idle_refs_of_every_session_as_any_request_does(self):
        worker = InProcessWorker()
        handshake = json_frame(1, "handshake", protocol_version=1, min_supported_version=1, client_capabilities=["lean"])
        worker.answer(handshake, json_frame(2, "open_session", session_id="ttl", limits={"ref_ttl_seconds": 10}),
                      json_frame(3, "call", session_id="ttl", function="object", want="ref"),
                      json_frame(4, "prepare", session_id="s", function="math.sqrt"),
                      json_frame(5, "call", session_id="s", function="abs", args=[1]))
        self.assertEqual(worker.registry.session_info("s")["worker_live_refs"], 2)
        worker.now += 11
        shorts = worker.short_answers
        worker.answer(call_frame(6, "s", ref_id(2), 4.0))
        self.assertEqual(worker.short_answers, shorts + 1)
        self.assertEqual(len(worker.registry._owner), 1)  # the object's ref expired on this request, before any other
        worker.answer(by_name_frame(7, "s", "abs", -1))
        self.assertEqual(worker.short_answers, shorts + 2)

    def test_a_short_path_call_renews_its_prepared_call_under_a_ttl(self):
        worker = InProcessWorker()
        worker.answer(json_frame(1, "handshake", protocol_version=1, min_supported_version=1, client_capabilities=["lean"]),
                      json_frame(2, "open_session", session_id="s", limits={"ref_ttl_seconds": 10}),
                      json_frame(3, "prepare", session_id="s", function="math.sqrt"))
        for request_id in (4, 5, 6):
            worker.now += 8
            self.assertEqual(_frames(worker.answer(call_frame(request_id, "s", ref_id(1), 4.0))),
                             [struct.pack("<BqBd", 0xB1, request_id, ord("d"), 2.0)])
        worker.now += 11
        error = json.loads(worker.answer(call_frame(7, "s", ref_id(1), 4.0))[4:])["error"]
        self.assertEqual((error["code"], error["details"]["reason"]), ("ref_not_found", "expired"))

    def test_under_a_policy_a_prepared_mutating_method_is_judged_on_every_lean_call(self):
        worker = InProcessWorker()
        worker.answer(json_frame(1, "handshake", protocol_version=1, min_supported_version=1, client_capabilities=["lean"]),
                      json_frame(2, "open_session", session_id="p", policy={"allow_modules": ["builtins"]}),
                      json_frame(3, "call", session_id="p", function="list", want="ref"),
                      json_frame(4, "prepare", session_id="p", object={"__type__": "ref", "__schema__": 1,
                                                                       "id": ref_id(1)}, function="append"))
        items = worker.registry.resolve("p", ref_id(1))
        self.assertEqual(_frames(worker.answer(call_frame(5, "p", ref_id(2), 1))), [struct.pack("<BqB", 0xB1, 5, ord("N"))])
        worker.registry.policy("p").note_reached(items)  # the list became module state after it was prepared (POL-4)
        error = json.loads(worker.answer(call_frame(6, "p", ref_id(2), 2))[4:])["error"]
        self.assertEqual((error["code"], items), ("policy_denied", [1]))


def _frames(data):
    frames, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        frames.append(data[pos + 4:pos + 4 + length])
        pos += 4 + length
    return frames


class ShortPathCancelTest(unittest.TestCase):
    """CANCEL-3 on the short path: a SIGINT interrupts the user code of the request it names, and nothing else."""

    def setUp(self):
        self.worker = WorkerProcess(cancel_word=True, handshake=False)
        self.worker.request("handshake", protocol_version=1, min_supported_version=1, client_capabilities=["lean"])
        self.exec_ = self.worker.ok("prepare", session_id="s", function="exec")["id"]
        self.worker.ok("call", session_id="s", function="exec", args=["pass"])  # the name is known: calls by name go short
        self.dir = tempfile.mkdtemp(prefix="sb-short-")

    def tearDown(self):
        self.worker.close()
        self.worker.cancel_word.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def lean(self, frame):
        self.worker._next_id += 1
        self.worker.send_frame(frame)

    def answer(self):
        payload = self.worker.read_raw_frame()
        return ("lean", struct.unpack_from("<q", payload, 1)[0]) if payload[0] == 0xB1 else json.loads(payload)

    def test_a_sigint_for_a_running_short_path_call_cancels_it_and_the_session_survives(self):
        for frame_of in (lambda i, source: call_frame(i, "s", self.exec_, source),
                         lambda i, source: by_name_frame(i, "s", "exec", source)):
            mark, release = os.path.join(self.dir, "mark"), os.path.join(self.dir, "release")
            running = self.worker.last_id + 1
            self.lean(frame_of(running, mark_then_await(mark, release)))
            await_file(mark)
            self.worker.interrupt(running)
            response = self.answer()
            self.assertEqual((response["id"], response["error"]["code"]), (running, "cancelled"))
            os.remove(mark)
            self.lean(call_frame(self.worker.last_id + 1, "s", self.exec_, "x = 1"))
            self.assertEqual(self.answer(), ("lean", self.worker.last_id))

    def test_a_sigint_for_an_answered_request_never_interrupts_the_short_path_call_behind_it(self):
        answered = self.worker.last_id
        mark, release = os.path.join(self.dir, "mark"), os.path.join(self.dir, "release")
        running = answered + 1
        self.lean(call_frame(running, "s", self.exec_, mark_then_await(mark, release)))
        await_file(mark)
        self.worker.interrupt(answered)
        self.worker.cancel_word.await_taken(answered)
        open(release, "w").close()
        self.assertEqual(self.answer(), ("lean", running))

    def test_a_sigint_for_a_short_path_call_not_yet_started_cancels_it_when_its_user_code_starts(self):
        upcoming = self.worker.last_id + 1
        self.worker.interrupt(upcoming)
        self.worker.cancel_word.await_taken(upcoming)
        self.lean(call_frame(upcoming, "s", self.exec_, "import time\ntime.sleep(30)"))
        response = self.answer()
        self.assertEqual((response["id"], response["error"]["code"]), (upcoming, "cancelled"))
        self.lean(by_name_frame(upcoming + 1, "s", "abs", -1))
        self.assertEqual(self.answer(), ("lean", upcoming + 1))


if __name__ == "__main__":
    unittest.main()


class ForkedWorkerStreamsTest(unittest.TestCase):
    """A forked worker's protocol streams (__main__._socket_streams): a plain blocking socket's are
    read and written through its file descriptor, and carry frames as makefile's would."""

    def test_a_plain_socket_is_read_and_written_through_its_file_descriptor(self):
        worker_end, client_end = socket.socketpair()
        with client_end:
            proto_in, proto_out, idle = _socket_streams(worker_end)
            self.assertIsNone(idle)
            with proto_in, proto_out:
                self.assertEqual((type(proto_in.raw), type(proto_out.raw)), (io.FileIO, io.FileIO))
                client_end.sendall(framed(b"ping"))
                self.assertEqual(read_frame(proto_in, 1024), b"ping")
                write_frame(proto_out, b"pong")
                self.assertEqual(client_end.recv(8), framed(b"pong"))
                client_end.shutdown(socket.SHUT_WR)
                self.assertIsNone(read_frame(proto_in, 1024))  # the client's end of the stream is a clean EOF

    def test_a_socket_with_a_timeout_keeps_makefile(self):
        worker_end, client_end = socket.socketpair()
        with worker_end, client_end:
            worker_end.settimeout(5)
            proto_in, proto_out, idle = _socket_streams(worker_end)
            self.assertIsNone(idle)
            with proto_in, proto_out:
                self.assertNotEqual(type(proto_in.raw), io.FileIO)
