"""Entry point: ``python3 -m snakebridge_worker``. Serves one client on the process's stdin/stdout."""
import faulthandler
import io
import os
import signal
import socket
import sys
import uuid

from . import DEFAULTS, MIN_PYTHON, cancel, errors, logs
from .registry import Registry
from .server import IdleReader, Server
from .server_limits import NO_LIMITS
from .worker import Worker


def _claim_protocol_streams():
    """Moves the protocol to private duplicates of fds 0 and 1, then points fd 0 at /dev/null and
    fd 1 at stderr, so that print(), input() or a C extension writing to fd 1 can never touch it."""
    _widen_pipe(0)
    _widen_pipe(1)
    proto_in = os.fdopen(os.dup(0), "rb", buffering=_BUFFER_BYTES)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=_BUFFER_BYTES)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, "r")
    sys.stdout = sys.stderr
    return proto_in, proto_out


def _widen_pipe(fd):
    """Linux: a 1 MiB pipe instead of 64 KiB moves large attachments with 16x fewer wake-ups.
    Best effort: not a pipe, another OS, or a lower pipe-max-size leave it as it is."""
    try:
        import fcntl
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


_PIPE_BYTES = 1 << 20
_BUFFER_BYTES = 65536  # the protocol streams' buffers


def _die_with_parent(expected_parent=None):
    """Linux: the kernel kills this worker when the thread that spawned it dies, even by SIGKILL
    (the driver spawns from one thread that lives as long as the JVM; a worker server is
    single-threaded). If the parent died before prctl took effect, exit now rather than run as an
    orphan. ``expected_parent``: the parent's pid, by default the driver's SNAKEBRIDGE_PARENT_PID."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # EOF on stdin still ends the worker
    if expected_parent is None:
        expected_parent = os.environ.get("SNAKEBRIDGE_PARENT_PID")
    if expected_parent and str(expected_parent).isdigit() and os.getppid() != int(expected_parent):
        sys.stderr.write("snakebridge_worker: parent process already gone; exiting\n")
        sys.exit(4)


def main(argv=()):
    """A worker on stdin/stdout; or, with ``serve ...``, a worker server (forkserver.py); or, with
    ``probe HOST:PORT ...``, a health check of a remote one (probe.py)."""
    if sys.version_info < MIN_PYTHON:
        sys.stderr.write(f"snakebridge_worker needs Python >= {'.'.join(map(str, MIN_PYTHON))}, "
                         f"this is {sys.version.split()[0]}\n")
        return 3
    # The driver reads stderr as UTF-8 whatever the locale; PYTHONIOENCODING would not reach an isolated (-I) worker.
    sys.stderr.reconfigure(encoding="utf-8", errors="backslashreplace")
    faulthandler.enable()
    _die_with_parent()
    logs.install_from_environment()  # before a server forks: its workers inherit the handler
    if argv and argv[0] == "serve":
        no_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # the cache holds only the sources
        from . import forkserver
        sys.dont_write_bytecode = no_bytecode
        return forkserver.main(list(argv[1:]))
    if argv and argv[0] == "probe":
        no_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
        from . import probe
        sys.dont_write_bytecode = no_bytecode
        return probe.main(list(argv[1:]))
    proto_in, proto_out = _claim_protocol_streams()
    return _serve(proto_in, proto_out, cancel.from_environment())


def _serve(proto_in, proto_out, cancel_word, server_limits=NO_LIMITS, idle=None):
    worker = Worker(Registry(DEFAULTS, server_limits=server_limits), uuid.uuid4().hex, cancel_word=cancel_word)
    worker.install_sigint_handler()
    return Server(proto_in, proto_out, worker, idle).serve()


def serve_forked(conn, stderr_conn, memory_limit_bytes, server_pid, cancel_word=None, server_limits=NO_LIMITS):
    """In a worker a server forked (forkserver.py): the protocol on ``conn``, stdout and stderr on
    ``stderr_conn``, stdin on /dev/null, dying with the server (``server_pid``, taken before the
    fork: if it is gone already, this worker exits), its SIGINTs targeted through ``cancel_word`` (CANCEL-2):
    the path of the file a local client made, or the word a server made for a remote client's worker,
    or None. Returns the exit status. A remote client's worker has no ``stderr_conn``: its fd 2 is already
    a pipe its server reads, logs and keeps the last lines of for its client (REMOTE-11). ``server_limits``:
    what the server bounds, applied here, before the first request, where the client's frames cannot
    reach (REMOTE-6): the narrower memory limit of the server's and the client's ``memory_limit_bytes``,
    and the rest."""
    if stderr_conn is not None:
        os.dup2(stderr_conn.fileno(), 2)
        stderr_conn.close()
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(os.devnull, "r")
    sys.stdout = sys.stderr
    _die_with_parent(server_pid)
    if isinstance(cancel_word, str):
        cancel_word = cancel.open_word(cancel_word)
    limit = server_limits.memory_limit(memory_limit_bytes)
    if limit:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # the hard limit too: user code cannot raise it again
        errors.memory_limit_in_force(limit, by_server=limit == server_limits.memory_limit_bytes)
    _reseed_forked_state()
    proto_in, proto_out, idle = _socket_streams(conn, server_limits.idle_timeout_seconds)
    return _serve(proto_in, proto_out, cancel_word, server_limits, idle)


def _socket_streams(conn, idle_seconds=0):
    """The protocol's streams over ``conn``, and the idle bound of the request loop (Server) or None.
    A plain blocking socket is read and written through its file descriptor, as a pipe is (C all the
    way down): socket.makefile's SocketIO runs Python code for every read and write, about 1 µs of a
    core per request. A TLS socket keeps makefile; with the server's idle timeout, reads go through
    an IdleReader, which gives each wait for a request one deadline (REMOTE-9)."""
    if idle_seconds:
        reader = IdleReader(conn)
        return (io.BufferedReader(reader, _BUFFER_BYTES), conn.makefile("wb", buffering=_BUFFER_BYTES),
                (reader, idle_seconds))
    if type(conn) is socket.socket and conn.gettimeout() is None:
        fd = conn.detach()
        return os.fdopen(fd, "rb", buffering=_BUFFER_BYTES), os.fdopen(os.dup(fd), "wb", buffering=_BUFFER_BYTES), None
    return conn.makefile("rb", buffering=_BUFFER_BYTES), conn.makefile("wb", buffering=_BUFFER_BYTES), None


def _reseed_forked_state():
    """A fork copies random state: every worker would draw the same numbers. The standard library's
    random reseeds itself after a fork; numpy's legacy global generator does not."""
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
