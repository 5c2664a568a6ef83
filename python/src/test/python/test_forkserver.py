"""The worker server (PROTOCOL.md SRV-1..5), driven as the driver drives it: a real server process,
real forked workers over a Unix socket."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

from worker_client import SOURCE_DIR, ClientCancelWord
from snakebridge_worker import admission


def _line(sock):
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise EOFError(f"connection closed after {data!r}")
        data += chunk
    return json.loads(data)


class ForkedWorker:
    """One worker the server forked: its protocol connection, its stderr connection and its pid."""

    def __init__(self, path, **fork_fields):
        self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.conn.connect(path)
        self.conn.sendall(json.dumps({"op": "fork", **fork_fields}).encode() + b"\n")
        reply = _line(self.conn)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        self.stderr = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.stderr.connect(path)
        self.stderr.sendall(json.dumps({"op": "stderr", "token": reply["token"]}).encode() + b"\n")
        self.pid = _line(self.conn)["pid"]
        self._ids = 0

    def request(self, op, **fields):
        self._ids += 1
        payload = json.dumps({"id": self._ids, "op": op, **fields}).encode()
        self.conn.sendall(struct.pack(">I", len(payload)) + payload)
        (length,) = struct.unpack(">I", self._read(4))
        return json.loads(self._read(length))

    def handshake(self):
        return self.request("handshake", protocol_version=1, min_supported_version=1)["result"]

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.conn.recv(n - len(data))
            if not chunk:
                raise EOFError("worker closed its connection")
            data += chunk
        return data

    def close(self):
        self.conn.close()
        self.stderr.close()


class ForkServerTest(unittest.TestCase):
    def start_server(self, *extra, modules=None, stdin=subprocess.PIPE):
        """``modules``: {name: source} of modules put on the server's path (for --preload)."""
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "server.sock")
        for name, source in (modules or {}).items():
            with open(os.path.join(self.dir.name, name + ".py"), "w") as module:
                module.write(source)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([SOURCE_DIR, self.dir.name]))
        self.server = subprocess.Popen([sys.executable, "-m", "snakebridge_worker", "serve", "--listen", f"unix:{self.path}",
                                        *extra], env=env, stdin=stdin, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.stop_server)
        return self.server

    def stop_server(self):
        if self.server.poll() is None:
            self.server.kill()
        self.server.wait()
        for stream in (self.server.stdin, self.server.stdout, self.server.stderr):
            if stream is not None:
                stream.close()
        self.dir.cleanup()

    def ready(self):
        return json.loads(self.server.stdout.readline())

    def event(self):
        return json.loads(self.server.stdout.readline())

    def test_each_connection_gets_its_own_forked_worker_serving_the_protocol(self):
        self.start_server("--preload", "json")
        self.assertEqual(self.ready()["preloaded"], ["json"])
        first, second = ForkedWorker(self.path), ForkedWorker(self.path)
        self.assertNotEqual(first.pid, second.pid)
        self.assertEqual(first.handshake()["pid"], first.pid)
        self.assertEqual(second.handshake()["pid"], second.pid)
        reply = first.request("call", session_id="s", function="sys.modules.__contains__", args=["json"])
        self.assertTrue(reply["result"], "json was imported once, in the server")
        first.close()
        second.close()

    def test_a_workers_output_comes_on_its_stderr_connection_and_its_exit_is_reported(self):
        self.start_server()
        self.ready()
        worker = ForkedWorker(self.path)
        worker.handshake()
        worker.request("call", session_id="s", function="print", args=["hello from the worker"])
        worker.conn.close()  # EOF: the worker ends as a spawned one does
        self.assertEqual(self.event(), {"pid": worker.pid, "exit_code": 0})
        worker.stderr.settimeout(5)
        self.assertIn(b"hello from the worker", worker.stderr.recv(4096))
        worker.stderr.close()

    def test_a_forked_worker_maps_the_cancel_word_the_preamble_names(self):
        self.start_server()
        self.ready()
        word = ClientCancelWord()
        self.addCleanup(word.close)
        worker = ForkedWorker(self.path, cancel_word=word.path)
        self.assertIn("cancel_target", worker.handshake()["capabilities"])
        self.assertFalse(os.path.exists(word.path), "the worker removes the file once mapped")
        word.target(1)  # the handshake, answered: the worker takes it and drops it (CANCEL-3)
        os.kill(worker.pid, signal.SIGINT)
        word.await_taken(1)
        self.assertEqual(worker.request("ping")["result"], "pong")
        worker.close()

    def test_a_cancel_word_that_is_not_a_path_is_refused(self):
        self.start_server()
        self.ready()
        with self.assertRaisesRegex(RuntimeError, "cancel_word"):
            ForkedWorker(self.path, cancel_word=7)
        worker = ForkedWorker(self.path)  # the server goes on; a worker without a word takes SIGINT untargeted
        self.assertNotIn("cancel_target", worker.handshake()["capabilities"])
        worker.close()

    def test_a_killed_worker_is_reported_with_its_signal(self):
        self.start_server()
        self.ready()
        worker = ForkedWorker(self.path)
        worker.handshake()
        os.kill(worker.pid, signal.SIGKILL)
        self.assertEqual(self.event(), {"pid": worker.pid, "signal": signal.SIGKILL})
        worker.close()

    def test_a_memory_limit_applies_to_the_forked_worker_only(self):
        self.start_server()
        self.ready()
        worker = ForkedWorker(self.path, memory_limit_bytes=512 << 20)
        worker.handshake()
        error = worker.request("call", session_id="s", function="bytearray", args=[1 << 30])["error"]
        self.assertEqual(error["type"], "MemoryError")
        worker.close()
        unlimited = ForkedWorker(self.path)
        unlimited.handshake()
        self.assertTrue(unlimited.request("call", session_id="s", function="bytearray", args=[1 << 30], want="none")["ok"])
        unlimited.close()

    def test_a_preload_that_fails_is_a_start_error_naming_the_module(self):
        server = self.start_server("--preload", "json,no_such_module_xyz")
        self.assertEqual(server.wait(timeout=30), 2)
        self.assertIn("no_such_module_xyz", server.stderr.read())

    def test_a_fork_without_its_stderr_connection_or_with_a_bad_preamble_is_refused(self):
        self.start_server()
        self.ready()
        stray = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stray.connect(self.path)
        stray.sendall(b'{"op": "stderr", "token": "guess"}\n')
        self.assertIn("token", _line(stray)["error"])
        stray.close()
        garbage = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        garbage.connect(self.path)
        garbage.sendall(b"not json\n")
        self.assertIn("JSON", _line(garbage)["error"])
        garbage.close()
        worker = ForkedWorker(self.path)  # the server goes on
        self.assertEqual(worker.handshake()["pid"], worker.pid)
        worker.close()

    def test_no_client_can_end_the_server_by_leaving_early_or_sending_garbage(self):
        self.start_server()
        self.ready()
        bystander = ForkedWorker(self.path)
        bystander.handshake()
        left_after_asking = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        left_after_asking.connect(self.path)
        left_after_asking.sendall(b'{"op": "fork"}\n')
        left_after_asking.close()  # the token has nowhere to go
        asked = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        asked.connect(self.path)
        asked.sendall(b'{"op": "fork"}\n')
        token = _line(asked)["token"]
        asked.close()  # the pid will have nowhere to go: that worker must not outlive it
        orphan_stderr = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        orphan_stderr.connect(self.path)
        orphan_stderr.sendall(json.dumps({"op": "stderr", "token": token}).encode() + b"\n")
        deep = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deep.connect(self.path)
        deep.sendall(b"[" * 5000 + b"\n")
        self.assertIn("error", _line(deep))
        deep.close()
        unwanted = self.event()  # the worker whose client left is killed and reaped
        self.assertEqual(unwanted["signal"], signal.SIGKILL)
        orphan_stderr.close()
        self.assertIsNone(self.server.poll(), "the server is still running")
        self.assertEqual(bystander.request("ping")["result"], "pong")
        worker = ForkedWorker(self.path)
        self.assertEqual(worker.handshake()["pid"], worker.pid)
        worker.close()
        bystander.close()

    def test_output_of_a_preload_or_an_at_fork_hook_cannot_corrupt_the_event_stream(self):
        chatty = "import os\nprint('hello from chatty')\nos.register_at_fork(after_in_child=lambda: print('child hook'))\n"
        self.start_server("--preload", "chatty", modules={"chatty": chatty})
        self.assertEqual(self.ready()["preloaded"], ["chatty"])
        worker = ForkedWorker(self.path)
        worker.handshake()
        worker.conn.close()
        self.assertEqual(self.event(), {"pid": worker.pid, "exit_code": 0})
        worker.stderr.close()

    def test_a_path_that_is_not_a_socket_is_left_alone(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        precious = os.path.join(self.dir.name, "precious.txt")
        with open(precious, "w") as f:
            f.write("keep me")
        server = subprocess.run([sys.executable, "-m", "snakebridge_worker", "serve", "--listen", f"unix:{precious}"],
                                env=dict(os.environ, PYTHONPATH=SOURCE_DIR), capture_output=True, text=True, timeout=30)
        self.assertEqual(server.returncode, 2)
        self.assertIn("not a socket", server.stderr)
        with open(precious) as f:
            self.assertEqual(f.read(), "keep me")

    def test_a_server_whose_stdin_cannot_be_watched_serves_until_sigterm(self):
        self.start_server(stdin=subprocess.DEVNULL)  # as under a service manager
        self.ready()
        worker = ForkedWorker(self.path)
        self.assertEqual(worker.handshake()["pid"], worker.pid)
        worker.close()
        self.server.terminate()
        self.assertEqual(self.server.wait(timeout=10), 0)

    @unittest.skipUnless(sys.platform.startswith("linux"), "PR_SET_PDEATHSIG is Linux's")
    def test_workers_die_with_their_server(self):
        self.start_server()
        self.ready()
        worker = ForkedWorker(self.path)
        worker.handshake()
        self.server.kill()
        self.server.wait()
        deadline = time.monotonic() + 5
        while _alive(worker.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertFalse(_alive(worker.pid))
        worker.close()

    def test_the_server_ends_when_its_owner_closes_its_stdin(self):
        self.start_server()
        self.ready()
        self.server.stdin.close()
        self.assertEqual(self.server.wait(timeout=10), 0)
        self.assertFalse(os.path.exists(self.path), "a clean end removes the socket file")

    def test_forked_workers_draw_different_random_numbers_and_numpy_blas_works(self):
        try:
            import numpy  # noqa: F401
        except ImportError:
            self.skipTest("numpy is not installed (the worker itself does not need it)")
        self.start_server("--preload", "numpy")
        self.ready()
        draws = []
        for _ in range(2):
            worker = ForkedWorker(self.path)
            worker.handshake()
            draws.append(worker.request("call", session_id="s", function="numpy.random.rand")["result"])
            # A product large enough for BLAS to use its threads, which the fork did not copy.
            product = worker.request("call", session_id="s", function="eval", args=[
                "(lambda np: float(abs((lambda a: a @ np.linalg.inv(a))(np.random.default_rng(1).random((400, 400)))"
                " - np.eye(400)).max()))(__import__('numpy'))"])
            worker.close()
            self.assertTrue(product["ok"], product)
            self.assertLess(product["result"], 1e-6)
        self.assertNotEqual(draws[0], draws[1])


class ForkServerSpecTest(unittest.TestCase):
    def test_protocol_md_states_the_token_lifetime_the_server_uses(self):
        spec = os.path.join(SOURCE_DIR, "..", "..", "..", "..", "PROTOCOL.md")
        with open(spec, encoding="utf-8") as f:
            text = " ".join(f.read().split())
        self.assertIn(f"a token expires after {admission.PENDING_SECONDS} s", text)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead: its parent (the server) is gone and init reaps it
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


if __name__ == "__main__":
    unittest.main()
