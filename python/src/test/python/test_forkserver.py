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

from worker_client import SOURCE_DIR


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
    def start_server(self, *extra):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "server.sock")
        env = dict(os.environ, PYTHONPATH=SOURCE_DIR)
        self.server = subprocess.Popen([sys.executable, "-m", "snakebridge_worker", "serve", "--listen", f"unix:{self.path}",
                                        *extra], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.stop_server)
        return self.server

    def stop_server(self):
        if self.server.poll() is None:
            self.server.kill()
        self.server.wait()
        for stream in (self.server.stdin, self.server.stdout, self.server.stderr):
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
