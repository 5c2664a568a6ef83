"""The worker server (PROTOCOL.md SRV-*): ``python3 -m snakebridge_worker serve --listen unix:PATH
--preload mod1,mod2``. It imports the preloaded modules once, then forks one worker per client
connection, so a connection costs a fork instead of a fresh interpreter.

The server is single-threaded and runs no user code: a ``selectors`` loop over the listening socket,
the connections that are still sending their one-line preamble, SIGCHLD (through a wake-up pipe),
and its stdin, whose EOF means its owner is gone. Its stdout is a line per event for its owner: one
``{"ready": ...}`` line, then ``{"pid": n, "exit_code": c}`` or ``{"pid": n, "signal": s}`` as each
worker is reaped. A worker serves the ordinary protocol (handshake and all) over its connection, with
its stderr on a second connection of the client's, and dies with the server (Linux: PR_SET_PDEATHSIG)."""
import importlib
import json
import os
import selectors
import signal
import socket
import stat
import sys
import time
import traceback

_PREAMBLE_MAX = 4096  # bytes of one preamble line
_PENDING_SECONDS = 10  # how long a fork waits for its stderr connection
_LISTEN_BACKLOG = 128
_MAX_PENDING = 256  # connections still sending a preamble plus forks waiting for their stderr: past it, refused
_ACCEPT_PAUSE_SECONDS = 0.1  # out of file descriptors: stop accepting this long


class ServerStartError(Exception):
    """The server cannot start: a bad argument, a preload that fails to import, an unusable address."""


def main(argv):
    """Runs the server until its stdin ends (the owner is gone) or it is told to stop; returns the
    exit status. A start error is one line on stderr and status 2."""
    _claim_event_stream()  # before any preload can print
    try:
        listen, preload = _parse_args(argv)
        for name in preload:
            _preload(name)
        server = ForkServer(_listening_socket(listen))
    except ServerStartError as exc:
        sys.stderr.write(f"snakebridge_worker serve: {exc}\n")
        return 2
    _emit({"ready": True, "pid": os.getpid(), "preloaded": preload})
    return server.run()


_events = None  # the server's event stream to its owner: a private duplicate of the stdout it was given


def _claim_event_stream():
    """Moves the events to a private duplicate of fd 1 and points fd 1 at stderr: whatever a preload
    or an at-fork hook prints cannot forge or corrupt an event (SRV-1). Forked workers close it."""
    global _events
    _events = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def _parse_args(argv):
    listen, preload = None, []
    args = iter(argv)
    for arg in args:
        if arg == "--listen":
            listen = next(args, None)
        elif arg == "--preload":
            preload = [name.strip() for name in (next(args, None) or "").split(",") if name.strip()]
        else:
            raise ServerStartError(f"unknown argument {arg!r}; usage: serve --listen unix:PATH [--preload mod1,mod2]")
    if not listen or not listen.startswith("unix:") or len(listen) == len("unix:"):
        raise ServerStartError(f"--listen takes unix:PATH, got {listen!r}")
    return listen[len("unix:"):], preload


def _preload(name):
    if not all(part.isidentifier() for part in name.split(".")):
        raise ServerStartError(f"--preload: {name!r} is not a module name")
    try:
        importlib.import_module(name)
    except BaseException as exc:  # an import can raise anything, SystemExit included
        raise ServerStartError(f"--preload: module {name!r} failed to import: {type(exc).__name__}: {exc}") from None


def _listening_socket(path):
    """A Unix socket at ``path`` that only this user can connect to (mode 0600; the driver puts it
    in a private directory too). A stale socket file from a dead server is replaced."""
    try:
        existing = os.lstat(path)
    except FileNotFoundError:
        existing = None
    if existing is not None:
        if not stat.S_ISSOCK(existing.st_mode):
            raise ServerStartError(f"{path} exists and is not a socket; not replacing it")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(1.0)
        try:
            probe.connect(path)
        except OSError:
            os.unlink(path)  # a dead server's socket
        else:
            raise ServerStartError(f"another server is listening at {path}")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        sock.bind(path)
    except OSError as exc:
        raise ServerStartError(f"cannot listen at {path}: {exc}") from None
    finally:
        os.umask(old_umask)
    sock.listen(_LISTEN_BACKLOG)
    sock.setblocking(False)
    return sock


