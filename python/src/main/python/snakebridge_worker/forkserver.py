"""The worker server (PROTOCOL.md SRV-*, REMOTE-*): ``python3 -m snakebridge_worker serve --listen
unix:PATH --preload mod1,mod2``, or over TCP for remote clients, ``--listen HOST:PORT`` with TLS
(``--tls-cert``/``--tls-key``, optionally ``--tls-client-ca``) and a token (``--token-file``). It
imports the preloaded modules once, then forks one worker per client connection, so a connection
costs a fork instead of a fresh interpreter. ``--memory-limit``, ``--max-refs``, ``--allow-modules``,
``--deny-modules`` and ``--idle-timeout`` bound every worker, whatever its client asks (server_limits.py).

The server is single-threaded and runs no user code: a ``selectors`` loop over the listening socket,
the connections that are still sending their one-line preamble, SIGCHLD (through a wake-up pipe),
and its stdin, whose EOF means its owner is gone. A TCP connection first does TLS and proves it knows the token (a challenge-response)
before it may ask for anything; a remote worker keeps a control connection with the server, which
carries its cancels and kills and reports its end, with the last lines of its stderr (a pipe the
server reads and logs). Its stdout is a line per event for its owner: one
``{"ready": ...}`` line, then ``{"pid": n, "exit_code": c}`` or ``{"pid": n, "signal": s}`` as each
worker is reaped. A worker serves the ordinary protocol (handshake and all) over its connection, with
its stderr on a second connection of the client's, and dies with the server (Linux: PR_SET_PDEATHSIG)."""
import fcntl
import hashlib
import hmac
import importlib
import ipaddress
import json
import mmap
import os
import select
import selectors
import signal
import socket
import ssl
import stat
import struct
import sys
import termios
import time
import traceback

from . import cancel
from .admission import (AUTHENTICATED, AUTHENTICATING, CONNECTING, FIRST_BYTES_SECONDS, PENDING_SECONDS, STAGE_SECONDS,
                        TLS, Notices, Pending, Tier, describe, peer_of, tier_of)
from .server_limits import NO_LIMITS, ServerLimits
from .tls_channel import TlsChannel
from .worker_stderr import WorkerStderr, end_event

_PREAMBLE_MAX = 4096  # bytes of one preamble line
_ACCEPT_BATCH = 16  # accepts per wake-up: a flood cannot hold the loop, and a connection whose bytes are in is read before its tier turns over
_TLS_RECORD_MAX = 5 + 16384  # a plaintext TLS record's header and largest body (RFC 8446 5.1): a longer one is OpenSSL's to refuse
_LISTEN_BACKLOG = 128
_ACCEPT_PAUSE_SECONDS = 0.1  # out of file descriptors: stop accepting this long
_TOKEN_MIN_CHARS = 16  # a shorter token could be guessed offline from one observed challenge and its answer
_AUTH_CONTEXT = b"snakebridge-auth-v1\0"  # what the MAC is over, before the nonce: a MAC made for anything else never matches
_TLS_RECORD_HANDSHAKE = 0x16  # the first byte of every TLS ClientHello
_STDERR_DRAIN_BYTES = 1 << 20  # read at a worker's end at most: a grandchild holding its pipe may write forever
_CONTROL_UNREAD_MAX = 65536  # bytes a control connection's client may leave unread (acknowledgements) before it loses its worker
_CONTROL_WRITE_SECONDS = 10  # what the server writes on a control connection must be taken by its client within this
_SEND_CHUNK = 16384  # one TLS record's plaintext: a non-blocking write offers at most this, the same bytes again after a retry


class ServerStartError(Exception):
    """The server cannot start: a bad argument, a preload that fails to import, an unusable address."""


def main(argv):
    """Runs the server until its stdin ends (the owner is gone) or it is told to stop; returns the
    exit status. A start error is one line on stderr and status 2."""
    _claim_event_stream()  # before any preload can print
    try:
        options = _parse_args(argv)
        remote = _remote_settings(options) if options.tcp else None
        for name in options.preload:
            _preload(name)
        listener = _tcp_socket(options) if options.tcp else _listening_socket(options.listen)
        server = ForkServer(listener, remote, options.max_workers, limits=options.limits)
    except ServerStartError as exc:
        sys.stderr.write(f"snakebridge_worker serve: {exc}\n")
        return 2
    ready = {"ready": True, "pid": os.getpid(), "preloaded": options.preload}
    if options.limits is not NO_LIMITS:
        ready["limits"] = options.limits.to_wire()
    if options.tcp:
        host, port = listener.getsockname()[:2]
        ready["listen"] = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    _emit(ready)
    return server.run()


_events = None  # the server's event stream to its owner: a private duplicate of the stdout it was given


def _claim_event_stream():
    """Moves the events to a private duplicate of fd 1 and points fd 1 at stderr: whatever a preload
    or an at-fork hook prints cannot forge or corrupt an event (SRV-1). Forked workers close it."""
    global _events
    _events = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr


