"""A minimal protocol client for the tests: spawns a real worker process and speaks frames to it."""
import json
import mmap
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "main", "python"))


# A None entry in sys.modules makes "import numpy" raise ImportError, as on a machine without it.
_WITHOUT_NUMPY = "import sys, runpy; sys.modules['numpy'] = None; runpy.run_module('snakebridge_worker', run_name='__main__')"


def sigint_once_running(worker, seconds=30):
    """The source of a call (for ``exec``) that marks that it runs and then sleeps, with a thread that
    sends the worker SIGINT once the mark is there. A SIGINT between requests is ignored (CANCEL-1), so
    a cancel awaits the call's user code instead of a fixed time; if the mark never comes, no signal
    is sent and the call sleeps its full time, so the test fails instead of passing by luck."""
    directory = tempfile.mkdtemp(prefix="sb-cancel-")
    mark = os.path.join(directory, "running")

    def interrupt_once_running():
        deadline = time.monotonic() + seconds
        while not os.path.exists(mark):
            if time.monotonic() > deadline:
                return
            time.sleep(0.005)
        worker.proc.send_signal(signal.SIGINT)
        shutil.rmtree(directory, ignore_errors=True)
    threading.Thread(target=interrupt_once_running, daemon=True).start()
    return f"open({mark!r}, 'w').close()\nimport time\ntime.sleep({seconds})"


class ClientCancelWord:
    """The client's side of a cancel word (PROTOCOL.md CANCEL-2): a 16-byte file in a private
    directory, mapped; ``target`` names the request of the next SIGINT, ``taken`` what the worker took."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="sb-word-")
        self.path = os.path.join(self.directory, "cancel.word")
        with open(self.path, "wb") as f:
            f.write(bytes(16))
        with open(self.path, "r+b") as f:
            self._map = mmap.mmap(f.fileno(), 16)

    def target(self, request_id):
        struct.pack_into("<q", self._map, 0, request_id)

    def taken(self):
        return struct.unpack_from("<q", self._map, 8)[0]

    def await_taken(self, request_id, seconds=10):
        """Waits until the worker has taken the SIGINT that named ``request_id``."""
        deadline = time.monotonic() + seconds
        while self.taken() != request_id:
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker did not take the SIGINT for {request_id} (it shows {self.taken()})")
            time.sleep(0.001)

    def close(self):
        shutil.rmtree(self.directory, ignore_errors=True)


def await_file(path, seconds=10):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear")
        time.sleep(0.002)


def mark_then_await(mark, release):
    """Source (for ``exec``) that creates ``mark`` once it runs, then waits until ``release`` exists (30 s at most)."""
    return (f"import os, time\nopen({mark!r}, 'w').close()\ndeadline = time.monotonic() + 30\n"
            f"while not os.path.exists({release!r}) and time.monotonic() < deadline:\n    time.sleep(0.002)")


class WorkerProcess:
    def __init__(self, handshake=True, attachments=False, numpy=True, environment=(), limits=None, cancel_word=False):
        """``numpy=False`` runs the worker as if numpy were not installed; ``environment`` adds variables;
        ``limits`` go in the handshake (HS-5); ``cancel_word=True`` gives the worker one (CANCEL-2)."""
        self.cancel_word = ClientCancelWord() if cancel_word else None
        if self.cancel_word is not None:
            environment = dict(environment, SNAKEBRIDGE_CANCEL_WORD=self.cancel_word.path)
        env = dict(os.environ, PYTHONPATH=SOURCE_DIR, **dict(environment))
        command = [sys.executable, "-m", "snakebridge_worker"] if numpy else [sys.executable, "-c", _WITHOUT_NUMPY]
        self.proc = subprocess.Popen(command, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._next_id = 0
        if handshake:
            capabilities = ["attachments"] if attachments else []
            self.hello = self.request("handshake", protocol_version=1, min_supported_version=1,
                                      client_capabilities=capabilities, limits=limits or {})["result"]
        self.attachments = []  # those of the last message read

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send_frame(self, payload):
        self.send_raw(struct.pack(">I", len(payload)) + payload)

    def read_raw_frame(self):
        header = self.proc.stdout.read(4)
        if len(header) < 4:
            return None
        (length,) = struct.unpack(">I", header)
        return self.proc.stdout.read(length)

    def read_frame(self):
        """The next message's JSON; its attachment frames go to ``self.attachments``."""
        payload = self.read_raw_frame()
        if payload is None:
            return None
        message = json.loads(payload)
        self.attachments = [self.read_raw_frame() for _ in range(message.get("attachments", 0))]
        return message

    def request(self, op, attachments=(), **fields):
        self._next_id += 1
        message = dict(fields, id=self._next_id, op=op)
        if attachments:
            message["attachments"] = len(attachments)
        self.send_frame(json.dumps(message).encode("utf-8"))
        for attachment in attachments:
            self.send_frame(attachment)
        response = self.read_frame()
        assert response is not None and response["id"] == self._next_id, response
        return response

    def send(self, op, **fields):
        """Sends a request without reading its answer; returns its id."""
        self._next_id += 1
        self.send_frame(json.dumps(dict(fields, id=self._next_id, op=op)).encode("utf-8"))
        return self._next_id

    @property
    def last_id(self):
        return self._next_id

    def interrupt(self, request_id):
        """SIGINT naming ``request_id`` in the cancel word."""
        self.cancel_word.target(request_id)
        self.proc.send_signal(signal.SIGINT)

    def ok(self, op, **fields):
        response = self.request(op, **fields)
        assert response["ok"], response
        return response["result"]

    def close(self):
        """Ends the worker by EOF and returns its exit status; safe to call twice."""
        if not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        code = self.proc.wait(timeout=10)
        if self.cancel_word is not None:
            self.cancel_word.close()
        if not self.proc.stderr.closed:
            self.stderr = self.proc.stderr.read().decode("utf-8", "replace")
            self.proc.stderr.close()
            self.proc.stdout.close()
        return code