def _emit(event):
    _events.write(json.dumps(event) + "\n")
    _events.flush()


class _Preamble:
    """A connection that has not yet sent its one-line preamble."""

    __slots__ = ("buffer", "deadline")

    def __init__(self):
        self.buffer = b""
        self.deadline = time.monotonic() + _PENDING_SECONDS


class ForkServer:
    def __init__(self, listener):
        self._listener = listener
        self._selector = selectors.DefaultSelector()
        self._wakeup_read, self._wakeup_write = os.pipe()
        os.set_blocking(self._wakeup_read, False)
        os.set_blocking(self._wakeup_write, False)
        self._preambles = {}  # connection -> _Preamble, until its one line has come
        self._forks = {}  # token -> (protocol connection, fork request, deadline) waiting for its stderr connection
        self._running = True
        self._accept_paused_until = 0

    def run(self):
        signal.set_wakeup_fd(self._wakeup_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the loop through the wake-up fd
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C in a terminal is for the workers' calls, not the server
        self._selector.register(self._listener, selectors.EVENT_READ, self._accept)
        self._selector.register(self._wakeup_read, selectors.EVENT_READ, self._reap)
        try:
            self._selector.register(sys.stdin, selectors.EVENT_READ, self._owner_input)
        except (OSError, ValueError):  # /dev/null or a file (a service manager's stdin): no owner to watch
            pass
        while self._running:
            for key, _ in self._selector.select(timeout=1.0):
                try:
                    key.data(key.fileobj)
                except Exception:  # noqa: BLE001 - one client's trouble must never end the server
                    traceback.print_exc()
                    if key.fileobj not in (self._listener, self._wakeup_read, sys.stdin):
                        self._drop(key.fileobj)
            self._expire_pending()
            self._resume_accepting()
        path = self._listener.getsockname()
        self._listener.close()
        if path:
            os.unlink(path)  # a clean end leaves no socket file behind
        return 0

    def _resume_accepting(self):
        if self._accept_paused_until and time.monotonic() >= self._accept_paused_until:
            self._accept_paused_until = 0
            self._selector.register(self._listener, selectors.EVENT_READ, self._accept)

    def _stop(self, *_):
        self._running = False

    def _owner_input(self, stream):
        if not os.read(stream.fileno(), 4096):  # EOF: the owner (the JVM) is gone or done with us
            self._selector.unregister(stream)
            self._running = False

    def _accept(self, listener):
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # out of descriptors (EMFILE, ENFILE) or memory: pause rather than spin or die
            self._selector.unregister(listener)
            self._accept_paused_until = time.monotonic() + _ACCEPT_PAUSE_SECONDS
            return
        if not _same_user(conn):
            conn.close()
            return
        if len(self._preambles) + len(self._forks) >= _MAX_PENDING:
            self._refuse(conn, "too many pending connections")
            return
        conn.setblocking(False)
        self._selector.register(conn, selectors.EVENT_READ, self._read_preamble)
        self._preambles[conn] = _Preamble()

    def _read_preamble(self, conn):
        pending = self._preambles[conn]
        try:
            chunk = conn.recv(_PREAMBLE_MAX)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(conn)
            return
        pending.buffer += chunk
        if b"\n" not in pending.buffer:
            if len(pending.buffer) > _PREAMBLE_MAX:
                self._refuse(conn, "preamble line too long")
            return
        line = pending.buffer.split(b"\n", 1)[0]
        self._selector.unregister(conn)
        del self._preambles[conn]
        conn.setblocking(True)
        try:
            request = json.loads(line)
        except (ValueError, RecursionError):
            request = None
        if type(request) is not dict:
            self._refuse(conn, "the preamble is one JSON object on one line")
        elif request.get("op") == "fork":
            self._fork_requested(conn, request)
        elif request.get("op") == "stderr":
            self._stderr_arrived(conn, request)
        else:
            self._refuse(conn, f"unknown preamble op {request.get('op')!r}; expected fork or stderr")

    def _fork_requested(self, conn, request):
        limit = request.get("memory_limit_bytes", 0)
        if type(limit) is not int or limit < 0:
            self._refuse(conn, "memory_limit_bytes must be a non-negative integer")
            return
        cancel_word = request.get("cancel_word")
        if cancel_word is not None and (type(cancel_word) is not str or not cancel_word):
            self._refuse(conn, "cancel_word must be the path of a file (CANCEL-2)")
            return
        token = os.urandom(16).hex()
        try:
            _send_line(conn, {"token": token})
        except OSError:  # the client left already
            conn.close()
            return
        self._forks[token] = (conn, request, time.monotonic() + _PENDING_SECONDS)

    def _stderr_arrived(self, stderr_conn, request):
        waiting = self._forks.pop(request.get("token"), None) if type(request.get("token")) is str else None
        if waiting is None:
            self._refuse(stderr_conn, "unknown or expired token")
            return
        conn, fork_request, _ = waiting
        server_pid = os.getpid()
        try:
            pid = os.fork()
        except OSError as exc:
            self._refuse(conn, f"cannot fork a worker: {exc}")
            stderr_conn.close()
            return
        if pid == 0:
            self._become_worker(conn, stderr_conn, fork_request, server_pid)  # never returns
        try:
            _send_line(conn, {"pid": pid})
        except OSError:  # the client left: nobody will ever talk to this worker
            os.kill(pid, signal.SIGKILL)
        conn.close()
        stderr_conn.close()

    def _become_worker(self, conn, stderr_conn, request, server_pid):
        """In the forked child: drop everything of the server's, then serve ``conn``."""
        status = 70
        try:
            signal.set_wakeup_fd(-1)
            for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)
            self._listener.close()
            for pending in list(self._preambles):
                pending.close()
            for waiting, _, _ in self._forks.values():
                waiting.close()
            os.close(self._wakeup_read)
            os.close(self._wakeup_write)
            self._selector.close()
            _events.close()  # the owner's event stream is the server's alone
            from .__main__ import serve_forked
            status = serve_forked(conn, stderr_conn, request.get("memory_limit_bytes", 0), server_pid,
                                  request.get("cancel_word"))
        except BaseException:  # noqa: BLE001 - whatever happened, the child must not return into the server loop
            import traceback
            traceback.print_exc()
        finally:
            os._exit(status)

    def _reap(self, wakeup):
        while True:
            try:
                if not os.read(self._wakeup_read, 512):
                    break
            except (BlockingIOError, InterruptedError):
                break
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if os.WIFSIGNALED(status):
                _emit({"pid": pid, "signal": os.WTERMSIG(status)})
            else:
                _emit({"pid": pid, "exit_code": os.WEXITSTATUS(status)})

    def _expire_pending(self):
        now = time.monotonic()
        for token, (conn, _, deadline) in list(self._forks.items()):
            if now > deadline:
                del self._forks[token]
                self._refuse(conn, "the stderr connection did not come in time")
        for conn, pending in list(self._preambles.items()):
            if now > pending.deadline:
                self._drop(conn)

    def _drop(self, conn):
        try:
            self._selector.unregister(conn)
        except (KeyError, ValueError):
            pass  # not registered any more (its preamble was read)
        self._preambles.pop(conn, None)
        conn.close()

    def _refuse(self, conn, reason):
        try:
            conn.setblocking(True)
            _send_line(conn, {"error": reason})
        except OSError:
            pass
        conn.close()


def _send_line(conn, message):
    conn.sendall(json.dumps(message).encode("utf-8") + b"\n")


def _same_user(conn):
    """Linux: only this user's processes may ask for a worker (the socket's mode says so too)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return True
    import struct
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", creds)
    return uid == os.getuid()
