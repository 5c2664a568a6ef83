"""The worker server over TCP (PROTOCOL.md REMOTE-1..6): TLS, the token's challenge-response, the
control connection, --max-workers. Real server processes on 127.0.0.1 only, real forked workers, and
certificates made for each run with openssl (no private key is committed)."""
import hashlib
import hmac
import json
import os
import select
import selectors
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest

from worker_client import SOURCE_DIR
from snakebridge_worker import admission

TOKEN = "0123456789abcdef0123456789abcdef"
ENV = dict(os.environ, PYTHONPATH=SOURCE_DIR)


def make_certificates(directory):
    """A CA, a server certificate it signs for 127.0.0.1 and localhost, a client certificate it signs,
    and a second CA that signs nothing of ours."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    for ca in ("ca", "other-ca"):
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
            "-days", "2", "-subj", f"/CN=test {ca}")
    with open(os.path.join(directory, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", "san.ext")


def line(sock):
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise EOFError(f"connection closed after {data!r}")
        data += chunk
    return json.loads(data)


def send(sock, message):
    sock.sendall(json.dumps(message).encode() + b"\n")


class RemoteClient:
    """A client as the driver is one: TLS, hello, the challenge answered, then the two connections."""

    def __init__(self, port, certs, token=TOKEN, ca="ca.pem", client_cert=False):
        self.port, self.certs, self.token = port, certs, token
        self.context = ssl.create_default_context(cafile=os.path.join(certs, ca))
        if client_cert:
            self.context.load_cert_chain(os.path.join(certs, "client.pem"), os.path.join(certs, "client.key"))

    def connect(self, source="127.0.0.1"):
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10, source_address=(source, 0))
        return self.context.wrap_socket(raw, server_hostname="127.0.0.1")

    def challenged(self):
        """A connection that said hello, and the server's challenge."""
        sock = self.connect()
        send(sock, {"op": "hello"})
        return sock, line(sock)

    def authenticated(self):
        sock, challenge = self.challenged()
        return self.answer(sock, challenge)

    def answer(self, sock, challenge):
        binding = hashlib.sha256(sock.getpeercert(binary_form=True)).digest()  # REMOTE-2: the MAC is for this server
        mac = hmac.new(self.token.encode(), b"snakebridge-auth-v1\0" + bytes.fromhex(challenge["nonce"]) + binding,
                       hashlib.sha256)
        send(sock, {"op": "auth", "mac": mac.hexdigest()})
        answer = line(sock)
        if "error" in answer:
            raise PermissionError(answer)
        return sock

    def worker(self, **preamble):
        """(protocol connection, control connection, pid) of a new worker."""
        protocol = self.authenticated()
        send(protocol, {"op": "fork", "memory_limit_bytes": 0, **preamble})
        reply = line(protocol)
        if "error" in reply:
            protocol.close()
            raise ConnectionRefusedError(reply)
        control = self.authenticated()
        send(control, {"op": "control", "token": reply["token"]})
        pid = line(protocol)["pid"]
        self.assert_same(pid, line(control)["pid"])
        return protocol, control, pid

    @staticmethod
    def assert_same(a, b):
        if a != b:
            raise AssertionError(f"the worker says pid {a}, the server {b}")


def request(sock, op, request_id=1, **fields):
    payload = json.dumps({"id": request_id, "op": op, **fields}).encode()
    sock.sendall(struct.pack(">I", len(payload)) + payload)
    return read_frame(sock)


def read_frame(sock):
    (length,) = struct.unpack(">I", exactly(sock, 4))
    return json.loads(exactly(sock, length))


def exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("the worker closed its connection")
        data += chunk
    return data