_USAGE = ("usage: serve --listen unix:PATH | HOST:PORT [--preload mod1,mod2] [--max-workers N]"
          " [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]] [--token-file FILE] [--insecure]"
          " [--memory-limit BYTES] [--max-refs N] [--idle-timeout SECONDS]"
          " [--allow-modules mod1,mod2] [--deny-modules mod1,mod2]")


class _Options:
    def __init__(self):
        self.listen = None
        self.tcp = False
        self.preload = []
        self.max_workers = 0  # 0: no limit
        self.tls_cert = self.tls_key = self.tls_client_ca = self.token_file = None
        self.insecure = False
        self.limits = NO_LIMITS  # what every worker is bounded by, whatever its client asks (REMOTE-6)


def _parse_args(argv):
    options = _Options()
    limits = {}  # ServerLimits' arguments, from the options that set them
    valued = {"--listen": "listen", "--tls-cert": "tls_cert", "--tls-key": "tls_key",
              "--tls-client-ca": "tls_client_ca", "--token-file": "token_file"}
    args = iter(argv)
    for arg in args:
        if arg in valued:
            value = next(args, None)
            if not value:
                raise ServerStartError(f"{arg} needs a value; {_USAGE}")
            setattr(options, valued[arg], value)
        elif arg == "--preload":
            options.preload = [name.strip() for name in (next(args, None) or "").split(",") if name.strip()]
        elif arg == "--max-workers":
            value = next(args, None) or ""
            if not value.isdigit() or int(value) < 1:
                raise ServerStartError(f"--max-workers takes a positive integer, got {value!r}")
            options.max_workers = int(value)
        elif arg == "--insecure":
            options.insecure = True
        elif arg in _LIMIT_OPTIONS:
            field, parse = _LIMIT_OPTIONS[arg]
            limits[field] = parse(arg, next(args, None) or "")
        else:
            raise ServerStartError(f"unknown argument {arg!r}; {_USAGE}")
    if limits:
        options.limits = ServerLimits(**limits)
    listen = options.listen
    if listen and listen.startswith("unix:") and len(listen) > len("unix:"):
        if options.tls_cert or options.tls_key or options.tls_client_ca or options.token_file or options.insecure:
            raise ServerStartError("TLS, tokens and --insecure are for TCP; a unix: socket admits only this user")
        options.listen = listen[len("unix:"):]
        return options
    if not listen or ":" not in listen:
        raise ServerStartError(f"--listen takes unix:PATH or HOST:PORT, got {listen!r}")
    options.tcp = True
    return options


def _positive_integer(option, value):
    if not value.isdigit() or int(value) < 1:
        raise ServerStartError(f"{option} takes a positive integer, got {value!r}")
    return int(value)


def _positive_seconds(option, value):
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise ServerStartError(f"{option} takes a positive number of seconds, got {value!r}")
    return seconds


def _module_list(option, value):
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names or not all(part.isidentifier() for name in names for part in name.split(".")):
        raise ServerStartError(f"{option} takes comma-separated dotted module names, got {value!r}")
    return names


# serve's options that bound every worker (REMOTE-6): option -> (ServerLimits argument, parser)
_LIMIT_OPTIONS = {"--memory-limit": ("memory_limit_bytes", _positive_integer),
                  "--max-refs": ("max_refs", _positive_integer),
                  "--idle-timeout": ("idle_timeout_seconds", _positive_seconds),
                  "--allow-modules": ("allow_modules", _module_list),
                  "--deny-modules": ("deny_modules", _module_list)}


class _Remote:
    """What a TCP listener demands of a client: TLS (a server context, or None) and a token (or None),
    and what binds a client's MAC to this server (REMOTE-2): the SHA-256 of its certificate, or b""."""

    def __init__(self, tls, token, binding=b""):
        self.tls = tls
        self.token = token
        self.binding = binding


def _remote_settings(options):
    if bool(options.tls_cert) != bool(options.tls_key):
        raise ServerStartError("--tls-cert and --tls-key go together")
    if options.tls_client_ca and not options.tls_cert:
        raise ServerStartError("--tls-client-ca (mutual TLS) needs --tls-cert and --tls-key")
    tls = None
    if options.tls_cert:
        tls = _server_context()
        try:
            tls.load_cert_chain(options.tls_cert, options.tls_key)
            if options.tls_client_ca:
                tls.verify_mode = ssl.CERT_REQUIRED
                tls.load_verify_locations(cafile=options.tls_client_ca)
        except (OSError, ssl.SSLError) as exc:
            raise ServerStartError(f"cannot load the TLS certificate, key or client CA: {exc}") from None
    token = _read_token(options.token_file) if options.token_file else None
    return _Remote(tls, token, _certificate_digest(options.tls_cert) if tls else b"")


