"""Operating remote worker servers: the health probe (PROTOCOL.md REMOTE-10) and the crash report a
remote worker's client gets with its end (REMOTE-11). Real servers on 127.0.0.1, real forked workers."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import unittest
from unittest import mock

from snakebridge_worker import worker_stderr
from test_forkserver_remote import ENV, RemoteServerFixture, line, request


def server_log(test):
    """The test's server's stderr up to its end (it is stopped here)."""
    test.server.stdin.close()
    test.server.wait(timeout=10)
    return test.server.stderr.read().decode("utf-8", "replace")


def probe(*args):
    return subprocess.run([sys.executable, "-m", "snakebridge_worker", "probe", *args], env=ENV, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


class ProbeTest(RemoteServerFixture, unittest.TestCase):
    def cert(self, name):
        return os.path.join(self.certs, name)

    def address(self):
        return f"127.0.0.1:{self.port}"

    def test_a_probe_without_a_token_is_answered_while_every_worker_is_taken_and_takes_none(self):
        client = self.start_server("--max-workers", "1")
        protocol, control, pid = client.worker()
        for _ in range(3):
            done = probe(self.address())
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertIn("healthy", done.stdout)
        protocol.close()
        self.assertEqual(line(control), {"pid": pid, "exit_code": 0})
        control.close()
        self.assert_still_serves(client)  # the probes left the one worker slot free
        self.assertEqual(server_log(self), "", "a probe is not a line in the server's log")

    def test_a_probe_with_the_token_and_the_ca_authenticates_and_a_wrong_token_fails_naming_token_file(self):
        self.start_server()
        done = probe(self.address(), "--tls-ca", self.cert("ca.pem"), "--token-file", self.token_file)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("authenticated", done.stdout)
        wrong = os.path.join(self.certs, "wrong-token")
        with open(wrong, "w") as f:
            f.write("not-the-token-0123456789abcdef\n")
        done = probe(self.address(), "--tls-ca", self.cert("ca.pem"), "--token-file", wrong)
        self.assertEqual(done.returncode, 1)
        self.assertIn("refused: authentication failed (code auth_failed) (--token-file must hold the server's token)",
                      done.stderr)

    def test_a_probe_of_a_port_where_nothing_listens_fails_with_status_1_naming_the_connect(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        done = probe(f"127.0.0.1:{closed}", "--timeout", "5")
        self.assertEqual(done.returncode, 1)
        self.assertIn(f"127.0.0.1:{closed}: connect failed", done.stderr)

    def test_a_server_that_accepts_and_never_answers_fails_the_probe_within_its_timeout_naming_the_step(self):
        with socket.socket() as silent:  # the kernel completes the connect; nobody ever reads or writes
            silent.bind(("127.0.0.1", 0))
            silent.listen(1)
            address = f"127.0.0.1:{silent.getsockname()[1]}"
            done = probe(address, "--timeout", "1")
            self.assertEqual(done.returncode, 1)
            self.assertIn(f"{address}: no answer within 1 s (TLS handshake)", done.stderr)
            done = probe(address, "--timeout", "1", "--plain")
            self.assertIn("no answer within 1 s (hello); if the server speaks TLS, --plain is wrong", done.stderr)

    def test_a_probe_that_trusts_another_ca_fails_naming_the_certificate(self):
        self.start_server()
        done = probe(self.address(), "--tls-ca", self.cert("other-ca.pem"))
        self.assertEqual(done.returncode, 1)
        self.assertIn("TLS handshake failed: the server's certificate is not trusted by --tls-ca", done.stderr)
        done = probe(self.address(), "--tls-ca", self.cert("ca.pem"), "--server-name", "elsewhere.example")
        self.assertEqual(done.returncode, 1)
        self.assertIn("does not name 'elsewhere.example'", done.stderr)

    def test_a_plain_probe_of_a_tls_server_is_told_to_drop_plain_and_a_plain_server_is_probed_with_plain(self):
        self.start_server()
        done = probe(self.address(), "--plain")
        self.assertEqual(done.returncode, 1)
        self.assertIn("(code tls_required) (the server speaks TLS: drop --plain)", done.stderr)
        self.stop_server()
        self.start_server("--insecure", tls=False)
        done = probe(self.address(), "--plain", "--token-file", self.token_file)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("authenticated", done.stdout)
        done = probe(self.address())
        self.assertEqual(done.returncode, 1)
        self.assertIn("probed with --plain", done.stderr)

    def test_a_mutual_tls_server_answers_a_probe_that_presents_a_client_certificate_only(self):
        self.start_server("--tls-client-ca", self.cert("ca.pem"))
        self.assertEqual(probe(self.address()).returncode, 1)
        done = probe(self.address(), "--tls-cert", self.cert("client.pem"), "--tls-key", self.cert("client.key"))
        self.assertEqual(done.returncode, 0, done.stderr)

    def test_bad_arguments_are_status_2_with_the_usage(self):
        for args in ([], ["127.0.0.1"], ["127.0.0.1:7171", "--timeout", "0"], ["127.0.0.1:7171", "--bogus"],
                     ["127.0.0.1:7171", "--token-file", self.token_file],
                     ["127.0.0.1:7171", "--plain", "--tls-ca", "x.pem"],
                     ["127.0.0.1:7171", "--tls-cert", "c.pem"]):
            done = probe(*args)
            self.assertEqual(done.returncode, 2, (args, done.stderr))
            self.assertTrue(done.stderr.startswith("snakebridge_worker probe: "), done.stderr)

    def test_every_option_the_deploy_files_give_the_server_or_the_probe_exists(self):
        """deploy/ starts servers and probes them: an option renamed here must not leave a recipe broken."""
        import re
        from snakebridge_worker import forkserver, probe as probe_module
        known = {"serve": set(re.findall(r"--[a-z-]+", forkserver._USAGE)),
                 "probe": set(re.findall(r"--[a-z-]+", probe_module._USAGE))}
        deploy = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "deploy")
        named = {"serve": set(), "probe": set()}
        for name in ("Dockerfile", "snakebridge-worker.service", "kubernetes.yaml"):
            with open(os.path.join(deploy, name), encoding="utf-8") as f:
                text = f.read().replace("\\\n", " ")  # shell continuation lines: one command
            for command in (line.strip() for line in text.splitlines() if not line.strip().startswith("#")):
                program = re.search(r"snakebridge_worker\W+(serve|probe)\b", command)
                if program or command.startswith(("args:", "CMD")):  # the image's extra arguments are serve's
                    arguments = command[program.end():] if program else command
                    named[program.group(1) if program else "serve"] |= set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", arguments))
        self.assertIn("--timeout", named["probe"], "the Kubernetes example's probe is read")
        self.assertIn("--max-workers", named["serve"], "the Kubernetes example's arguments are read")
        for program in named:
            self.assertEqual(named[program] - known[program], set(), f"options deploy/ gives {program} that it has not")


class CrashReportTest(RemoteServerFixture, unittest.TestCase):
    def run_code(self, protocol, code):
        """Sends a call of ``exec(code)`` and does not wait for its answer (the code ends the worker)."""
        request(protocol, "handshake", protocol_version=1, min_supported_version=1)
        payload = json.dumps({"id": 2, "op": "call", "session_id": "s", "function": "exec", "args": [code]}).encode()
        protocol.sendall(struct.pack(">I", len(payload)) + payload)

    def test_a_worker_killed_by_a_signal_reports_its_signal_and_its_last_stderr_lines_to_its_owner_only(self):
        client = self.start_server()
        protocol, control, pid = client.worker()
        other, other_control, other_pid = client.worker()
        self.run_code(protocol, "import ctypes, sys\nprint('printed before the crash')\nctypes.string_at(0)")
        end = line(control)
        self.assertEqual((end["pid"], end["signal"]), (pid, signal.SIGSEGV))
        self.assertIn("printed before the crash", end["stderr"], "stdout goes where stderr goes")
        self.assertIn("Fatal Python error: Segmentation fault", end["stderr"], "faulthandler's report")
        self.assertEqual(self.event(), {"pid": pid, "signal": signal.SIGSEGV}, "the owner's event stream gets no lines")
        request(other, "handshake", protocol_version=1, min_supported_version=1)
        other.close()
        self.assertEqual(line(other_control), {"pid": other_pid, "exit_code": 0}, "another client gets none of them")
        for sock in (protocol, control, other_control):
            sock.close()

    def test_a_worker_that_exits_reports_its_status_and_its_lines_escaped_capped_and_only_the_last_ones(self):
        from snakebridge_worker import forkserver
        client = self.start_server()
        protocol, control, pid = client.worker()
        self.run_code(protocol, "import os, sys\n"
                                "for i in range(400): sys.stderr.write(f'line {i}\\n')\n"
                                "sys.stderr.write('x' * 100000 + '\\n')\n"
                                "sys.stderr.write('bell\\x07 and \\x1b[2J clear\\r\\n')\n"
                                "sys.stderr.write('no newline at the end')\n"
                                "sys.stderr.flush()\n"
                                "os._exit(3)")
        raw = b""
        while not raw.endswith(b"\n"):
            raw += control.recv(65536)
        self.assertLessEqual(len(raw), worker_stderr.END_EVENT_MAX_BYTES)
        end = json.loads(raw)
        self.assertEqual(end["exit_code"], 3)
        lines = end["stderr"]
        self.assertEqual(len(lines), worker_stderr.STDERR_TAIL_LINES)
        self.assertEqual(lines[-1], "no newline at the end")
        self.assertEqual(lines[-2], "bell\\x07 and \\x1b[2J clear")
        self.assertEqual(lines[-3], "x" * 2048 + " ... [95904 chars cut] ... " + "x" * 2048)
        self.assertEqual(lines[0], "line 363")
        protocol.close()
        control.close()
        log = server_log(self)
        self.assertIn(f"[worker {pid}] line 0\n", log, "the operator's log has every line")
        self.assertIn(f"[worker {pid}] bell\\x07 and \\x1b[2J clear\n", log)

    def test_a_worker_whose_child_still_holds_its_stderr_is_reported_at_its_own_end(self):
        client = self.start_server()
        protocol, control, pid = client.worker()
        self.run_code(protocol, "import os, subprocess, sys\n"
                                "subprocess.Popen(['sleep', '5'])\n"  # inherits the pipe: no end of file for a while
                                "sys.stderr.write('leaving my child behind\\n')\n"
                                "sys.stderr.flush()\n"
                                "os._exit(5)")
        self.assertEqual(line(control), {"pid": pid, "exit_code": 5, "stderr": ["leaving my child behind"]})
        protocol.close()
        control.close()
        self.assert_still_serves(client)


class WorkerStderrTest(unittest.TestCase):
    def test_a_flood_past_the_log_budget_is_counted_not_logged_and_its_last_lines_are_kept_escaped(self):
        logged = []
        with mock.patch.object(worker_stderr, "_log", logged.append):
            output = worker_stderr.WorkerStderr(7, -1)
            output.take(b"".join(b"line %d\x01\n" % i for i in range(5000)) + b"unfinished")
            self.assertTrue(output.over_budget(), "the server stops reading it for the rest of the second")
            output.ended()
        budget = worker_stderr.STDERR_LOG_LINES_PER_SECOND
        self.assertEqual(logged[:budget], [f"[worker 7] line {i}\\x01" for i in range(budget)])
        self.assertEqual(logged[budget:], [f"[worker 7] suppressed {5001 - budget} lines of output"
                                           f" (more than {budget} lines a second)"])
        self.assertEqual(list(output.tail), [f"line {i}\\x01" for i in range(4961, 5000)] + ["unfinished"])

    def test_a_long_line_of_control_characters_keeps_the_escapes_that_fit_its_start_and_end(self):
        cap = worker_stderr.STDERR_LINE_CHARS
        kept = (cap // 2) // 4  # each \x01 is four characters escaped
        self.assertEqual(worker_stderr._capped_line("\x01" * 10000),
                         "\\x01" * kept + f" ... [{10000 - 2 * kept} chars cut] ... " + "\\x01" * kept)
        head = worker_stderr._capped_line("a\u202e" * 3000).split(" ... ")[0]
        self.assertEqual(head, "a\\u202e" * ((cap // 2) // 7) + "a", "an escape that does not fit is left out whole")


class CrashReportSpecTest(unittest.TestCase):
    def test_protocol_md_states_the_caps_the_server_keeps_a_remote_workers_stderr_to(self):
        from snakebridge_worker import forkserver
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "PROTOCOL.md"),
                  encoding="utf-8") as f:
            text = " ".join(f.read().split())
        cap = worker_stderr.STDERR_LINE_CHARS
        self.assertIn(f"a line longer than {cap} characters after escaping keeps its first {cap - cap // 2} and last"
                      f" {cap // 2} around ` ... [N chars cut] ... `", text)
        self.assertIn(f"at most {worker_stderr.STDERR_LOG_LINES_PER_SECOND} lines a second per worker", text)
        self.assertIn(f"keeps the worker's last {worker_stderr.STDERR_TAIL_LINES} lines", text)
        self.assertIn(f"That line is at most {worker_stderr.END_EVENT_MAX_BYTES} bytes", text)


if __name__ == "__main__":
    unittest.main()