class RemoteServerFixture:
    """A real server on 127.0.0.1 per test, with this run's certificates and token (other test files use it too)."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl is needed to make test certificates")
        cls.certs = tempfile.mkdtemp(prefix="sb-remote-certs-")
        make_certificates(cls.certs)
        cls.token_file = os.path.join(cls.certs, "token")
        with open(cls.token_file, "w") as f:
            f.write(TOKEN + "\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certs, ignore_errors=True)

    def start_server(self, *extra, tls=True, token=True, log=subprocess.PIPE):
        """``log``: where the server's stderr goes; a pipe (self.server_log once stopped) holds 64 KiB
        that nobody reads before then: a test whose workers write more gives a file."""
        args = [sys.executable, "-m", "snakebridge_worker", "serve", "--listen", "127.0.0.1:0"]
        if tls:
            args += ["--tls-cert", os.path.join(self.certs, "server.pem"), "--tls-key", os.path.join(self.certs, "server.key")]
        if token:
            args += ["--token-file", self.token_file]
        self.server = subprocess.Popen(args + list(extra), env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=log)
        self.addCleanup(self.stop_server)
        ready = json.loads(self.server.stdout.readline())
        self.assertTrue(ready["ready"], ready)
        self.port = int(ready["listen"].rsplit(":", 1)[1])
        return RemoteClient(self.port, self.certs)

    def stop_server(self):
        if self.server.poll() is None:
            self.server.stdin.close()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        if self.server.stderr is not None and not self.server.stderr.closed:
            self.server_log = self.server.stderr.read()
            self.server.stderr.close()
        self.server.stdout.close()

    def event(self):
        return json.loads(self.server.stdout.readline())

    def assert_still_serves(self, client):
        protocol, control, pid = client.worker()
        self.assertEqual(request(protocol, "handshake", protocol_version=1, min_supported_version=1)["result"]["pid"], pid)
        protocol.close()
        self.assertEqual(line(control), {"pid": pid, "exit_code": 0})
        control.close()


class RemoteServerCase(RemoteServerFixture, unittest.TestCase):
    """The fixture as a test case, for test classes that need nothing else."""


class RemoteServerTest(RemoteServerCase):
    def test_an_authenticated_tls_client_gets_a_forked_worker_whose_end_comes_on_its_control_connection(self):
        client = self.start_server()
        protocol, control, pid = client.worker()
        hello = request(protocol, "handshake", protocol_version=1, min_supported_version=1)["result"]
        self.assertEqual(hello["pid"], pid)
        self.assertEqual(request(protocol, "call", 2, session_id="s", function="len", args=[[1, 2, 3]])["result"], 3)
        protocol.close()  # end of input: the worker exits 0 (FRAME-5)
        self.assertEqual(line(control), {"pid": pid, "exit_code": 0})
        self.assertEqual(control.recv(1), b"", "the server closes the control connection after the end")
        control.close()

    def test_a_wrong_token_is_refused_as_auth_failed_before_any_op_and_the_server_keeps_serving(self):
        client = self.start_server()
        with self.assertRaises(PermissionError) as refused:
            RemoteClient(self.port, self.certs, token="not-the-token-0123456789").authenticated()
        self.assertEqual(refused.exception.args[0], {"error": "authentication failed", "code": "auth_failed"})
        sock = client.connect()  # asks for a worker without authenticating
        send(sock, {"op": "hello"})
        self.assertEqual(line(sock)["auth"], "hmac-sha256")
        send(sock, {"op": "fork", "memory_limit_bytes": 0})
        self.assertEqual(line(sock)["code"], "auth_failed")
        sock.close()
        self.assert_still_serves(client)

    def test_a_plain_client_of_a_tls_server_is_told_tls_is_required_in_plain_text(self):
        client = self.start_server()
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as plain:
            send(plain, {"op": "hello"})
            self.assertEqual(line(plain), {"error": "this server requires TLS; the client spoke plain text",
                                           "code": "tls_required"})
        self.assert_still_serves(client)

    def test_a_client_that_trusts_another_ca_refuses_the_server_and_the_server_keeps_serving(self):
        client = self.start_server()
        with self.assertRaises(ssl.SSLCertVerificationError):
            RemoteClient(self.port, self.certs, ca="other-ca.pem").connect()
        self.assert_still_serves(client)

    def test_garbage_before_or_inside_tls_and_slow_clients_never_stop_the_server(self):
        client = self.start_server()
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as junk:
            junk.sendall(b"\x16\x03\x01\x00\x05\x63\x00\x00\x01\x00")  # a TLS record holding no ClientHello
            answer = b"".join(iter(lambda: junk.recv(100), b""))
            self.assertEqual(answer[:1], b"\x15", "a TLS alert record, then the end")
        sock = client.connect()
        sock.sendall(b"\x00\x00\x00\x05hello\n")  # a frame instead of a hello line
        self.assertEqual(line(sock), {"error": "the preamble is one JSON object on one line"})
        sock.close()
        silent = [socket.create_connection(("127.0.0.1", self.port), timeout=10) for _ in range(20)]  # never speak
        self.assert_still_serves(client)
        for s in silent:
            s.close()

    def test_more_silent_connections_than_pending_slots_do_not_starve_a_client_that_completes_its_handshake(self):
        client = self.start_server()
        silent = [socket.create_connection(("127.0.0.1", self.port), timeout=10) for _ in range(admission.STAGE_SLOTS + 50)]
        try:
            self.assert_still_serves(client)
        finally:
            for s in silent:
                s.close()

    def test_a_client_that_has_its_challenge_keeps_its_slot_while_silent_connects_from_its_own_address_overflow(self):
        # Its connection is the oldest pending one: oldest-first eviction closed it, tiers keep it.
        client = self.start_server()
        sock, challenge = client.challenged()
        silent = [socket.create_connection(("127.0.0.1", self.port), timeout=10) for _ in range(2 * admission.STAGE_SLOTS)]
        try:
            self.assertEqual(silent[0].recv(1), b"", "the stalest silent connect made room for the others")
            self.assert_worker_after(client, client.answer(sock, challenge))
        finally:
            for s in silent:
                s.close()

    def test_a_flood_from_another_address_closes_its_own_connections_not_a_slower_clients(self):
        # The slow client's connection is the stalest in the authenticating tier; the flood's address holds
        # more than its share of that tier, so the flood's own stalest go first (REMOTE-12).
        client = self.start_server()
        sock, challenge = client.challenged()
        flood = []
        try:
            for _ in range(admission.STAGE_SLOTS + 20):  # TLS done, then silent: each waits for a hello that never comes
                flood.append(client.connect(source="127.0.0.2"))
            self.assertEqual(flood[0].recv(1), b"", "the flood's stalest connection made room")
            self.assert_worker_after(client, client.answer(sock, challenge))
        finally:
            for s in flood:
                s.close()

    def test_clients_that_dribble_a_byte_at_a_time_are_closed_at_their_deadline_while_others_are_served(self):
        client = self.start_server()
        hello_record = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        hello_record.sendall(b"\x16\x03\x01\x01\x00")  # a record header promising a 256-byte ClientHello
        hello_line = client.connect()  # TLS done; the hello line comes a byte at a time
        slow = [(hello_record, b"\x01" * 256), (hello_line, b'{"op": "hello"' + b" " * 300 + b"}\n")]
        self.assert_still_serves(client)
        for sock, dribble in slow:
            sent = 0
            closed = False
            while not closed and sent < len(dribble):  # bounded: a closed connection or the whole message
                try:
                    sock.send(dribble[sent:sent + 1])
                    sent += 1
                    if select.select([sock], [], [], 0.05)[0]:
                        sock.settimeout(0)  # readable may be a TLS 1.3 session ticket, not the end
                        closed = sock.recv(1) == b""
                        sock.settimeout(10)
                except (ssl.SSLWantReadError, BlockingIOError):
                    sock.settimeout(10)
                except (ConnectionError, ssl.SSLError, OSError):
                    closed = True
            self.assertTrue(closed, f"a client that dribbled {sent} bytes was never closed")
            self.assertLess(sent, len(dribble))
            sock.close()
        self.assert_still_serves(client)

    def test_a_key_update_flood_without_a_token_never_holds_the_server_and_is_closed_at_its_deadline(self):
        # REMOTE-12: OpenSSL answers every TLS 1.3 KeyUpdate inside the read that finds it; on a socket it
        # read on while they kept coming, and one unauthenticated client held the single-threaded server.
        client = self.start_server()
        bound = 3 * admission.PENDING_SECONDS  # the flooder gives up here: far past every deadline of its way in
        flooder = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "keyupdate_flood.py"),
                                    str(self.port), os.path.join(self.certs, "ca.pem"), str(bound)],
                                   stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: (flooder.kill(), flooder.wait(), flooder.stdout.close()))
        started = flooder.stdout.readline().strip()
        if started.startswith("unsupported"):
            self.skipTest(started)
        self.assertEqual(started, "flooding")
        served = 0
        while flooder.poll() is None and served < 3:  # bounded: three logins, all while the flood goes on
            client.authenticated().close()
            served += 1
        self.assertTrue(served, "the flood ended before another client could log in")
        result = json.loads(flooder.stdout.readline())
        self.assertTrue(result["closed"], f"the flooding connection was still open after {bound} s: {result}")
        self.assertGreater(result["updates"], 0, result)
        # Closed by its stage deadline, or sooner for leaving the server's KeyUpdate answers unread: either
        # way within the whole way in's deadline (a server inside one read held it until it gave up).
        self.assertLess(result["seconds"], admission.PENDING_SECONDS + 5, result)
        self.assert_still_serves(client)

    def test_a_flood_of_failed_tls_handshakes_costs_the_log_a_line_and_a_count_not_a_line_each(self):
        client = self.start_server()
        for _ in range(200):
            with socket.create_connection(("127.0.0.1", self.port), timeout=10) as junk:
                junk.sendall(b"\x16\x03\x01\x00\x05\x63\x00\x00\x01\x00")  # a whole record holding no ClientHello
                b"".join(iter(lambda: junk.recv(100), b""))  # its alert, then the end
        self.assert_still_serves(client)
        self.stop_server()  # the held-back count is written as the server ends
        lines = [text for text in self.server_log.decode().splitlines() if "TLS handshake" in text or "more like this" in text]
        self.assertLess(len(lines), 10, lines)
        reported = sum(int(text.split(": ", 1)[1].split(" ", 1)[0]) if "more like this" in text else 1 for text in lines)
        self.assertEqual(reported, 200, lines)

    def test_a_client_hello_that_arrives_in_pieces_still_completes_its_handshake(self):
        # The server waits for the whole first record before TLS starts (REMOTE-12): pieces must add up.
        client = self.start_server()
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = client.context.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
        with self.assertRaises(ssl.SSLWantReadError):
            tls.do_handshake()
        hello = outgoing.read()
        for piece in (hello[:1], hello[1:3], hello[3:5], hello[5:40]):  # the header split, the body split
            raw.sendall(piece)
            self.assertEqual(select.select([raw], [], [], 0.05)[0], [], "the server answered before the record was whole")
        raw.sendall(hello[40:])
        done = False
        while not done:  # bounded by the socket's timeout: the server answers or closes
            data = raw.recv(65536)
            self.assertNotEqual(data, b"", "the server closed the connection")
            incoming.write(data)
            try:
                tls.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                pass
            raw.sendall(outgoing.read())
        raw.sendall(outgoing.read())
        tls.write(b'{"op": "hello"}\n')
        raw.sendall(outgoing.read())
        answer = b""
        while not answer.endswith(b"\n"):
            incoming.write(raw.recv(65536))
            try:
                answer += tls.read(4096)
            except ssl.SSLWantReadError:
                pass
        self.assertEqual(json.loads(answer)["auth"], "hmac-sha256")
        raw.close()
        self.assert_still_serves(client)

    def test_garbage_after_authentication_is_refused_or_a_protocol_error_and_the_server_serves_on(self):
        client = self.start_server()
        sock = client.authenticated()
        sock.sendall(b"\xff\xfe not a preamble\n")
        self.assertEqual(line(sock), {"error": "the preamble is one JSON object on one line"})
        sock.close()
        protocol, control, pid = client.worker()
        protocol.sendall(struct.pack(">I", 0xFFFFFFFF))  # in the worker's frame stream: a length past any maximum
        error = read_frame(protocol)["error"]
        self.assertEqual(error["code"], "frame_too_large")
        self.assertEqual(line(control)["pid"], pid, "the worker ends after a protocol error (FRAME-3)")
        protocol.close()
        control.close()
        self.assert_still_serves(client)

    def test_a_tls_1_2_client_is_refused_and_the_server_serves_on(self):
        client = self.start_server()
        old = ssl.create_default_context(cafile=os.path.join(self.certs, "ca.pem"))
        old.maximum_version = ssl.TLSVersion.TLSv1_2
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        with self.assertRaises(ssl.SSLError):
            old.wrap_socket(raw, server_hostname="127.0.0.1")
        raw.close()
        self.assert_still_serves(client)

    def assert_worker_after(self, client, authenticated):
        """The client gets a worker on an authenticated connection it already has."""
        send(authenticated, {"op": "fork", "memory_limit_bytes": 0})
        token = line(authenticated)["token"]
        control = client.authenticated()
        send(control, {"op": "control", "token": token})
        pid = line(authenticated)["pid"]
        self.assertEqual(line(control)["pid"], pid)
        self.assertEqual(request(authenticated, "handshake", protocol_version=1, min_supported_version=1)["result"]["pid"], pid)
        authenticated.close()
        self.assertEqual(line(control), {"pid": pid, "exit_code": 0})
        control.close()

    def test_mutual_tls_refuses_a_client_without_a_certificate_signed_by_the_client_ca(self):
        self.start_server("--tls-client-ca", os.path.join(self.certs, "ca.pem"))
        with self.assertRaises((ssl.SSLError, ConnectionError, EOFError)):
            RemoteClient(self.port, self.certs).authenticated()  # TLS 1.3: the refusal arrives at the first read
        self.assert_still_serves(RemoteClient(self.port, self.certs, client_cert=True))

    def test_max_workers_refuses_past_its_limit_as_too_many_workers_and_admits_again_once_one_ended(self):
        client = self.start_server("--max-workers", "1")
        protocol, control, pid = client.worker()
        with self.assertRaises(ConnectionRefusedError) as refused:
            client.worker()
        self.assertEqual(refused.exception.args[0]["code"], "too_many_workers")
        protocol.close()
        self.assertEqual(line(control), {"pid": pid, "exit_code": 0})
        self.assert_still_serves(client)

    def test_a_cancel_on_the_control_connection_interrupts_the_running_call_and_the_worker_goes_on(self):
        client = self.start_server()
        protocol, control, pid = client.worker()
        request(protocol, "handshake", protocol_version=1, min_supported_version=1)
        marker = os.path.join(self.certs, f"running-{pid}")
        payload = json.dumps({"id": 3, "op": "call", "session_id": "s", "function": "exec", "args": [
            f"open({marker!r}, 'w').close()\nimport time\nwhile True: time.sleep(0.01)"]}).encode()
        protocol.sendall(struct.pack(">I", len(payload)) + payload)
        deadline = time.monotonic() + 10
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.01)
        send(control, {"op": "cancel", "request": 3})
        self.assertEqual(line(control), {"signalled": 3}, "the server says once the worker has the signal")
        self.assertEqual(read_frame(protocol)["error"]["code"], "cancelled")
        self.assertEqual(request(protocol, "call", 4, session_id="s", function="len", args=[[1, 2]])["result"], 2)
        send(control, {"op": "kill"})
        self.assertEqual(line(control), {"pid": pid, "signal": signal.SIGKILL})
        protocol.close()
        control.close()

    def test_a_client_that_never_reads_its_cancel_acknowledgements_loses_its_worker_and_the_server_serves_on(self):
        client = self.start_server()
        protocol, control, pid = client.worker()
        request(protocol, "handshake", protocol_version=1, min_supported_version=1)
        flood = (json.dumps({"op": "cancel", "request": 1}) + "\n").encode() * 10_000
        # REMOTE-4: each cancel is acknowledged; once the unread acknowledgements fill the connection, the
        # server gives up on this client (closes, kills its worker) rather than wait for it. A timeout here
        # would mean the server stopped reading without closing: not what is asserted.
        control.settimeout(60)  # a server a busy machine slows keeps reading, only slower
        with self.assertRaises((ConnectionError, ssl.SSLError)):
            for _ in range(100):  # a million cancels at most; about 200,000 fill loopback's buffers
                control.sendall(flood)
        self.assertEqual(json.loads(self.server.stdout.readline()), {"pid": pid, "signal": signal.SIGKILL})
        protocol.close()
        control.close()
        self.assert_still_serves(client)

    def test_a_cancel_naming_a_request_that_has_answered_is_dropped_and_the_running_call_goes_on(self):
        client = self.start_server()
        protocol, control, pid = client.worker()
        request(protocol, "handshake", protocol_version=1, min_supported_version=1)
        self.assertEqual(request(protocol, "call", 2, session_id="s", function="len", args=[[1]])["result"], 1)
        marker = os.path.join(self.certs, f"running-{pid}")
        # The call wraps the worker's SIGINT handler to see the signal arrive, and returns once it has:
        # a cancel aimed at request 2 (answered) must reach the worker and be dropped there (CANCEL-3).
        payload = json.dumps({"id": 3, "op": "call", "session_id": "s", "function": "exec", "args": [
            "def watch():\n"
            "    import signal, time\n"
            "    taken = []\n"
            "    handler = signal.getsignal(signal.SIGINT)\n"
            "    signal.signal(signal.SIGINT, lambda signum, frame: (taken.append(signum), handler(signum, frame)))\n"
            f"    open({marker!r}, 'w').close()\n"
            "    deadline = time.monotonic() + 10\n"
            "    while not taken and time.monotonic() < deadline: time.sleep(0.01)\n"
            "    signal.signal(signal.SIGINT, handler)\n"
            "    assert taken, 'no SIGINT came'\n"
            "watch()\n"]}).encode()
        protocol.sendall(struct.pack(">I", len(payload)) + payload)
        deadline = time.monotonic() + 10
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.01)
        send(control, {"op": "cancel", "request": 2})
        self.assertEqual(line(control), {"signalled": 2})
        answer = read_frame(protocol)
        self.assertNotIn("error", answer, "a cancel for an answered request interrupted the next one")
        send(control, {"op": "kill"})
        self.assertEqual(line(control), {"pid": pid, "signal": signal.SIGKILL})
        protocol.close()
        control.close()

    def test_a_cancel_without_an_integer_request_id_ends_the_control_connection_and_its_worker(self):
        client = self.start_server()
        protocol, control, pid = client.worker()
        send(control, {"op": "cancel"})
        self.assertEqual(self.event(), {"pid": pid, "signal": signal.SIGKILL})
        protocol.close()
        control.close()

    def test_a_cancel_whose_request_id_no_cancel_word_can_hold_is_a_bad_line_that_ends_its_worker(self):
        client = self.start_server()
        protocol, control, pid = client.worker()
        send(control, {"op": "cancel", "request": 10 ** 40})  # past a signed 64-bit id (CANCEL-2's word)
        self.assertEqual(self.event(), {"pid": pid, "signal": signal.SIGKILL})
        self.assertEqual(control.recv(1), b"", "no acknowledgement: the connection ends")
        protocol.close()
        control.close()
        self.assert_still_serves(client)
        self.stop_server()
        self.assertNotIn(b"Traceback", self.server_log)

    def test_clients_that_never_read_their_end_events_do_not_keep_another_client_from_logging_in(self):
        log = tempfile.TemporaryFile()
        self.addCleanup(log.close)
        client = self.start_server(log=log)
        workers = []
        for _ in range(8):
            protocol = client.authenticated()
            send(protocol, {"op": "fork", "memory_limit_bytes": 0})
            token = line(protocol)["token"]
            raw = socket.socket()
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)  # a small window the server can fill
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            raw.settimeout(10)
            raw.connect(("127.0.0.1", self.port))
            control = client.context.wrap_socket(raw, server_hostname="127.0.0.1")
            send(control, {"op": "hello"})
            client.answer(control, line(control))
            send(control, {"op": "control", "token": token})
            pid = line(protocol)["pid"]
            self.assertEqual(line(control), {"pid": pid})
            request(protocol, "handshake", protocol_version=1, min_supported_version=1)
            code = "import sys\nfor i in range(40): sys.stderr.write('y' * 4000 + '\\n')\nsys.stderr.flush()"
            self.assertNotIn("error", request(protocol, "call", 2, session_id="s", function="exec", args=[code]))
            workers.append((protocol, control, pid))
        for protocol, _, _ in workers:
            protocol.close()  # each worker ends; its end event (about 64 KiB) is more than its control window
        self.assertEqual(sorted(self.event()["pid"] for _ in workers), sorted(pid for _, _, pid in workers))
        # Every end event is being written now; none of their clients reads. Another client is served at once
        # (a loop that waited on each of them, as it did, would let this socket's timeout pass).
        other = client.connect()
        other.settimeout(3)
        send(other, {"op": "hello"})
        client.answer(other, line(other))
        other.close()
        self.assert_still_serves(client)
        for _, control, pid in workers:  # and each one's end event is whole once its client reads it
            raw = b""
            while not raw.endswith(b"\n"):
                chunk = control.recv(65536)
                self.assertTrue(chunk, f"the end event of {pid} was cut")
                raw += chunk
            end = json.loads(raw)
            self.assertEqual((end["pid"], end["exit_code"]), (pid, 0))
            self.assertEqual(end["stderr"], ["y" * 4000] * len(end["stderr"]))
            self.assertGreater(len(end["stderr"]), 10, "as many of its 40 lines as 64 KiB holds")
            self.assertEqual(control.recv(1), b"", "the connection closes after its end event")
            control.close()

    def test_a_worker_flooding_its_stderr_is_not_read_past_its_log_budget_and_another_client_is_served(self):
        log = tempfile.TemporaryFile()
        self.addCleanup(log.close)
        client = self.start_server(log=log)
        protocol, control, pid = client.worker()
        request(protocol, "handshake", protocol_version=1, min_supported_version=1)
        flood = ("import builtins, os, threading, time\n"
                 "builtins.flooded = 0\n"
                 "def flood():\n"
                 "    import builtins, os, time\n"
                 "    start = time.monotonic()\n"
                 "    while time.monotonic() - start < 2:\n"
                 "        builtins.flooded += os.write(2, b'x\\n' * 30000)\n"
                 "builtins.flooder = threading.Thread(target=flood)\n"
                 "builtins.flooder.start()\n")
        self.assertNotIn("error", request(protocol, "call", 2, session_id="s", function="exec", args=[flood]))
        self.assert_still_serves(client)  # a login, a fork and a handshake while it floods
        self.assertNotIn("error", request(protocol, "call", 3, session_id="s", function="exec",
                                          args=["import builtins\nbuiltins.flooder.join()"]))
        flooded = request(protocol, "call", 4, session_id="s", function="eval", args=["__import__('builtins').flooded"])
        # REMOTE-11: past its 500 lines in a second its pipe is not read until the second is over, so its writes
        # wait: about a pipe's worth (64 KiB) a second gets through, where a pipe read as fast as it fills takes
        # many megabytes in 2 s.
        self.assertLess(flooded["result"], 1 << 20, "the flood was read as fast as it was written")
        protocol.close()
        self.assertEqual(line(control)["exit_code"], 0)
        control.close()
        self.stop_server()
        log.seek(0)
        self.assertIn(f"[worker {pid}] suppressed ".encode(), log.read(), "the lines past the budget are counted")

    def test_a_remote_client_cannot_name_a_cancel_word_file(self):
        client = self.start_server()
        with self.assertRaises(ConnectionRefusedError) as refused:
            client.worker(cancel_word="/tmp/some-file-of-the-server")
        self.assertIn("only a local client", refused.exception.args[0]["error"])
        self.assert_still_serves(client)

    def test_a_closed_control_connection_kills_its_worker(self):
        client = self.start_server()
        protocol, control, pid = client.worker()
        control.close()
        self.assertEqual(self.event(), {"pid": pid, "signal": signal.SIGKILL})
        self.assertEqual(protocol.recv(1), b"", "the worker's connection ends with it")
        protocol.close()

    def test_a_non_loopback_address_without_tls_and_a_token_is_a_start_error_naming_insecure(self):
        for extra in ([], ["--token-file", self.token_file]):
            done = subprocess.run([sys.executable, "-m", "snakebridge_worker", "serve", "--listen", "0.0.0.0:0", *extra],
                                  env=ENV, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
            self.assertEqual(done.returncode, 2)
            self.assertIn("not a loopback address, without TLS", done.stderr)
            self.assertIn("--insecure", done.stderr)

    def test_a_short_token_is_a_start_error(self):
        short = os.path.join(self.certs, "short")
        with open(short, "w") as f:
            f.write("abc\n")
        done = subprocess.run([sys.executable, "-m", "snakebridge_worker", "serve", "--listen", "127.0.0.1:0",
                               "--token-file", short], env=ENV, capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 2)
        self.assertIn("shorter than 16 characters", done.stderr)

    def test_an_insecure_loopback_server_with_a_token_challenges_over_plain_tcp(self):
        self.start_server(tls=False)
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        send(raw, {"op": "hello"})
        self.assertEqual(line(raw)["auth"], "hmac-sha256")
        raw.close()


    def test_a_mac_bound_to_another_certificate_is_refused_so_a_relayed_challenge_is_of_no_use(self):
        # A server the client wrongly trusts could pass this server's nonce on and send back the
        # client's answer: that answer is bound to the certificate the client saw, not this one's.
        client = self.start_server()
        sock = client.connect()
        send(sock, {"op": "hello"})
        nonce = bytes.fromhex(line(sock)["nonce"])
        with open(os.path.join(self.certs, "ca.pem"), encoding="ascii") as f:
            other = hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).digest()  # a certificate not this server's
        mac = hmac.new(client.token.encode(), b"snakebridge-auth-v1\0" + nonce + other, hashlib.sha256)
        send(sock, {"op": "auth", "mac": mac.hexdigest()})
        self.assertEqual(line(sock).get("code"), "auth_failed")
        sock.close()
        self.assert_still_serves(client)

    def test_a_loopback_listener_without_a_token_is_a_start_error_unless_insecure(self):
        done = subprocess.run([sys.executable, "-m", "snakebridge_worker", "serve", "--listen", "127.0.0.1:0"],
                              env=ENV, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(done.returncode, 2)
        self.assertIn("every user of this machine could reach it", done.stderr)
        self.start_server("--insecure", tls=False, token=False)
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        send(raw, {"op": "hello"})
        self.assertEqual(line(raw), {"auth": "none"})
        raw.close()

    def test_a_forked_remote_worker_holds_neither_the_token_nor_another_workers_cancel_word(self):
        client = self.start_server()
        first, first_control, first_pid = client.worker()
        protocol, control, pid = client.worker()
        request(protocol, "handshake", protocol_version=1, min_supported_version=1)
        found = request(protocol, "call", 2, session_id="s", function="exec", args=[
            "def look():\n"
            "    import gc\n"
            "    from snakebridge_worker import forkserver\n"
            "    servers = [o for o in gc.get_objects() if isinstance(o, forkserver.ForkServer)]\n"
            "    assert servers, 'no server object'\n"
            "    assert all(s._remote.token is None for s in servers), 'the token is reachable'\n"
            "    assert all(not s._control_of for s in servers), 'other workers are reachable'\n"
            "    assert all(not s._outputs for s in servers), 'the stderr of other workers is reachable'\n"
            "look()\n"])
        self.assertTrue(found["ok"], found)
        for sock in (first, first_control, protocol, control):
            sock.close()

class PendingPolicyTest(unittest.TestCase):
    """The server's choices for pending connections (REMOTE-12), without sockets: any hashable stands for one."""

    def tier(self, *peers):
        tier = admission.Tier("t", slots=len(peers))
        for i, peer in enumerate(peers):
            tier.add(f"conn{i}", admission.Pending(peer, now=0))
        return tier

    def test_a_full_tier_gives_up_its_stalest_connection_when_no_peer_holds_more_than_its_share(self):
        tier = self.tier("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8")
        self.assertEqual(tier.victim(), "conn0")

    def test_a_peer_holding_more_than_its_share_gives_up_its_own_stalest_connection_first(self):
        tier = self.tier("10.0.0.1", "10.0.0.2", "10.0.0.2", "10.0.0.2", "10.0.0.3", "10.0.0.2", "10.0.0.2", "10.0.0.2")
        self.assertEqual(tier.victim(), "conn1", "10.0.0.2 holds 6 of 8 slots; 10.0.0.1's older connection stays")
        tier.remove("conn1")
        tier.remove("conn2")
        tier.remove("conn3")
        tier.remove("conn5")
        self.assertEqual(tier.victim(), "conn0", "at 2 of 8 slots (its share) 10.0.0.2 is one peer among others")

    def test_a_connection_that_moves_on_goes_to_the_end_of_its_tier(self):
        tier = self.tier("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4")
        tier.add("conn0", tier.remove("conn0"))  # it made progress: no longer the stalest
        self.assertEqual(tier.victim(), "conn1")

    def test_peers_are_ipv4_addresses_and_ipv6_64_prefixes(self):
        from snakebridge_worker.admission import peer_of
        self.assertEqual(peer_of(("192.0.2.7", 40000)), "192.0.2.7")
        self.assertEqual(peer_of(("::ffff:192.0.2.7", 40000, 0, 0)), "192.0.2.7")
        self.assertEqual(peer_of(("2001:db8:1:2:aaaa::1", 40000, 0, 0)), "2001:db8:1:2::/64")
        self.assertEqual(peer_of(("2001:db8:1:2:bbbb::9", 40001, 0, 0)), "2001:db8:1:2::/64")
        self.assertEqual(peer_of(("fe80::1%eth0", 40000, 0, 2)), "fe80::/64")
        self.assertIsNone(peer_of(""), "a unix: client has no address")

    def test_client_failures_are_logged_once_then_counted_once_per_window(self):
        lines, now = [], [100.0]
        notices = admission.Notices(write=lines.append, clock=lambda: now[0])
        for i in range(500):
            notices.note("tls", f"TLS handshake with 10.0.0.{i % 250} failed")
            notices.flush()
        self.assertEqual(lines, ["TLS handshake with 10.0.0.0 failed"])
        now[0] += admission.NOTICE_SECONDS
        notices.flush()
        self.assertEqual(lines[1], f"499 more like this in the last {admission.NOTICE_SECONDS} s;"
                                   " the last: TLS handshake with 10.0.0.249 failed")
        notices.note("tls", "TLS handshake with 10.0.0.1 failed")
        now[0] += admission.NOTICE_SECONDS
        notices.flush()
        self.assertEqual(len(lines), 3, "one line for the next window's one failure")
        now[0] += admission.NOTICE_SECONDS
        notices.flush()
        self.assertEqual(len(lines), 3, "a quiet window writes nothing")
        notices.note("tls", "TLS handshake with 10.0.0.2 failed")
        self.assertEqual(lines[-1], "TLS handshake with 10.0.0.2 failed", "after a quiet window a failure is logged at once")

    def test_the_server_speaks_tls_1_3_only_and_never_renegotiates(self):
        from snakebridge_worker import forkserver
        context = forkserver._server_context()
        self.assertEqual(context.minimum_version, ssl.TLSVersion.TLSv1_3)
        self.assertTrue(context.options & ssl.OP_NO_RENEGOTIATION)