def _server_context():
    """TLS 1.3 only (REMOTE-1): every client this server has (Java 11 on, Python on OpenSSL 1.1.1 on) speaks it, and
    it leaves out what older versions carry: renegotiation, static-RSA and CBC suites, a certificate (a
    client's too) sent in the clear, and a second round trip that a client spends in a pending slot.
    Renegotiation is switched off as well, should anyone lower the minimum."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.minimum_version = ssl.TLSVersion.TLSv1_3
    tls.options |= ssl.OP_NO_RENEGOTIATION
    return tls


def _certificate_digest(path):
    """The SHA-256 of the first certificate in the PEM file ``path``: the one this server presents."""
    with open(path, encoding="ascii", errors="replace") as f:
        pem = f.read()
    end = "-----END CERTIFICATE-----"
    start = pem.find("-----BEGIN CERTIFICATE-----")
    if start < 0 or pem.find(end, start) < 0:
        raise ServerStartError(f"--tls-cert: no certificate in {path}")
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem[start:pem.find(end, start) + len(end)])).digest()


def _read_token(path):
    try:
        with open(path, "rb") as f:
            token = f.read().strip()
    except OSError as exc:
        raise ServerStartError(f"--token-file: cannot read {path}: {exc.strerror}") from None
    if len(token) < _TOKEN_MIN_CHARS:
        raise ServerStartError(f"--token-file: the token in {path} is shorter than {_TOKEN_MIN_CHARS} characters;"
                               " make one with: openssl rand -hex 32")
    return token


def _tcp_socket(options):
    """A TCP listener at HOST:PORT ([v6]:PORT; port 0 picks one, reported in the ready line). A
    non-loopback address needs TLS and a token, unless the operator said --insecure (REMOTE-1)."""
    host, _, port = options.listen.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not port.isdigit() or int(port) > 65535:
        raise ServerStartError(f"--listen: bad port in {options.listen!r}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host or None, int(port), type=socket.SOCK_STREAM,
                                                            flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise ServerStartError(f"--listen: cannot resolve {host!r}: {exc}") from None
    try:
        loopback = ipaddress.ip_address(address[0].split("%")[0]).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not options.insecure and not (options.tls_cert and options.token_file):
        raise ServerStartError(f"refusing to listen on {address[0]}, which is not a loopback address, without TLS"
                               " (--tls-cert, --tls-key) and a token (--token-file): anyone who reaches it could run"
                               " code; add --insecure only if the network itself is trusted")
    if not options.insecure and not options.token_file:
        # A loopback port, unlike a unix: socket, is open to every user of this machine.
        raise ServerStartError(f"refusing to listen on {address[0]} without a token (--token-file): every user of"
                               " this machine could reach it and run code as this one; add --insecure only if every"
                               " local user is trusted")
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServerStartError(f"cannot listen at {options.listen}: {exc.strerror}") from None
    sock.listen(_LISTEN_BACKLOG)
    sock.setblocking(False)
    return sock


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


class ForkServer:
    def __init__(self, listener, remote=None, max_workers=0, limits=NO_LIMITS):
        self._listener = listener
        self._remote = remote  # None: a unix: listener; else what a TCP client must do first (_Remote)
        self._max_workers = max_workers
        self._limits = limits  # what bounds every worker (ServerLimits): the worker applies it after its fork
        self._selector = selectors.DefaultSelector()
        self._wakeup_read, self._wakeup_write = os.pipe()
        os.set_blocking(self._wakeup_read, False)
        os.set_blocking(self._wakeup_write, False)
        self._pending = {}  # connection -> Pending, until its preamble has come
        self._tiers = {name: Tier(name) for name in (CONNECTING, TLS, AUTHENTICATING, AUTHENTICATED)}
        self._forks = {}  # token -> (protocol connection, fork request, deadline) waiting for its second connection
        self._children = set()  # pids of the forked workers not yet reaped
        self._controls = {}  # pid -> its remote client's control connection (REMOTE-4)
        self._control_of = {}  # control connection -> [pid, unread bytes, cancel word]
        self._outgoing = {}  # control connection -> its _Outgoing: what waits to be written on it, never a blocking write
        self._outputs = {}  # pid -> its WorkerStderr, for a remote worker (REMOTE-11)
        self._paused = {}  # pid -> its WorkerStderr, not read until its second is over: it wrote its lines' worth
        self._running = True
        self._accept_paused_until = 0
        self._notices = Notices()
        self._next_expiry = 0

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
            self._dispatch(self._selector.select(timeout=self._select_timeout()))
            self._resume_outputs()
            self._expire_pending()
            self._resume_accepting()
            self._notices.flush()
        self._notices.flush(ending=True)
        unix = self._listener.family == socket.AF_UNIX
        path = self._listener.getsockname() if unix else None
        self._listener.close()
        if path:
            os.unlink(path)  # a clean end leaves no socket file behind
        return 0

    def _dispatch(self, ready):
        """Runs the handler of each ready key of one ``select``, but not of a key an earlier handler of
        the same batch unregistered: the reaping of a worker closes its stderr pipe, a dropped
        connection is closed, and the fd number may already belong to a newer connection."""
        for key, _ in ready:
            if self._selector.get_map().get(key.fileobj) is not key:
                continue
            try:
                key.data(key.fileobj)
            except Exception:  # noqa: BLE001 - one client's trouble must never end the server
                traceback.print_exc()
                if isinstance(key.fileobj, (socket.socket, TlsChannel)) and key.fileobj is not self._listener:
                    self._drop(key.fileobj)

    def _select_timeout(self):
        """A second at most; less when a paused worker's stderr is due to be read again."""
        if not self._paused:
            return 1.0
        return min(1.0, max(0.0, min(output.resume_at() for output in self._paused.values()) - time.monotonic()))

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
        for _ in range(_ACCEPT_BATCH):
            try:
                conn, address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # out of descriptors (EMFILE, ENFILE) or memory: pause rather than spin or die
                self._selector.unregister(listener)
                self._accept_paused_until = time.monotonic() + _ACCEPT_PAUSE_SECONDS
                return
            self._admit(conn, address)

    def _admit(self, conn, address):
        if self._remote is None and not _same_user(conn):
            conn.close()
            return
        pending = Pending(peer_of(address), time.monotonic())
        if self._remote is not None:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a frame is one write: send it now
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # a peer that vanished is noticed
        conn.setblocking(False)
        # A unix: client is this user's own: it has nothing left to prove (SRV-1).
        if self._advance(conn, pending, "preamble" if self._remote is None else "sniff"):
            self._selector.register(conn, selectors.EVENT_READ, self._readable)

    def _advance(self, conn, pending, stage):
        """Moves ``conn`` to ``stage``, at the end of its tier with the stage's deadline; false if it
        was refused. A full tier makes room by closing its victim; an authenticated connection is never
        a victim: a full authenticated tier refuses the newcomer instead (it is its own clients' load)."""
        tier = self._tiers[tier_of(stage, self._remote)]
        if pending.tier is not None:
            pending.tier.remove(conn)
        if tier.name == AUTHENTICATED:
            if len(tier) + len(self._forks) >= tier.slots:
                self._refuse(conn, "too many pending connections")
                return False
        elif len(tier) >= tier.slots:
            victim = tier.victim()
            if victim is not None:
                self._evict(victim, tier)
        now = time.monotonic()
        pending.stage = stage
        seconds = FIRST_BYTES_SECONDS if stage == "sniff" else STAGE_SECONDS
        pending.deadline = pending.expires if tier.name == AUTHENTICATED else min(pending.expires, now + seconds)
        self._pending[conn] = pending
        tier.add(conn, pending)
        return True

    def _evict(self, conn, tier):
        pending = self._pending[conn]
        self._notices.note("evicted", f"closed a pending connection from {describe(pending.peer)} (at {pending.stage})"
                                      f" to make room in the full {tier.name} tier ({tier.slots} slots)")
        self._drop(conn)

    def _readable(self, conn):
        pending = self._pending.get(conn)
        if pending is None:
            return  # closed to make room earlier in this same wake-up
        if pending.stage == "sniff":
            conn = self._sniff(conn, pending)
            if conn is None:
                return
        if pending.stage == "handshake" and not self._tls_handshake(conn, pending):
            return
        self._read_lines(conn, pending)

    def _sniff(self, conn, pending):
        """A TCP connection's first bytes. Without TLS, any byte moves it on. With TLS, it looks at the
        first record without taking it: a TLS client starts with a handshake record (anything else is a
        plain-text client or garbage, told in plain text that TLS is required), and the connection stays
        in the connecting tier until the whole record (its ClientHello) is in, so one that dribbles a
        byte at a time never reaches the TLS tier nor costs the server any cryptography."""
        try:
            head = conn.recv(5, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            head = b""
        if not head:
            self._drop(conn)
            return None
        if self._remote.tls is None:
            return conn if self._advance(conn, pending, "hello") else None
        if head[0] != _TLS_RECORD_HANDSHAKE:
            self._refuse(conn, "this server requires TLS; the client spoke plain text", "tls_required")
            return None
        whole = 5 + int.from_bytes(head[3:5], "big") if len(head) == 5 else 5
        if whole <= _TLS_RECORD_MAX and _unread_bytes(conn) < whole:  # (a longer record is garbage OpenSSL refuses at once)
            # Bytes only peeked at keep a socket readable: without a low-water mark the loop would spin on
            # it. Woken with too few, the peer has ended its side (or the kernel is short of memory).
            if pending.awaited != whole:
                pending.awaited = whole
                _set_low_water(conn, whole)
            elif _peer_done(conn):
                self._drop(conn)
            return None
        if pending.awaited:
            _set_low_water(conn, 1)  # OpenSSL reads what comes
        self._selector.unregister(conn)
        self._pending.pop(conn)
        pending.tier.remove(conn)
        pending.tier = None
        tls = TlsChannel(self._remote.tls, conn)  # OpenSSL's work per wake-up is bounded (REMOTE-12)
        if not self._advance(tls, pending, "handshake"):
            return None
        self._selector.register(tls, selectors.EVENT_READ, self._readable)
        return tls

    def _tls_handshake(self, conn, pending):
        """One step of a non-blocking TLS handshake; true when it is done. A slow or silent client
        holds a pending slot until its deadline, never the loop."""
        try:
            conn.do_handshake()
        except ssl.SSLWantReadError:
            self._selector.modify(conn, selectors.EVENT_READ, self._readable)
            return False
        except ssl.SSLWantWriteError:
            self._selector.modify(conn, selectors.EVENT_WRITE, self._readable)
            return False
        except (ssl.SSLError, OSError) as exc:  # an untrusted client certificate, a TLS version we refuse, garbage
            self._notices.note("tls", f"TLS handshake with {describe(pending.peer)} failed:"
                                      f" {getattr(exc, 'reason', None) or exc}")
            self._drop(conn)
            return False
        if not self._advance(conn, pending, "hello"):
            return False
        self._selector.modify(conn, selectors.EVENT_READ, self._readable)
        return True

    def _read_lines(self, conn, pending):
        buffer = _receive(conn, pending.buffer)
        if buffer is None:
            self._drop(conn)
            return
        pending.buffer = buffer
        while conn in self._pending and b"\n" in pending.buffer:
            line, pending.buffer = pending.buffer.split(b"\n", 1)
            self._take_line(conn, pending, line)
        if conn in self._pending and len(pending.buffer) > _PREAMBLE_MAX:
            self._refuse(conn, "preamble line too long")

    def _take_line(self, conn, pending, line):
        request = _parse_line(line)
        if request is None:
            self._refuse(conn, "the preamble is one JSON object on one line")
            return
        op = request.get("op")
        if pending.stage == "hello":
            self._hello(conn, pending, op)
        elif pending.stage == "auth":
            mac = request.get("mac")
            if op != "auth" or type(mac) is not str or not _mac_matches(self._remote, pending.nonce, mac):
                self._refuse(conn, "authentication failed", "auth_failed")
                return
            if self._advance(conn, pending, "preamble"):
                self._reply(conn, {"authenticated": True})
        else:
            self._selector.unregister(conn)
            self._forget(conn)
            if op == "fork":
                conn.setblocking(True)
                self._fork_requested(conn, request)
            elif op == ("stderr" if self._remote is None else "control"):
                conn.setblocking(True)
                self._second_arrived(conn, request)
            else:
                expected = "fork or stderr" if self._remote is None else "fork or control"
                self._refuse(conn, f"unknown preamble op {op!r}; expected {expected}")

    def _hello(self, conn, pending, op):
        """REMOTE-2: a TCP client says hello first (so a plain-text client of a TLS server gets an
        answer), and is then challenged, if the server has a token."""
        if op != "hello":
            self._refuse(conn, f"expected hello, got {op!r}")
        elif self._remote.token is None:
            if self._advance(conn, pending, "preamble"):
                self._reply(conn, {"auth": "none"})
        else:
            pending.nonce = os.urandom(32)
            if self._advance(conn, pending, "auth"):
                self._reply(conn, {"auth": "hmac-sha256", "nonce": pending.nonce.hex()})

    def _reply(self, conn, message):
        try:
            _send_line(conn, message)
        except OSError:  # a client that does not read its answers is dropped, never waited for
            self._drop(conn)

    def _fork_requested(self, conn, request):
        limit = request.get("memory_limit_bytes", 0)
        if type(limit) is not int or limit < 0:
            self._refuse(conn, "memory_limit_bytes must be a non-negative integer")
            return
        cancel_word = request.get("cancel_word")
        if cancel_word is not None and (self._remote is not None or type(cancel_word) is not str or not cancel_word):
            # a remote client names no file of this machine: the server makes a remote worker's word itself
            self._refuse(conn, "cancel_word must be the path of a file (CANCEL-2), and only a local client names one")
            return
        if self._max_workers and len(self._children) + len(self._forks) >= self._max_workers:
            self._refuse(conn, f"the server already runs its most workers (--max-workers {self._max_workers})",
                         "too_many_workers")
            return
        authenticated = self._tiers[AUTHENTICATED]
        if len(authenticated) + len(self._forks) >= authenticated.slots:
            self._refuse(conn, "too many pending connections")
            return
        token = os.urandom(16).hex()
        try:
            _send_line(conn, {"token": token})
        except OSError:  # the client left already
            conn.close()
            return
        self._forks[token] = (conn, request, time.monotonic() + PENDING_SECONDS)

    def _second_arrived(self, second, request):
        """The fork's second connection: its stderr (unix:), or its control connection (TCP)."""
        waiting = self._forks.pop(request.get("token"), None) if type(request.get("token")) is str else None
        if waiting is None:
            self._refuse(second, "unknown or expired token")
            return
        conn, fork_request, _ = waiting
        server_pid = os.getpid()
        # A remote worker's cancel word: shared memory the fork gives both, which the server writes a
        # control connection's cancel into (CANCEL-4); a local client maps a file of its own instead.
        word = None if self._remote is None else cancel.CancelWord(mmap.mmap(-1, cancel.SIZE))
        stderr_pipe = None
        try:
            if self._remote is not None:
                stderr_pipe = os.pipe()  # a remote worker's stderr, read here (REMOTE-11)
            pid = os.fork()
        except OSError as exc:
            _close_pipe(stderr_pipe)
            self._refuse(conn, f"cannot fork a worker: {exc}")
            second.close()
            return
        if pid == 0:
            if stderr_pipe is not None:
                os.dup2(stderr_pipe[1], 2)  # before anything the child does can write there
                _close_pipe(stderr_pipe)
            self._become_worker(conn, second, fork_request, server_pid, word)  # never returns
        self._children.add(pid)
        if stderr_pipe is not None:
            self._watch_output(pid, stderr_pipe)
        if self._remote is None:
            try:
                _send_line(conn, {"pid": pid})
            except OSError:  # the client left: nobody will ever talk to this worker
                os.kill(pid, signal.SIGKILL)
            conn.close()
            second.close()
            return
        conn.close()  # the worker's alone now: it announces itself on it (a TLS stream has one writer)
        second.setblocking(False)
        self._controls[pid] = second
        self._control_of[second] = [pid, b"", word]
        self._outgoing[second] = _Outgoing()
        self._selector.register(second, selectors.EVENT_READ, self._control_ready)
        self._write_control(second, {"pid": pid})

    def _become_worker(self, conn, second, request, server_pid, word):
        """In the forked child: drop everything of the server's, then serve ``conn``."""
        status = 70
        try:
            signal.set_wakeup_fd(-1)
            for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)
            self._listener.close()
            for pending in list(self._pending):
                pending.close()
            for waiting, _, _ in self._forks.values():
                waiting.close()
            for control in self._control_of:
                control.close()  # other workers' lifelines: holding them would hide those clients' ends
            for _, _, other_word in self._control_of.values():
                other_word.close()  # other workers' cancel words: this one's user code must not aim at them
            for output in self._outputs.values():
                os.close(output.fd)  # other workers' stderr: not this one's to read
            self._pending.clear()
            self._tiers.clear()
            self._forks.clear()
            self._controls.clear()
            self._control_of.clear()
            self._outgoing.clear()
            self._outputs.clear()
            self._paused.clear()
            if self._remote is not None:
                # What the worker needs no more, out of its reach (its memory is its user code's): the
                # token; the TLS context holding the server's key cannot be dropped from a fork (see README).
                self._remote.token = None
            os.close(self._wakeup_read)
            os.close(self._wakeup_write)
            self._selector.close()
            _events.close()  # the owner's event stream is the server's alone
            from .__main__ import serve_forked
            if self._remote is None:
                status = serve_forked(conn, second, request.get("memory_limit_bytes", 0), server_pid,
                                      request.get("cancel_word"), self._limits)
            else:
                second.close()  # the server keeps the control connection; this worker's stderr is the server's
                conn.setblocking(True)
                _send_line(conn, {"pid": os.getpid()})
                status = serve_forked(conn, None, request.get("memory_limit_bytes", 0), server_pid, word, self._limits)
        except BaseException:  # noqa: BLE001 - whatever happened, the child must not return into the server loop
            import traceback
            traceback.print_exc()
        finally:
            os._exit(status)

    def _control_ready(self, conn):
        """A control connection is readable, or writable while something waits to be written on it."""
        if self._outgoing[conn].data or getattr(conn, "unsent", 0):  # a TLS channel's own encrypted bytes too
            self._flush_control(conn)
        if conn in self._control_of and not self._outgoing[conn].ending:
            self._read_control(conn)

    def _read_control(self, conn):
        """REMOTE-4: a remote worker's control connection carries its cancels and kills; its end
        kills the worker (its client is gone)."""
        state = self._control_of[conn]
        buffer = _receive(conn, state[1])
        if buffer is None:
            self._end_control(conn, kill=True)
            return
        *lines, state[1] = buffer.split(b"\n")
        for line in lines:
            request = _parse_line(line)
            op = request.get("op") if request is not None else None
            target = request.get("request") if op == "cancel" else None
            if type(target) is int and cancel.ID_MIN <= target <= cancel.ID_MAX:  # what the word can hold
                state[2].aim(target)  # before the signal: the worker reads its target in its handler
                _signal(state[0], signal.SIGINT)
                # The signal is pending in the worker now: it takes it before it reads another frame
                # or runs on in user code, which is all a client (or the conformance suite) can wait for.
                if not self._write_control(conn, {"signalled": target}):
                    return  # a client that never reads them: it lost its worker
            elif op == "kill":
                _signal(state[0], signal.SIGKILL)
            else:  # a client that does not speak the control protocol loses its worker
                self._end_control(conn, kill=True)
                return
        if len(state[1]) > _PREAMBLE_MAX:
            self._end_control(conn, kill=True)

    def _write_control(self, conn, message):
        """Queues ``message`` on a control connection and writes what it can now; false if that ended the
        connection: past _CONTROL_UNREAD_MAX unread bytes the client loses its worker (an end event is
        queued whatever is unread, and the connection closes once it is written)."""
        outgoing = self._outgoing[conn]
        outgoing.data += json.dumps(message).encode("utf-8") + b"\n"
        if len(outgoing.data) > _CONTROL_UNREAD_MAX and not outgoing.ending:
            self._notices.note("unread", f"closed the control connection of worker {self._control_of[conn][0]} and"
                                         f" killed it: its client left {_CONTROL_UNREAD_MAX} bytes unread")
            self._end_control(conn, kill=True)
            return False
        return self._flush_control(conn)

    def _flush_control(self, conn):
        """Writes what waits on a control connection without blocking; the rest waits for the connection
        to be writable, and must be written by _CONTROL_WRITE_SECONDS after it was queued (_expire_pending).
        False if the connection ended (its end event written, or the client gone)."""
        outgoing = self._outgoing[conn]
        while outgoing.data or getattr(conn, "unsent", 0):  # a TLS channel may hold encrypted bytes of its own
            try:
                # An SSL write that wants a retry must get the same bytes: the chunk's start only moves once written.
                written = conn.send(bytes(outgoing.data[:_SEND_CHUNK]))
            except (BlockingIOError, InterruptedError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                break
            except OSError:  # the client is gone
                self._end_control(conn, kill=True)
                return False
            del outgoing.data[:written]
        if not outgoing.data and not getattr(conn, "unsent", 0):
            outgoing.due = None
            if outgoing.ending:
                self._end_control(conn, kill=False)
                return False
            self._selector.modify(conn, selectors.EVENT_READ, self._control_ready)
            return True
        if outgoing.due is None:
            outgoing.due = time.monotonic() + _CONTROL_WRITE_SECONDS
        events = selectors.EVENT_WRITE if outgoing.ending else selectors.EVENT_READ | selectors.EVENT_WRITE
        self._selector.modify(conn, events, self._control_ready)
        return True

    def _end_control(self, conn, kill):
        """Closes a control connection; ``kill``: and its worker, if it still runs (its client is gone)."""
        pid, _, _ = self._control_of.pop(conn)
        outgoing = self._outgoing.pop(conn, None)
        if self._controls.get(pid) is conn:
            del self._controls[pid]
        self._selector.unregister(conn)
        conn.close()
        reaped = outgoing is not None and outgoing.ending  # its pid may be a newer worker's already
        if kill and not reaped and pid in self._children:
            _signal(pid, signal.SIGKILL)

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
            self._children.discard(pid)
            if os.WIFSIGNALED(status):
                event = {"pid": pid, "signal": os.WTERMSIG(status)}
            else:
                event = {"pid": pid, "exit_code": os.WEXITSTATUS(status)}
            _emit(event)
            stderr_tail = self._end_output(pid)
            control = self._controls.pop(pid, None)
            if control is not None:
                # Its last line: written as the connection takes it, then the connection closes (REMOTE-4);
                # a client that does not take it loses it at its deadline, and costs the loop nothing.
                self._outgoing[control].ending = True
                self._write_control(control, end_event(event, stderr_tail))

    def _watch_output(self, pid, stderr_pipe):
        """REMOTE-11: the server reads a remote worker's stderr, logs it and keeps its last lines."""
        read_end, write_end = stderr_pipe
        os.close(write_end)  # the worker holds the only writer: its end (or its children's) is EOF here
        os.set_blocking(read_end, False)
        output = WorkerStderr(pid, read_end)
        self._outputs[pid] = output
        self._read_from(output)

    def _read_from(self, output):
        self._selector.register(output.fd, selectors.EVENT_READ, lambda _, output=output: self._read_output(output))

    def _read_output(self, output):
        try:
            data = os.read(output.fd, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        try:
            if data:
                output.take(data)
                if output.over_budget():  # its writes wait in its pipe until the second is over: the flood slows itself
                    self._selector.unregister(output.fd)
                    self._paused[output.pid] = output
                return
        except Exception:  # noqa: BLE001 - a worker's output must never end the server: stop reading it instead
            traceback.print_exc()
        # the worker closed its stderr (or ended): what it wrote is all here; its lines wait for its reaping
        self._selector.unregister(output.fd)  # first: an end at EOF must not stay readable forever
        try:
            output.ended()
        except Exception:  # noqa: BLE001
            traceback.print_exc()

    def _end_output(self, pid):
        """The last stderr lines of a reaped worker (empty if it was not remote), after reading what
        it left in its pipe; the pipe is closed."""
        output = self._outputs.pop(pid, None)
        if output is None:
            return []
        paused = self._paused.pop(pid, None) is not None
        if not output.at_end:
            read = 0
            while read < _STDERR_DRAIN_BYTES:
                try:
                    data = os.read(output.fd, 65536)
                except OSError:  # nothing more now (EAGAIN), or nothing more ever
                    break
                if not data:
                    break
                read += len(data)
                output.take(data)
            if not paused:
                self._selector.unregister(output.fd)
            output.ended()
        os.close(output.fd)
        return list(output.tail)

    def _resume_outputs(self):
        """Reads again the stderr of each paused worker whose second is over."""
        now = time.monotonic()
        for pid, output in list(self._paused.items()):
            if now >= output.resume_at():
                del self._paused[pid]
                self._read_from(output)

    def _expire_pending(self):
        now = time.monotonic()
        if now < self._next_expiry:
            return  # a busy loop looks at the deadlines ten times a second, not at every wake-up
        self._next_expiry = now + 0.1
        for conn, outgoing in list(self._outgoing.items()):
            if outgoing.due is not None and now > outgoing.due:
                pid = self._control_of[conn][0]
                self._notices.note("unread", f"closed the control connection of worker {pid}"
                                             f"{'' if outgoing.ending else ' and killed it'}: its client did not"
                                             f" read what was written on it within {_CONTROL_WRITE_SECONDS} s")
                self._end_control(conn, kill=True)
        for token, (conn, _, deadline) in list(self._forks.items()):
            if now > deadline:
                del self._forks[token]
                self._refuse(conn, "the second connection did not come in time")
        for conn, pending in list(self._pending.items()):
            if now > pending.deadline:
                self._notices.note("expired", f"closed a connection from {describe(pending.peer)} that was still"
                                              f" at {pending.stage} at its deadline")
                self._drop(conn)

    def _drop(self, conn):
        if conn in self._control_of:
            self._end_control(conn, kill=True)
            return
        try:
            self._selector.unregister(conn)
        except (KeyError, ValueError):
            pass  # not registered any more (its preamble was read)
        self._forget(conn)
        conn.close()

    def _forget(self, conn):
        """``conn`` is no longer pending: out of the index and its tier."""
        pending = self._pending.pop(conn, None)
        if pending is not None and pending.tier is not None:
            pending.tier.remove(conn)

    def _refuse(self, conn, reason, code=None):
        """Answers ``{"error": reason}`` (with a ``code`` a client acts on, REMOTE-3) and closes."""
        try:
            self._selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        self._forget(conn)
        try:
            conn.settimeout(1.0)
            _send_line(conn, {"error": reason, "code": code} if code else {"error": reason})
        except OSError:
            pass
        conn.close()


class _Outgoing:
    """What waits to be written on a control connection, since when it is due (None: nothing waits), and
    whether it ends with the worker's end event (the connection then closes once it is written)."""

    __slots__ = ("data", "due", "ending")

    def __init__(self):
        self.data = bytearray()
        self.due = None
        self.ending = False


def _close_pipe(pipe):
    if pipe is not None:
        for fd in pipe:
            try:
                os.close(fd)
            except OSError:
                pass


def _receive(conn, buffer):
    """``buffer`` with what the non-blocking ``conn`` has now (one read: the caller bounds the buffer);
    None once the peer has gone. A TLS connection's read is bounded (TlsChannel.receive): a flood of
    records without application data costs the loop a bounded amount of work per wake-up (REMOTE-12)."""
    try:
        chunk = conn.receive() if isinstance(conn, TlsChannel) else conn.recv(_PREAMBLE_MAX)
    except (BlockingIOError, InterruptedError):
        return buffer
    except OSError:  # ssl.SSLError too: garbage, a failed MAC
        chunk = b""
    return buffer + chunk if chunk else None


def _unread_bytes(conn):
    """How many bytes the kernel holds for ``conn`` (FIONREAD): the first record's length is checked
    without copying it at every dribbled byte."""
    try:
        return struct.unpack("i", fcntl.ioctl(conn.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
    except OSError:
        return _TLS_RECORD_MAX  # cannot tell: let the handshake start


def _set_low_water(conn, size):
    """Readable only once ``size`` bytes are in, or the peer is done (SO_RCVLOWAT: epoll and kqueue honour it)."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, size)
    except (OSError, AttributeError):
        pass  # then a partial record wakes the loop until its deadline


def _peer_done(conn):
    """Whether the peer of a socket woken below its low-water mark has shut its side: Linux says so
    (POLLRDHUP), and may also wake it early when short of memory; elsewhere only the end wakes it."""
    if not hasattr(select, "POLLRDHUP"):
        return True
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLRDHUP)
    return bool(poller.poll(0))


def _parse_line(line):
    """One preamble or control line as a JSON object, or None for anything else."""
    try:
        request = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return request if type(request) is dict else None


def _mac_matches(remote, nonce, mac):
    """REMOTE-2: HMAC-SHA256 keyed by the token over the context string, the nonce and the channel
    binding (this server's certificate digest), compared in constant time (the bytes of what the
    client sent, so no input can raise)."""
    expected = hmac.new(remote.token, _AUTH_CONTEXT + nonce + remote.binding, hashlib.sha256).hexdigest().encode("ascii")
    return hmac.compare_digest(expected, mac.encode("utf-8", "surrogatepass"))


def _signal(pid, signum):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass  # ended already: its reaping reports it


def _send_line(conn, message):
    conn.sendall(json.dumps(message).encode("utf-8") + b"\n")


def _same_user(conn):
    """Linux: only this user's processes may ask for a worker (the socket's mode says so too)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return True
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", creds)
    return uid == os.getuid()
