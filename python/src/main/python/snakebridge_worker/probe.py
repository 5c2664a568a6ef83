"""A health probe for a remote worker server (PROTOCOL.md REMOTE-10), for container health checks:
``python3 -m snakebridge_worker probe HOST:PORT [--tls-ca FILE [--server-name NAME]]
[--tls-cert FILE --tls-key FILE] [--token-file FILE] [--plain] [--timeout SECONDS]``.

It connects, does TLS (unless ``--plain``), says hello and reads the server's answer; with
``--token-file`` it also answers the challenge and waits to be told it is authenticated. Then it
leaves: it never asks for a worker, so it never takes one of ``--max-workers``. Exit status 0 when
the server answered as a worker server does, 1 with one line on stderr saying why not, 2 for a bad
argument.

Without ``--tls-ca`` the server's certificate is not checked: such a probe sends no secret and
learns only that the server is up, which is what a liveness or readiness check on the server's own
machine needs. A probe that authenticates (``--token-file``) over TLS must check it, as the driver
does, so that it answers only the server it means."""
import hashlib
import hmac
import json
import socket
import ssl
import sys
import time

from .forkserver import _AUTH_CONTEXT, _PREAMBLE_MAX, _read_token, ServerStartError

_USAGE = ("usage: probe HOST:PORT [--tls-ca FILE [--server-name NAME]] [--tls-cert FILE --tls-key FILE]"
          " [--token-file FILE] [--plain] [--timeout SECONDS]")
_DEFAULT_TIMEOUT_SECONDS = 5.0


class ProbeFailed(Exception):
    """The server is not healthy, or not reachable: the message says which step failed."""


class _Options:
    def __init__(self):
        self.address = None
        self.tls_ca = self.server_name = self.tls_cert = self.tls_key = self.token_file = None
        self.plain = False
        self.timeout = _DEFAULT_TIMEOUT_SECONDS


def main(argv):
    """Probes the server ``argv`` names; returns the exit status (0 healthy, 1 not, 2 bad argument)."""
    try:
        options = _parse_args(argv)
        context = _tls_context(options)
        token = _read_token(options.token_file) if options.token_file else None
    except ServerStartError as exc:
        sys.stderr.write(f"snakebridge_worker probe: {exc}\n")
        return 2
    try:
        answer = probe(options, context, token)
    except ProbeFailed as exc:
        sys.stderr.write(f"snakebridge_worker probe: {options.address}: {exc}\n")
        return 1
    sys.stdout.write(f"snakebridge_worker probe: {options.address}: {answer}\n")
    return 0


def _parse_args(argv):
    options = _Options()
    valued = {"--tls-ca": "tls_ca", "--server-name": "server_name", "--tls-cert": "tls_cert",
              "--tls-key": "tls_key", "--token-file": "token_file", "--timeout": "timeout"}
    args = iter(argv)
    for arg in args:
        if arg in valued:
            value = next(args, None)
            if not value:
                raise ServerStartError(f"{arg} needs a value; {_USAGE}")
            setattr(options, valued[arg], value)
        elif arg == "--plain":
            options.plain = True
        elif not arg.startswith("--") and options.address is None:
            options.address = arg
        else:
            raise ServerStartError(f"unknown argument {arg!r}; {_USAGE}")
    if options.address is None:
        raise ServerStartError(f"which server? {_USAGE}")
    options.host, options.port = _host_and_port(options.address)
    try:
        options.timeout = float(options.timeout)
    except ValueError:
        options.timeout = -1.0
    if not options.timeout > 0:
        raise ServerStartError(f"--timeout takes a positive number of seconds, got {options.timeout!r}")
    if options.plain and (options.tls_ca or options.tls_cert or options.tls_key or options.server_name):
        raise ServerStartError("--plain (a server started --insecure without TLS) takes no TLS option")
    if bool(options.tls_cert) != bool(options.tls_key):
        raise ServerStartError("--tls-cert and --tls-key go together (a client certificate and its key)")
    if options.server_name and not options.tls_ca:
        raise ServerStartError("--server-name is the name checked in the certificate: it needs --tls-ca")
    if options.token_file and not options.plain and not options.tls_ca:
        raise ServerStartError("--token-file over TLS needs --tls-ca: a probe that authenticates checks whom it answers")
    return options


