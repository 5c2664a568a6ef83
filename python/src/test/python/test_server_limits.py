"""Server-side limits (PROTOCOL.md REMOTE-6..9): what a worker server bounds, a client narrows and never
widens. The combining rules alone; every op a client could try to lift the server's module policy or
max_refs with, on a worker in this process; and real servers on 127.0.0.1 for the memory limit, the
idle timeout and the options."""
import json
import os
import resource
import select
import struct
import subprocess
import sys
import time
import unittest

from snakebridge_worker import DEFAULTS
from snakebridge_worker.errors import BridgeError
from snakebridge_worker.registry import Registry
from snakebridge_worker.server_limits import IDLE_EXIT_STATUS, NO_LIMITS, ServerLimits, narrower
from snakebridge_worker.worker import Worker

from test_forkserver_remote import ENV, RemoteServerCase, line, request
from worker_client import SOURCE_DIR

GIB = 1 << 30


class NarrowerTest(unittest.TestCase):
    def test_the_narrower_of_two_limits_is_the_smaller_of_those_set_and_zero_is_none(self):
        self.assertEqual(narrower(100, 50), 50)
        self.assertEqual(narrower(50, 100), 50)
        self.assertEqual(narrower(0, 100), 100)
        self.assertEqual(narrower(100, 0), 100)
        self.assertEqual(narrower(0, 0), 0)

    def test_a_client_asking_for_more_memory_or_none_gets_the_servers_limit(self):
        limits = ServerLimits(memory_limit_bytes=GIB)
        self.assertEqual(limits.memory_limit(4 * GIB), GIB)
        self.assertEqual(limits.memory_limit(0), GIB)
        self.assertEqual(limits.memory_limit(GIB // 2), GIB // 2)
        self.assertEqual(NO_LIMITS.memory_limit(GIB // 2), GIB // 2)

    def test_max_refs_is_the_smaller_of_the_servers_and_the_clients(self):
        self.assertEqual(ServerLimits(max_refs=10).max_refs_for(10000), 10)
        self.assertEqual(ServerLimits(max_refs=10).max_refs_for(3), 3)
        self.assertEqual(NO_LIMITS.max_refs_for(10000), 10000)

    def test_the_wire_form_names_only_the_limits_that_are_set(self):
        self.assertEqual(NO_LIMITS.to_wire(), {})
        self.assertEqual(ServerLimits(max_refs=5, idle_timeout_seconds=2.5, deny_modules=["os"]).to_wire(),
                         {"max_refs": 5, "idle_timeout_seconds": 2.5,
                          "module_policy": {"allow_modules": [], "deny_modules": ["os"]}})


def in_process(limits):
    """A worker in this process, bounded by ``limits`` as a server's fork is, after its handshake."""
    worker = Worker(Registry(DEFAULTS, server_limits=limits), "w")
    hello = worker.handle({"id": 0, "op": "handshake", "protocol_version": 1, "min_supported_version": 1})[0]
    return worker, hello


def ref(result):
    return {"__type__": "ref", "__schema__": 1, "id": result["id"], "session_id": result["session_id"]}


class _Client:
    """Sends requests to an in-process worker as a client would; an error comes back as its wire code."""

    def __init__(self, worker):
        self.worker = worker
        self.next_id = 0

    def __call__(self, op, session_id="s", **fields):
        self.next_id += 1
        try:
            return self.worker.handle({"id": self.next_id, "op": op, "session_id": session_id, **fields})[0]
        except BridgeError as exc:
            return exc


class ServerPolicyTest(unittest.TestCase):
    """A server's allow list (math, json, statistics) and deny list (json.decoder): no op a client can
    send reaches past them, and each refusal says the policy is the server's."""

    def setUp(self):
        self.worker, self.hello = in_process(ServerLimits(allow_modules=["math", "json", "statistics"],
                                                          deny_modules=["json.decoder"]))
        self.send = _Client(self.worker)

    def assert_denied_by_server(self, result, module=None):
        self.assertIsInstance(result, BridgeError, f"not refused: {result!r}")
        self.assertEqual(result.code, "policy_denied", result.message)
        if module is not None:
            self.assertEqual(result.details["module"], module)
        return result

    def test_the_handshake_tells_the_client_the_servers_policy(self):
        self.assertEqual(self.hello["server_limits"], {"module_policy": {"allow_modules": ["math", "json", "statistics"],
                                                                         "deny_modules": ["json.decoder"]}})

    def test_a_session_without_a_policy_of_its_own_is_bound_by_the_servers(self):
        self.assertEqual(self.send("call", function="math.sqrt", args=[16.0]), 4.0)
        error = self.assert_denied_by_server(self.send("call", function="os.getcwd", args=[]), "os")
        self.assertIn("the worker server's module policy (serve --allow-modules math,json,statistics", error.message)
        self.assertIn("which no client can widen", error.message)
        self.assert_denied_by_server(self.send("call", function="exec", args=["import os"]), "builtins")
        self.assert_denied_by_server(self.send("get_attr", name="json.decoder.scanstring"), "json.decoder")

    def test_a_clients_allow_list_naming_a_module_outside_the_servers_does_not_reach_it(self):
        self.send("open_session", policy={"allow_modules": ["os", "math", "json"], "deny_modules": []})
        self.assertEqual(self.send("call", function="math.sqrt", args=[4.0]), 2.0)
        self.assert_denied_by_server(self.send("call", function="os.getcwd", args=[]), "os")
        self.assert_denied_by_server(self.send("call", function="json.decoder.scanstring", args=['"a"', 1]),
                                     "json.decoder")

    def test_a_clients_own_lists_narrow_the_servers(self):
        self.send("open_session", policy={"allow_modules": ["math"], "deny_modules": []})
        error = self.assert_denied_by_server(self.send("call", function="json.dumps", args=[1]), "json")
        self.assertIn("this session's module policy", error.message)
        self.assertEqual(self.send("call", function="math.sqrt", args=[4.0]), 2.0)

    def test_an_empty_client_policy_and_a_second_open_session_leave_the_servers_in_force(self):
        self.assertEqual(self.send("open_session", policy={"allow_modules": [], "deny_modules": []})["max_refs"], 10000)
        self.assert_denied_by_server(self.send("call", function="os.getcwd", args=[]), "os")
        self.send("open_session", policy={"allow_modules": ["os"], "deny_modules": []})
        self.assert_denied_by_server(self.send("call", function="os.getcwd", args=[]), "os")
        refused = self.send("open_session", policy={"allow_modules": ["math"], "deny_modules": ["sys"]})
        self.assertEqual(refused.code, "invalid_argument", "POL-1: a session's own lists cannot change")
        self.assert_denied_by_server(self.send("call", function="os.getcwd", args=[]), "os")

    def test_a_session_reset_or_a_fresh_session_id_keeps_the_servers_policy(self):
        self.send("open_session", policy={"allow_modules": ["os"], "deny_modules": []})
        self.send("reset_session", new_session_id="t")
        self.assert_denied_by_server(self.send("call", session_id="t", function="os.getcwd", args=[]), "os")
        self.send("release_session", session_id="t")
        self.assert_denied_by_server(self.send("call", session_id="t", function="os.getcwd", args=[]), "os")
        self.send("reset_session", session_id="never-opened", new_session_id="u")
        self.assert_denied_by_server(self.send("call", session_id="u", function="os.getcwd", args=[]), "os")

    def test_prepared_calls_batches_and_lean_twins_are_judged_by_the_servers_policy(self):
        self.assert_denied_by_server(self.send("prepare", function="os.getcwd"), "os")
        result = self.send("batch", calls=[{"op": "call", "function": "math.sqrt", "args": [4.0]},
                                           {"op": "call", "function": "os.getcwd", "args": []},
                                           {"op": "get_attr", "name": "json.decoder"}])
        self.assertEqual(result["values"][0], 2.0)
        self.assertEqual(result["errors"]["1"]["code"], "policy_denied")
        self.assertEqual(result["errors"]["2"]["code"], "policy_denied")

    def test_attribute_walks_cannot_leave_the_servers_modules(self):
        for name in ("json.codecs", "json.decoder", "math.__loader__", "json.JSONDecoder.__init__.__globals__",
                     "statistics.sys", "json.loads.__globals__"):
            self.assert_denied_by_server(self.send("get_attr", name=name))
        module = self.send("get_attr", name="statistics", want="ref")
        self.assert_denied_by_server(self.send("get_attr", object=ref(module), name="sys"))
        self.assert_denied_by_server(self.send("call_method", object=ref(module), method="reduce", args=[]), "functools")

    def test_module_state_reached_before_a_clients_lists_came_still_cannot_be_changed(self):
        # json.decoder.BACKSLASH is reached (module state) while the session has only the server's
        # policy; lists of the client's own, set afterwards, must not forget that (POL-4).
        self.worker, _ = in_process(ServerLimits(allow_modules=["math", "json"]))
        self.send = _Client(self.worker)
        backslash = self.send("get_attr", name="json.decoder.BACKSLASH", want="ref")
        self.send("open_session", policy={"allow_modules": ["json"], "deny_modules": []})
        self.assert_denied_by_server(self.send("apply", object=ref(backslash), action="setitem", args=["x", "planted"]))
        self.assertNotIn("x", json.decoder.BACKSLASH)

    def test_module_state_cannot_be_changed_through_a_mutating_methods_dunder_call(self):
        self.worker, _ = in_process(ServerLimits(allow_modules=["json"]))
        self.send = _Client(self.worker)
        update = self.send("get_attr", name="json.decoder.BACKSLASH.update", want="ref")
        self.assert_denied_by_server(self.send("call_method", object=ref(update), method="__call__", args=[{"z": "x"}]))
        self.assertNotIn("z", json.decoder.BACKSLASH)

    def test_module_state_reached_in_a_session_that_does_not_exist_yet_cannot_be_changed(self):
        self.worker, _ = in_process(ServerLimits(allow_modules=["math", "json"]))
        self.send = _Client(self.worker)
        backslash = self.send("get_attr", session_id="fresh", name="json.decoder.BACKSLASH", want="ref")
        self.assert_denied_by_server(self.send("apply", session_id="fresh", object=ref(backslash), action="setitem",
                                               args=["y", "planted"]))
        self.assertNotIn("y", json.decoder.BACKSLASH)

    def test_unknown_ops_and_handshake_fields_cannot_carry_a_policy(self):
        self.assertEqual(self.send("configure", policy={}).code, "protocol")
        again = self.worker.handle({"id": 99, "op": "handshake", "protocol_version": 1, "min_supported_version": 1})[0]
        self.assertEqual(again["server_limits"], self.hello["server_limits"])
        self.assert_denied_by_server(self.send("call", function="os.getcwd", args=[]), "os")


class ServerMaxRefsTest(unittest.TestCase):
    def setUp(self):
        self.worker, self.hello = in_process(ServerLimits(max_refs=3))
        self.send = _Client(self.worker)

    def test_the_servers_max_refs_is_every_sessions_default_and_the_handshake_says_so(self):
        self.assertEqual(self.hello["defaults"]["max_refs"], 3)
        self.assertEqual(self.hello["server_limits"], {"max_refs": 3})
        self.assertEqual(self.send("session_info")["limits"]["max_refs"], 3)

    def test_a_client_asking_for_more_refs_gets_the_servers_limit_and_a_refusal_that_names_it(self):
        self.assertEqual(self.send("open_session", limits={"max_refs": 10000})["max_refs"], 3)
        for _ in range(3):
            self.send("call", function="object", args=[], want="ref")
        error = self.send("call", function="object", args=[], want="ref")
        self.assertEqual(error.code, "ref_limit")
        self.assertEqual(error.details["limit"], 3)
        self.assertIn("serve --max-refs 3", error.message)
        self.assertIn("which no client can raise", error.message)
        self.assertNotIn("max_refs", error.message, "the client's setting would not help: not named")

    def test_a_client_may_narrow_max_refs_and_its_own_limit_is_named_as_its_own(self):
        self.assertEqual(self.send("open_session", limits={"max_refs": 1})["max_refs"], 1)
        self.send("call", function="object", args=[], want="ref")
        error = self.send("call", function="object", args=[], want="ref")
        self.assertIn("its max_refs limit", error.message)

    def test_neither_a_reset_nor_a_later_open_session_lifts_it(self):
        self.send("open_session", limits={"max_refs": 10000, "ref_limit_policy": "evict_lru"})
        self.send("reset_session", new_session_id="t")
        self.assertEqual(self.send("session_info", session_id="t")["limits"]["max_refs"], 3)
        self.assertEqual(self.send("open_session", session_id="t", limits={"max_refs": 50})["max_refs"], 3)
        for _ in range(5):
            self.send("call", session_id="t", function="object", args=[], want="ref")
        self.assertEqual(self.send("session_info", session_id="t")["live_refs"], 3, "evict_lru within the server's 3")


class RemoteServerLimitsTest(RemoteServerCase):
    """Real servers on 127.0.0.1, with TLS and a token, started with the limit options."""

    def handshake(self, protocol):
        return request(protocol, "handshake", protocol_version=1, min_supported_version=1)["result"]

    def call(self, protocol, request_id, **fields):
        return request(protocol, "call", request_id, session_id="s", **fields)

    def worker(self, client, **preamble):
        protocol, control, pid = client.worker(**preamble)
        self.addCleanup(protocol.close)
        self.addCleanup(control.close)
        return protocol, control, pid

    def rlimit(self, protocol):
        """The worker's RLIMIT_AS, (soft, hard)."""
        return self.call(protocol, 2, function="resource.getrlimit", args=[resource.RLIMIT_AS])["result"]["elements"]

    def test_a_client_asking_for_a_larger_memory_limit_gets_the_servers_and_cannot_raise_it(self):
        client = self.start_server("--memory-limit", str(2 * GIB))
        protocol, control, pid = self.worker(client, memory_limit_bytes=8 * GIB)
        self.assertEqual(self.handshake(protocol)["server_limits"], {"memory_limit_bytes": 2 * GIB})
        self.assertEqual(self.rlimit(protocol), [2 * GIB, 2 * GIB])
        raised = self.call(protocol, 3, function="resource.setrlimit", args=[resource.RLIMIT_AS, [-1, -1]])
        self.assertEqual(raised["error"]["type"], "ValueError", "the hard limit: no going back up")
        memory = self.call(protocol, 4, function="bytearray", args=[3 * GIB])["error"]
        self.assertEqual(memory["type"], "MemoryError")
        self.assertIn(f"limited to {2 * GIB} bytes by the worker server's --memory-limit", memory["message"])

    def test_a_client_asking_for_a_smaller_memory_limit_gets_its_own(self):
        client = self.start_server("--memory-limit", str(2 * GIB))
        protocol, control, pid = self.worker(client, memory_limit_bytes=GIB)
        self.handshake(protocol)
        self.assertEqual(self.rlimit(protocol), [GIB, GIB])
        memory = self.call(protocol, 3, function="bytearray", args=[2 * GIB])["error"]
        self.assertIn("by the client's memoryLimitBytes", memory["message"])

    def test_a_server_policy_and_max_refs_bind_a_remote_client_that_asks_for_more(self):
        client = self.start_server("--allow-modules", "math", "--deny-modules", "math.fake", "--max-refs", "7")
        protocol, control, pid = self.worker(client)
        self.assertEqual(self.handshake(protocol)["server_limits"], {
            "max_refs": 7, "module_policy": {"allow_modules": ["math"], "deny_modules": ["math.fake"]}})
        self.assertEqual(request(protocol, "open_session", 5, session_id="t", limits={"max_refs": 100})["result"]["max_refs"], 7)
        request(protocol, "open_session", 2, session_id="s", policy={"allow_modules": ["os", "math"], "deny_modules": []})
        self.assertEqual(self.call(protocol, 3, function="math.sqrt", args=[9.0])["result"], 3.0)
        denied = self.call(protocol, 4, function="os.getcwd", args=[])["error"]
        self.assertEqual((denied["code"], denied["details"]["module"]), ("policy_denied", "os"))

    def test_a_worker_that_sees_no_request_for_the_idle_timeout_is_closed_and_its_end_says_why(self):
        client = self.start_server("--idle-timeout", "0.5")
        protocol, control, pid = self.worker(client)
        self.assertEqual(self.handshake(protocol)["server_limits"], {"idle_timeout_seconds": 0.5})
        # a call that runs longer than the idle timeout is not idleness: it answers
        self.assertEqual(self.call(protocol, 2, function="time.sleep", args=[1.0])["result"], None)
        idle_line = f"snakebridge_worker: worker {pid} closed: no request for 0.5 s (the server's --idle-timeout)"
        self.assertEqual(line(control), {"pid": pid, "exit_code": IDLE_EXIT_STATUS, "stderr": [idle_line]},
                         "then, with no request, it ends, and its client is told why (REMOTE-11)")
        self.assertEqual(protocol.recv(1), b"", "its connection is closed")
        self.assertIn(idle_line, self.server.stderr.read1().decode(), "the server's log says it too")
        self.assert_still_serves(client)

    def test_a_request_begun_and_never_finished_counts_as_idle(self):
        client = self.start_server("--idle-timeout", "0.5")
        protocol, control, pid = self.worker(client)
        self.handshake(protocol)
        protocol.sendall(b"\x00\x00")  # half a frame header, then nothing
        self.assertEqual(line(control)["exit_code"], IDLE_EXIT_STATUS)

    def test_a_request_sent_a_byte_at_a_time_counts_as_idle_when_it_takes_longer_than_the_timeout(self):
        # Each byte came well within the timeout; the request as a whole did not (found by review: a
        # per-read timeout let a client hold its worker forever this way).
        client = self.start_server("--idle-timeout", "1")
        protocol, control, pid = self.worker(client)
        self.handshake(protocol)
        protocol.sendall(struct.pack(">I", 1000))  # a frame of 1,000 bytes announced
        for _ in range(40):  # 40 bytes at 0.25 s: 10 s, far past the 1 s timeout
            try:
                protocol.sendall(b" ")
            except OSError:
                break  # the worker is gone
            if select.select([control], [], [], 0.25)[0]:
                break  # its end event is there
        ended = line(control)
        self.assertEqual(ended["exit_code"], IDLE_EXIT_STATUS)

    def test_a_bad_limit_value_is_a_start_error_naming_the_option(self):
        for option, value in (("--memory-limit", "-1"), ("--max-refs", "0"), ("--idle-timeout", "soon"),
                              ("--idle-timeout", "inf"), ("--allow-modules", "os,not a module"), ("--deny-modules", "")):
            result = subprocess.run([sys.executable, "-m", "snakebridge_worker", "serve", "--listen", "127.0.0.1:0",
                                     "--insecure", option, value], env=ENV, capture_output=True, timeout=30,
                                    stdin=subprocess.DEVNULL)
            self.assertEqual(result.returncode, 2, (option, value))
            self.assertIn(option, result.stderr.decode(), (option, value))


class ServerLimitsSpecTest(unittest.TestCase):
    def test_protocol_md_and_the_readme_name_every_limit_option_and_the_idle_exit_status(self):
        from snakebridge_worker import forkserver
        root = os.path.join(SOURCE_DIR, "..", "..", "..", "..")
        texts = {}
        for name in ("PROTOCOL.md", "README.md"):
            with open(os.path.join(root, name), encoding="utf-8") as f:
                texts[name] = " ".join(f.read().split())
        for option in forkserver._LIMIT_OPTIONS:
            for name, text in texts.items():
                self.assertIn(f"`{option}", text, f"{name} names {option}")
        self.assertIn(f"exits with status {IDLE_EXIT_STATUS} (sysexits' `EX_TEMPFAIL`)", texts["PROTOCOL.md"])


if __name__ == "__main__":
    unittest.main()