class DispatchTest(unittest.TestCase):
    """The server loop's handling of one select's batch, without a running server."""

    def test_a_key_an_earlier_handler_of_the_same_batch_unregistered_is_not_run(self):
        # Found by HostileClientTest: reaping a worker (the wake-up fd's handler) closes its stderr
        # pipe, whose EOF was in the same batch; reading it then ended the server (its fd could even
        # belong to a newer connection by then).
        from snakebridge_worker import forkserver
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server = forkserver.ForkServer(listener)
        first, second = os.pipe(), os.pipe()
        calls = []
        try:
            for pipe in (first, second):
                os.write(pipe[1], b"x")
            server._selector.register(first[0], selectors.EVENT_READ,
                                      lambda fd: (calls.append("first"), server._selector.unregister(second[0])))
            server._selector.register(second[0], selectors.EVENT_READ, lambda fd: calls.append("second"))
            ready = sorted(server._selector.select(timeout=1.0), key=lambda event: event[0].fileobj != first[0])
            self.assertEqual(len(ready), 2, "both pipes are ready in one batch")
            server._dispatch(ready)
            self.assertEqual(calls, ["first"])
        finally:
            for fd in (*first, *second):
                os.close(fd)
            server._selector.close()
            listener.close()


class RemoteSpecTest(unittest.TestCase):
    def test_protocol_md_states_the_token_minimum_the_deadlines_the_slots_and_the_mac_context_the_server_uses(self):
        from snakebridge_worker import forkserver
        with open(os.path.join(SOURCE_DIR, "..", "..", "..", "..", "PROTOCOL.md"), encoding="utf-8") as f:
            text = " ".join(f.read().split())
        self.assertIn(f"A token shorter than {forkserver._TOKEN_MIN_CHARS} characters is a start error", text)
        self.assertIn(f"MUST close a connection that has not sent its preamble within {admission.PENDING_SECONDS} s", text)
        self.assertIn(f"keeps four tiers of {admission.STAGE_SLOTS} slots each", text)
        self.assertEqual(admission.PEER_SHARE, 4)
        self.assertIn("the stalest of the address holding more than a quarter of the tier's slots", text)
        self.assertIn(f"are due within {admission.FIRST_BYTES_SECONDS} s of its accept, each later step before"
                      f" authentication within {admission.STAGE_SECONDS} s", text)
        self.assertIn(f"at most once per kind every {admission.NOTICE_SECONDS} s", text)
        from snakebridge_worker import tls_channel
        self.assertIn(f"hands TLS at most {tls_channel._PULL_BYTES // 1024} KiB of a connection's bytes per turn", text)
        context = forkserver._AUTH_CONTEXT
        self.assertTrue(context.endswith(b"\0"))
        self.assertIn(f"the ASCII bytes `{context[:-1].decode()}`, a zero byte, the nonce's bytes and the **channel binding**", text)

    def test_protocol_md_states_what_a_control_connection_may_leave_unread_and_for_how_long(self):
        from snakebridge_worker import cancel, forkserver
        with open(os.path.join(SOURCE_DIR, "..", "..", "..", "..", "PROTOCOL.md"), encoding="utf-8") as f:
            text = " ".join(f.read().split())
        self.assertIn(f"A client that leaves more than {forkserver._CONTROL_UNREAD_MAX} bytes of it unread", text)
        self.assertIn(f"what it does not take within {forkserver._CONTROL_WRITE_SECONDS} s of its writing", text)
        self.assertEqual((cancel.ID_MIN, cancel.ID_MAX), (-(2 ** 63), 2 ** 63 - 1))
        self.assertIn("a cancel whose `id` is not a signed 64-bit integer too", text)

    def test_readme_states_the_slots_deadlines_and_log_window_the_server_uses(self):
        with open(os.path.join(SOURCE_DIR, "..", "..", "..", "..", "README.md"), encoding="utf-8") as f:
            text = " ".join(f.read().split())
        self.assertIn(f"authenticating, authenticated; {admission.STAGE_SLOTS} slots each)", text)
        self.assertIn(f"first bytes are due within {admission.FIRST_BYTES_SECONDS} s and each later step within"
                      f" {admission.STAGE_SECONDS} s", text)
        self.assertIn(f"logged at most once per kind every {admission.NOTICE_SECONDS} s", text)
        self.assertIn("more than a quarter of the tier", text)
        self.assertIn(f"Connections that have not yet authenticated have their own {admission.PENDING_SECONDS} s deadline", text)


if __name__ == "__main__":
    unittest.main()