def _host_and_port(address):
    host, _, port = address.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ServerStartError(f"expected HOST:PORT ([v6]:PORT), got {address!r}")
    return host, int(port)


def _tls_context(options):
    if options.plain:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3  # as every client of a server (REMOTE-1, REMOTE-5)
    try:
        if options.tls_ca:
            context.load_verify_locations(cafile=options.tls_ca)
        else:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if options.tls_cert:
            context.load_cert_chain(options.tls_cert, options.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ServerStartError(f"cannot load the CA, certificate or key: {exc}") from None
    return context


def probe(options, context, token):
    """Hello (and authentication, with a token) against the server; what it answered, in words.

    :raises ProbeFailed: naming the step that failed
    """
    deadline = time.monotonic() + options.timeout
    step = "connect"
    try:
        with socket.create_connection((options.host, options.port), timeout=options.timeout) as raw:
            step = "TLS handshake" if context is not None else "hello"
            sock = context.wrap_socket(raw, server_hostname=options.server_name or options.host) if context else raw
            step = "hello (and authentication)" if token is not None else "hello"
            with sock:
                return _converse(sock, context, token, deadline)
    except ProbeFailed:
        raise
    except ssl.SSLCertVerificationError as exc:
        raise ProbeFailed(f"TLS handshake failed: the server's certificate is not trusted by --tls-ca or does not"
                          f" name {options.server_name or options.host!r} ({exc.verify_message})") from None
    except (socket.timeout, TimeoutError):
        hint = "; if the server speaks TLS, --plain is wrong" if context is None else ""
        raise ProbeFailed(f"no answer within {options.timeout:g} s ({step}){hint}") from None
    except (ssl.SSLError, OSError, ValueError) as exc:
        hint = " (a server started --insecure without TLS is probed with --plain)" if step == "TLS handshake" else ""
        raise ProbeFailed(f"{step} failed: {exc}{hint}") from None


def _converse(sock, context, token, deadline):
    """REMOTE-2's hello, and its authentication when the probe has a token; then nothing more."""
    challenge = _exchange(sock, {"op": "hello"}, deadline)
    scheme = challenge.get("auth")
    if scheme not in ("none", "hmac-sha256"):
        raise ProbeFailed(f"not a worker server's answer to hello: {_shown(challenge)}")
    if token is None:
        return f"healthy (hello answered, authentication {scheme}; no worker asked for)"
    if scheme == "none":
        return "healthy (hello answered; the server asks for no token)"
    nonce = challenge.get("nonce")
    try:
        nonce = bytes.fromhex(nonce)
    except (TypeError, ValueError):
        raise ProbeFailed(f"not a worker server's challenge: {_shown(challenge)}") from None
    binding = hashlib.sha256(sock.getpeercert(binary_form=True)).digest() if context is not None else b""
    mac = hmac.new(token, _AUTH_CONTEXT + nonce + binding, hashlib.sha256).hexdigest()
    answer = _exchange(sock, {"op": "auth", "mac": mac}, deadline)
    if answer.get("authenticated") is not True:
        raise ProbeFailed(f"not a worker server's answer to auth: {_shown(answer)}")
    return "healthy (hello answered, authenticated; no worker asked for)"


def _exchange(sock, message, deadline):
    sock.sendall(json.dumps(message).encode("utf-8") + b"\n")
    line = b""
    while not line.endswith(b"\n"):
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        chunk = sock.recv(1)
        if not chunk:
            raise ProbeFailed(f"the server closed the connection after {_shown(line)}")
        line += chunk
        if len(line) > _PREAMBLE_MAX:
            raise ProbeFailed("the server's answer is too long for a worker server's")
    try:
        answer = json.loads(line)
    except ValueError:
        answer = None
    if type(answer) is not dict:
        raise ProbeFailed(f"not a worker server's answer: {_shown(line)}")
    if "error" in answer:
        hint = {"auth_failed": " (--token-file must hold the server's token)",
                "tls_required": " (the server speaks TLS: drop --plain)"}.get(answer.get("code"), "")
        raise ProbeFailed(f"refused: {answer.get('error')} (code {answer.get('code')}){hint}")
    return answer


def _shown(value):
    """A peer's bytes or answer in a message: short, and with no control characters."""
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else json.dumps(value)
    return repr(text[:200])
