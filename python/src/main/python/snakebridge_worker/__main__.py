"""Entry point: ``python3 -m snakebridge_worker``. Serves one client on the process's stdin/stdout."""
import faulthandler
import json
import os
import signal
import sys
import uuid

from . import DEFAULTS, MIN_PYTHON
from .dispatch import Worker
from .errors import BridgeError, to_wire
from .framing import FrameError, read_frame, write_frame
from .registry import Registry


def _claim_protocol_streams():
    """Moves the protocol to private duplicates of fds 0 and 1, then points fd 0 at /dev/null and
    fd 1 at stderr, so that print(), input() or a C extension writing to fd 1 can never touch it."""
    proto_in = os.fdopen(os.dup(0), "rb", buffering=65536)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=65536)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, "r")
    sys.stdout = sys.stderr
    return proto_in, proto_out


def _die_with_parent():
    """Linux: the kernel kills this worker when the thread that spawned it dies, even by SIGKILL
    (the driver spawns from one thread that lives as long as the JVM). If the parent died before
    prctl took effect, exit now rather than run as an orphan."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # EOF on stdin still ends the worker
    expected_parent = os.environ.get("SNAKEBRIDGE_PARENT_PID")
    if expected_parent and expected_parent.isdigit() and os.getppid() != int(expected_parent):
        sys.stderr.write("snakebridge_worker: parent process already gone; exiting\n")
        sys.exit(4)


def _interrupt_user_code_only(worker):
    """SIGINT (the driver's cancel) raises KeyboardInterrupt inside user code and is ignored
    elsewhere: a late cancel must never tear a frame or the registry."""
    def on_sigint(signum, frame):
        if worker.interruptible:
            raise KeyboardInterrupt
    signal.signal(signal.SIGINT, on_sigint)


def _configure_int_digits(limit):
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(limit)


def serve(proto_in, proto_out, worker, max_frame_bytes):
    """Answers requests until EOF. Returns the process exit status."""
    while True:
        try:
            payload = read_frame(proto_in, max_frame_bytes)
        except FrameError as exc:
            # The stream is out of step: say why, then close rather than guess at the next frame.
            _send(proto_out, {"id": None, "ok": False, "error": {"code": exc.code, "message": str(exc)}})
            return 2
        if payload is None:
            return 0
        _send(proto_out, _answer(worker, payload), worker)


def _answer(worker, payload):
    try:
        request = json.loads(payload.decode("utf-8"))
    except RecursionError:
        return _failure(None, BridgeError("protocol", "request nests too deeply to parse"))
    except ValueError as exc:  # invalid UTF-8, invalid JSON, or an int longer than max_int_digits
        return _failure(None, BridgeError("protocol", f"request is not valid UTF-8 JSON: {exc}"))
    request_id = request.get("id") if type(request) is dict else None
    try:
        if type(request) is not dict:
            raise BridgeError("protocol", f"a request must be a JSON object, got {type(request).__name__}")
        if type(request_id) is not int:
            request_id = None
            raise BridgeError("protocol", "a request needs an integer id")
        return {"id": request_id, "ok": True, "result": worker.handle(request)}
    except KeyboardInterrupt:
        return _failure(request_id, BridgeError("cancelled", "the call was interrupted (KeyboardInterrupt)"))
    except RecursionError as exc:
        return _failure(request_id, BridgeError("invalid_value", f"value nests too deeply: {exc}"))
    except Exception as exc:  # a user's exception is an answer, never the end of the worker
        return _failure(request_id, exc)


def _failure(request_id, exc):
    return {"id": request_id, "ok": False, "error": to_wire(exc)}


def _send(proto_out, response, worker=None):
    try:
        data = _dumps(response)
    except (ValueError, TypeError, UnicodeEncodeError, RecursionError) as exc:
        # e.g. a str holding a lone surrogate, or an int past max_int_digits: the refs this result
        # made are dropped, the error says why, and the session goes on.
        if worker is not None:
            worker.rollback_last_result()
        failure = _failure(response.get("id"), BridgeError("invalid_value", f"result cannot be sent: {type(exc).__name__}: {exc!r}"))
        data = json.dumps(failure, ensure_ascii=True, default=repr).encode("ascii")
    write_frame(proto_out, data)


def _dumps(message):
    return json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def main():
    if sys.version_info < MIN_PYTHON:
        sys.stderr.write(f"snakebridge_worker needs Python >= {'.'.join(map(str, MIN_PYTHON))}, "
                         f"this is {sys.version.split()[0]}\n")
        return 3
    faulthandler.enable()
    _die_with_parent()
    _configure_int_digits(DEFAULTS["max_int_digits"])
    proto_in, proto_out = _claim_protocol_streams()
    worker = Worker(Registry(DEFAULTS), uuid.uuid4().hex)
    _interrupt_user_code_only(worker)
    return serve(proto_in, proto_out, worker, DEFAULTS["max_frame_bytes"])


if __name__ == "__main__":
    sys.exit(main())
