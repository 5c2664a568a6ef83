"""A minimal protocol client for the tests: spawns a real worker process and speaks frames to it."""
import json
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


class WorkerProcess:
    def __init__(self, handshake=True, attachments=False, numpy=True, environment=(), limits=None):
        """``numpy=False`` runs the worker as if numpy were not installed; ``environment`` adds variables;
        ``limits`` go in the handshake (HS-5)."""
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
        if not self.proc.stderr.closed:
            self.stderr = self.proc.stderr.read().decode("utf-8", "replace")
            self.proc.stderr.close()
            self.proc.stdout.close()
        return code
