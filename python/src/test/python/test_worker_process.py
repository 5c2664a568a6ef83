"""Drives a real worker process over its pipes."""
import json
import os
import shutil
import struct
import tempfile
import unittest

from worker_client import WorkerProcess, await_file, mark_then_await, sigint_once_running


class WorkerProcessTest(unittest.TestCase):
    def setUp(self):
        self.worker = WorkerProcess()

    def tearDown(self):
        self.worker.close()

    def call(self, function, *args, **fields):
        return self.worker.request("call", session_id="s", function=function, args=list(args), **fields)

    def test_handshake_reports_version_pid_python_and_capabilities(self):
        hello = self.worker.hello
        self.assertEqual((hello["protocol_version"], hello["min_supported_version"]), (1, 1))
        self.assertEqual(hello["pid"], self.worker.proc.pid)
        self.assertIn("refs", hello["capabilities"])

    def test_print_in_user_code_goes_to_stderr_and_leaves_the_protocol_intact(self):
        self.assertTrue(self.call("print", "noise on stdout")["ok"])
        self.assertEqual(self.call("math.factorial", 30)["result"], 265252859812191058636308480000000)
        self.assertEqual(self.worker.close(), 0)
        self.assertIn("noise on stdout", self.worker.stderr)

    def test_stderr_is_utf8_whatever_the_locale_or_environment_says(self):
        worker = WorkerProcess(environment={"PYTHONIOENCODING": "latin-1"})  # the Java side reads stderr as UTF-8
        try:
            self.assertTrue(worker.request("call", session_id="s", function="print", args=["snake \N{SNAKE} \u20ac"])["ok"])
        finally:
            worker.close()
        self.assertIn("snake \N{SNAKE} \u20ac", worker.stderr)

    def test_worker_exits_cleanly_on_eof(self):
        self.assertEqual(self.worker.close(), 0)

    def test_requests_before_the_handshake_are_refused(self):
        fresh = WorkerProcess(handshake=False)
        try:
            response = fresh.request("ping")
            self.assertEqual(response["error"]["code"], "protocol")
        finally:
            fresh.close()

    def test_an_unsupported_protocol_version_is_refused_with_the_range(self):
        fresh = WorkerProcess(handshake=False)
        try:
            error = fresh.request("handshake", protocol_version=9, min_supported_version=9)["error"]
            self.assertEqual(error["code"], "unsupported_version")
        finally:
            fresh.close()

    def test_python_exception_carries_type_message_and_traceback(self):
        error = self.call("json.loads", "{bad")["error"]
        self.assertEqual(error["code"], "python_exception")
        self.assertEqual(error["type"], "json.decoder.JSONDecodeError")
        self.assertIn("Expecting property name", error["message"])
        self.assertTrue(any(frame["file"].endswith("decoder.py") for frame in error["traceback"]))

    def test_cause_chain_is_reported_for_raise_from_and_for_an_exception_during_handling(self):
        explicit = self.call("exec", "try:\n    {}['k']\nexcept KeyError as e:\n    raise ValueError('v') from e")["error"]
        self.assertEqual((explicit["type"], explicit["message"]), ("ValueError", "v"))
        self.assertEqual((explicit["cause"]["code"], explicit["cause"]["type"], explicit["cause"]["message"]),
                         ("python_exception", "KeyError", "'k'"))
        self.assertEqual(explicit["cause"]["traceback"][-1]["line"], 2)
        implicit = self.call("exec", "try:\n    1 / 0\nexcept ZeroDivisionError:\n    raise LookupError('during')")["error"]
        self.assertEqual((implicit["type"], implicit["cause"]["type"]), ("LookupError", "ZeroDivisionError"))
        self.assertNotIn("cause", self.call("operator.truediv", 1, 0)["error"])

    def test_dotted_names_resolve_through_modules_classes_and_submodules(self):
        self.assertEqual(self.call("os.path.join", "a", "b")["result"], "a/b")
        self.assertEqual(self.call("collections.OrderedDict.fromkeys", ["a"])["result"], {"a": None})
        self.assertEqual(self.worker.ok("get_attr", session_id="s", name="math.pi"), 3.141592653589793)
        self.assertEqual(self.call("xml.etree.ElementTree.fromstring", "<a/>")["result"]["type_name"], "Element")
        self.assertEqual(self.call("len", [1, 2])["result"], 2)

    def test_missing_attribute_is_a_python_attribute_error(self):
        self.assertEqual(self.call("math.nope")["error"]["type"], "AttributeError")

    def test_ref_lifecycle_create_call_get_set_pass_back_release(self):
        ns = self.call("types.SimpleNamespace", want="value")["result"]
        self.assertEqual(ns["__type__"], "ref")
        self.worker.ok("set_attr", session_id="s", object=ns, name="x", value=41)
        self.assertEqual(self.worker.ok("get_attr", session_id="s", object=ns, name="x"), 41)
        self.assertEqual(self.call("getattr", ns, "x")["result"], 41)
        self.assertEqual(self.worker.ok("session_info", session_id="s")["live_refs"], 1)
        self.assertEqual(self.worker.ok("release_ref", session_id="s", ids=[ns["id"]]), [True])
        error = self.worker.request("get_attr", session_id="s", object=ns, name="x")["error"]
        self.assertEqual((error["code"], error["details"]["reason"]), ("ref_not_found", "released"))

    def test_release_ids_riding_on_a_request_are_released_first(self):
        ref = self.call("object")["result"]
        self.call("len", [], release=[ref["id"], "never-issued"])
        self.assertEqual(self.worker.ok("session_info", session_id="s")["live_refs"], 0)

    def test_stream_next_returns_batches_until_done(self):
        gen = self.call("eval", "(i * i for i in range(5))")["result"]
        self.assertEqual(gen["__type__"], "stream_ref")
        first = self.worker.ok("stream_next", session_id="s", object=gen, max_items=3)
        self.assertEqual(first, {"items": [0, 1, 4], "done": False})
        self.assertEqual(self.worker.ok("stream_next", session_id="s", object=gen, max_items=3), {"items": [9, 16], "done": True})
        not_iterator = self.call("list", [1], want="ref")["result"]
        error = self.worker.request("stream_next", session_id="s", object=not_iterator, max_items=1)["error"]
        self.assertEqual(error["code"], "invalid_argument")

    def test_want_ref_keeps_a_serializable_result_in_python(self):
        ref = self.call("list", [1, 2], want="ref")["result"]
        self.assertEqual(ref["type_name"], "list")
        self.assertEqual(self.worker.ok("call_method", session_id="s", object=ref, method="count", args=[2]), 1)

    def test_a_self_containing_result_in_a_fresh_session_is_invalid_value(self):
        error = self.worker.request("call", session_id="fresh", function="eval", args=["(lambda l: (l.append(l), l)[1])([])"])["error"]
        self.assertEqual(error["code"], "invalid_value")

    def test_unsendable_result_is_an_error_and_its_refs_are_dropped(self):
        error = self.call("eval", "[object(), '\\udc80']")["error"]
        self.assertEqual(error["code"], "invalid_value")
        self.assertEqual(self.worker.ok("session_info", session_id="s")["live_refs"], 0)

    def test_malformed_requests_get_protocol_errors_and_the_worker_keeps_serving(self):
        for payload in (b"\xff\xfe", b"{not json", b"[1, 2]", b'{"op": "ping"}', b'{"id": 1, "op": "fly"}',
                        b'{"id": 1, "op": "call", "function": "len"}', b"1" * 200_000):
            with self.subTest(payload=payload[:20]):
                self.worker.send_frame(payload)
                response = self.worker.read_frame()
                self.assertFalse(response["ok"])
                self.assertEqual(response["error"]["code"], "protocol")
        self.assertEqual(self.worker.ok("ping"), "pong")

    def test_any_valid_json_spelling_of_a_request_is_answered_and_trailing_data_is_refused(self):
        for payload in (b' {"id": 41, "op": "ping"}\n', b'\t{ "op" : "ping" , "id" : 41 }  '):
            with self.subTest(payload=payload):
                self.worker.send_frame(payload)
                self.assertEqual(self.worker.read_frame(), {"id": 41, "ok": True, "result": "pong"})
        self.worker.send_frame(b'{"id": 42, "op": "ping"} {"id": 43, "op": "ping"}')
        response = self.worker.read_frame()
        self.assertEqual(response["error"]["code"], "protocol")
        self.assertIn("Extra data", response["error"]["message"])
        self.assertEqual(self.worker.ok("ping"), "pong")

    def test_a_name_field_of_the_wrong_type_is_a_protocol_error_even_when_unhashable(self):
        for name in (["math", "sqrt"], {"a": 1}, 7):
            with self.subTest(name=name):
                self.assertEqual(self.call_named(name)["error"]["code"], "protocol")
        self.assertEqual(self.worker.ok("ping"), "pong")

    def call_named(self, name):
        return self.worker.request("call", session_id="s", function=name, args=[])

    def test_deeply_nested_request_is_a_clean_error(self):
        self.worker.send_frame(b"[" * 100_000 + b"]" * 100_000)
        self.assertEqual(self.worker.read_frame()["error"]["code"], "protocol")
        self.assertEqual(self.worker.ok("ping"), "pong")

    def test_frame_over_the_maximum_gets_an_error_then_a_clean_close(self):
        self.worker.send_raw(struct.pack(">I", self.worker.hello["limits"]["max_frame_bytes"] + 1))
        response = self.worker.read_frame()
        self.assertEqual(response["error"]["code"], "frame_too_large")
        self.assertEqual(self.worker.proc.wait(timeout=10), 2)

    def test_truncated_frame_at_eof_gets_an_error_then_a_clean_close(self):
        self.worker.send_raw(struct.pack(">I", 100) + b"{}")
        self.worker.proc.stdin.close()
        self.assertEqual(self.worker.read_frame()["error"]["code"], "protocol")
        self.assertEqual(self.worker.proc.wait(timeout=10), 2)



class CancelBySigint(unittest.TestCase):
    def setUp(self):
        self.worker = WorkerProcess()

    def tearDown(self):
        self.worker.close()

    def test_sigint_interrupts_the_running_call_and_the_session_survives(self):
        ref = self.worker.ok("call", session_id="s", function="types.SimpleNamespace", kwargs={"x": 1})
        sleeps_until_interrupted = sigint_once_running(self.worker)
        error = self.worker.request("call", session_id="s", function="exec", args=[sleeps_until_interrupted])["error"]
        self.assertEqual(error["code"], "cancelled")
        self.assertEqual(self.worker.ok("get_attr", session_id="s", object=ref, name="x"), 1)


class TargetedCancel(unittest.TestCase):
    """With a cancel word, a SIGINT cancels the request it names and nothing else (CANCEL-2, CANCEL-3)."""

    def setUp(self):
        self.worker = WorkerProcess(cancel_word=True)
        self.dir = tempfile.mkdtemp(prefix="sb-targeted-")

    def tearDown(self):
        self.worker.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_the_worker_maps_the_word_removes_its_file_and_declares_cancel_target(self):
        self.assertIn("cancel_target", self.worker.hello["capabilities"])
        self.assertFalse(os.path.exists(self.worker.cancel_word.path))
        self.assertIsNone(self.worker.ok("call", session_id="s", function="os.environ.get", args=["SNAKEBRIDGE_CANCEL_WORD"]))

    def test_sigint_between_calls_is_ignored(self):
        answered = self.worker.last_id
        self.worker.interrupt(answered)
        self.worker.cancel_word.await_taken(answered)
        self.assertEqual(self.worker.ok("ping"), "pong")

    def test_a_sigint_for_the_running_request_cancels_it_and_the_session_survives(self):
        ref = self.worker.ok("call", session_id="s", function="types.SimpleNamespace", kwargs={"x": 1})
        mark, release = os.path.join(self.dir, "mark"), os.path.join(self.dir, "release")
        running = self.worker.send("call", session_id="s", function="exec", args=[mark_then_await(mark, release)])
        await_file(mark)
        self.worker.interrupt(running)
        response = self.worker.read_frame()
        self.assertEqual((response["id"], response["error"]["code"]), (running, "cancelled"))
        self.assertEqual(self.worker.ok("get_attr", session_id="s", object=ref, name="x"), 1)

    def test_a_sigint_for_a_request_that_has_answered_never_interrupts_the_next(self):
        answered = self.worker.last_id
        mark, release = os.path.join(self.dir, "mark"), os.path.join(self.dir, "release")
        running = self.worker.send("call", session_id="s", function="exec", args=[mark_then_await(mark, release)])
        await_file(mark)
        self.worker.interrupt(answered)
        self.worker.cancel_word.await_taken(answered)
        open(release, "w").close()
        response = self.worker.read_frame()
        self.assertEqual(response["id"], running)
        self.assertTrue(response["ok"], response)

    def test_a_sigint_for_a_request_not_yet_started_cancels_it_when_its_user_code_starts(self):
        upcoming = self.worker.last_id + 1
        self.worker.interrupt(upcoming)
        self.worker.cancel_word.await_taken(upcoming)
        response = self.worker.request("call", session_id="s", function="exec", args=["import time\ntime.sleep(30)"])
        self.assertEqual((response["id"], response["error"]["code"]), (upcoming, "cancelled"))
        self.assertEqual(self.worker.ok("call", session_id="s", function="abs", args=[-1]), 1)

    def test_a_sigint_for_a_request_without_user_code_is_dropped_when_it_answers(self):
        upcoming = self.worker.last_id + 1
        self.worker.interrupt(upcoming)
        self.worker.cancel_word.await_taken(upcoming)
        self.assertEqual(self.worker.ok("ping"), "pong")
        self.assertEqual(self.worker.ok("call", session_id="s", function="abs", args=[-2]), 2)

    def test_a_word_that_cannot_be_mapped_leaves_sigint_untargeted_and_says_why(self):
        worker = WorkerProcess(environment={"SNAKEBRIDGE_CANCEL_WORD": os.path.join(self.dir, "missing")})
        try:
            self.assertNotIn("cancel_target", worker.hello["capabilities"])
            error = worker.request("call", session_id="s", function="exec", args=[sigint_once_running(worker)])["error"]
            self.assertEqual(error["code"], "cancelled")
        finally:
            worker.close()
        self.assertIn("cannot use the cancel word", worker.stderr)


    def test_a_word_file_with_another_name_or_size_is_not_written_nor_removed(self):
        # A hard link to a precious file (or a file of the wrong size) named as the word: the worker
        # must neither write into it (bytes 8-15 on each SIGINT) nor remove a name of it.
        precious = os.path.join(self.dir, "precious")
        with open(precious, "wb") as f:
            f.write(b"sixteen bytes!!!")
        linked = os.path.join(self.dir, "word")
        os.link(precious, linked)
        long_file = os.path.join(self.dir, "long")
        with open(long_file, "wb") as f:
            f.write(b"more than sixteen bytes of text")
        for path, expected in ((linked, b"sixteen bytes!!!"), (long_file, b"more than sixteen bytes of text")):
            worker = WorkerProcess(environment={"SNAKEBRIDGE_CANCEL_WORD": path})
            try:
                self.assertNotIn("cancel_target", worker.hello["capabilities"])
            finally:
                worker.close()
            self.assertIn("cannot use the cancel word", worker.stderr)
            self.assertTrue(os.path.exists(path), "a name of the file was removed")
            with open(path, "rb") as f:
                self.assertEqual(f.read(), expected)

if __name__ == "__main__":
    unittest.main()
