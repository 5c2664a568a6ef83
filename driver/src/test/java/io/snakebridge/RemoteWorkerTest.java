package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote workers (PROTOCOL.md REMOTE-1..5, 10..12, README "Remote workers"): real worker servers on 127.0.0.1
 * over TLS with a token, real forked workers, the driver connecting by host.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RemoteWorkerTest {
    @TempDir
    static Path dir;
    static RemoteServer.Certificates certs;
    static RemoteServer server;

    @BeforeAll
    static void startServer() throws Exception {
        certs = RemoteServer.Certificates.make(dir);
        server = RemoteServer.tls(certs);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    private static BridgeConfig.Builder remote(String... hosts) {
        return BridgeConfig.builder().hosts(hosts).sslRootCert(certs.ca()).tokenFile(certs.token());
    }

    @Test
    void aWorkerOfARemoteServerOverTlsAnswersCallsAndEndsCleanlyAtClose() throws Exception {
        long pid;
        try (WorkerConnection py = Workers.connect(remote(server.host()))) {
            assertThat(py.call("math.sqrt", 16.0).asDouble()).isEqualTo(4.0);
            pid = py.call("os.getpid").asLong();
            assertThat(py.call("os.getppid").asLong()).as("forked by the remote server").isEqualTo(server.pid);
            assertThat(py).hasToString("BridgeConnection[worker " + pid + " on " + server.host() + ", session " + py.sessionId() + "]");
        }
        assertThat(server.endOf(pid)).as("end of input over TLS: exit 0 (FRAME-5)")
                .hasToString("{\"pid\":" + pid + ",\"exit_code\":0}");
    }

    @Test
    void aWrongTokenIsRefusedAs28000BeforeAnyOpAndTheServerKeepsServing() {
        assertThatThrownBy(() -> Workers.connect(remote(server.host()).tokenFile(certs.wrongToken())))
                .isInstanceOfSatisfying(WorkerStartException.class, e -> assertThat(e.sqlState()).isEqualTo("28000"))
                .hasMessageContaining("refused: authentication failed (tokenFile must hold the server's token)")
                .message().doesNotContain("not-the-token");
        assertThatThrownBy(() -> Workers.connect(remote(server.host()).tokenFile(null)))
                .isInstanceOfSatisfying(WorkerStartException.class, e -> assertThat(e.sqlState()).isEqualTo("28000"))
                .hasMessageContaining("the server asks for a token and no tokenFile is set");
        assertStillServes(server);
    }

    @Test
    void aServerCertificateNotSignedByTheTrustedCaFailsTlsWith08001NamingSslRootCert() {
        assertThatThrownBy(() -> Workers.connect(remote(server.host()).sslRootCert(certs.otherCa())))
                .isInstanceOfSatisfying(WorkerStartException.class, e -> assertThat(e.sqlState()).isEqualTo("08001"))
                .hasMessageContaining("TLS with remote worker server " + server.host() + " failed")
                .hasMessageContaining("sslRootCert");
        assertStillServes(server);
    }

    @Test
    void aServerCertificateThatDoesNotNameTheHostIsRefused() throws Exception {
        Files.writeString(dir.resolve("cn-only.ext"), "subjectAltName=DNS:elsewhere.example\n");
        // the same CA signs a certificate for another name: trusted, but not for 127.0.0.1
        RemoteServer.Certificates.openssl(dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "elsewhere.pem", "-days", "2", "-extfile", "cn-only.ext");
        try (RemoteServer elsewhere = RemoteServer.start("127.0.0.1:0", java.util.List.of("--tls-cert", dir.resolve("elsewhere.pem").toString(),
                "--tls-key", dir.resolve("server.key").toString(), "--token-file", certs.token().toString()))) {
            assertThatThrownBy(() -> Workers.connect(remote(elsewhere.host())))
                    .isInstanceOfSatisfying(WorkerStartException.class, e -> assertThat(e.sqlState()).isEqualTo("08001"))
                    .hasMessageContaining("does the certificate name 127.0.0.1");
        }
    }

    @Test
    void aServerThatSpeaksNoTlsNewerThan12IsRefusedAs08001BeforeAnyLineIsSent() throws Exception {
        // REMOTE-1: TLS 1.3 only, so a server (or something in between) offering 1.2 gets no hello.
        String script = "import ssl, socket, sys\n"
                + "context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
                + "context.maximum_version = ssl.TLSVersion.TLSv1_2\n"
                + "context.load_cert_chain(sys.argv[1], sys.argv[2])\n"
                + "listener = socket.create_server(('127.0.0.1', 0))\n"
                + "print(listener.getsockname()[1], flush=True)\n"
                + "listener.settimeout(30)\n"
                + "for _ in range(2):\n" // the driver opens its protocol and control connections together
                + "    conn, _ = listener.accept()\n"
                + "    try:\n        context.wrap_socket(conn, server_side=True).recv(1)\n"
                + "        print('handshake done', flush=True)\n"
                + "    except (ssl.SSLError, OSError):\n        print('refused', flush=True)\n";
        Process old = new ProcessBuilder(System.getProperty("snakebridge.python", "python3"), "-c", script,
                dir.resolve("server.pem").toString(), dir.resolve("server.key").toString()).redirectErrorStream(true).start();
        try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(old.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
            String port = lines.readLine();
            assertThatThrownBy(() -> Workers.connect(remote("127.0.0.1:" + port)))
                    .isInstanceOfSatisfying(WorkerStartException.class, e -> assertThat(e.sqlState()).isEqualTo("08001"))
                    .hasMessageContaining("TLS with remote worker server 127.0.0.1:" + port + " failed");
            assertThat(lines.readLine()).as("the TLS 1.2 server saw no handshake complete").isEqualTo("refused");
        } finally {
            old.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(60)
    void aServerThatAnswersAByteAtATimeCannotHoldAConnectPastConnectTimeout() throws Exception {
        // Each byte restarts a read's timeout: without the connect's own deadline this server would
        // hold the connect for its answer's 4,096 bytes at 10 a second, seven minutes.
        try (ServerSocket dribbler = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread answering = new Thread(() -> {
                while (!dribbler.isClosed()) {
                    try (java.net.Socket client = dribbler.accept()) {
                        for (int i = 0; i < 600; i++) {
                            client.getOutputStream().write(' ');
                            client.getOutputStream().flush();
                            Thread.sleep(100);
                        }
                    } catch (java.io.IOException | InterruptedException e) {
                        // the client gave up, or the test is over
                    }
                }
            }, "dribbling-server");
            answering.setDaemon(true);
            answering.start();
            assertThatThrownBy(() -> Workers.connect(BridgeConfig.builder().hosts("127.0.0.1:" + dribbler.getLocalPort()).ssl(false)
                    .connectTimeout(Duration.ofSeconds(1))))
                    .isInstanceOfSatisfying(WorkerStartException.class, e -> assertThat(e.sqlState()).isEqualTo("08001"))
                    .hasMessageContaining("connectTimeout=PT1S");
        }
    }

    @Test
    void aPlainTcpClientOfATlsServerIsToldTheServerRequiresTls() {
        assertThatThrownBy(() -> Workers.connect(remote(server.host()).ssl(false)))
                .isInstanceOfSatisfying(WorkerStartException.class, e -> assertThat(e.sqlState()).isEqualTo("08001"))
                .hasMessageContaining("this server requires TLS")
                .hasMessageContaining("ssl=false is set");
        assertStillServes(server);
    }

    @Test
    void maxWorkersIsRefusedAs53300AndAWorkerThatEndedFreesItsPlace() throws Exception {
        try (RemoteServer small = RemoteServer.tls(certs, "--max-workers", "1")) {
            try (WorkerConnection only = Workers.connect(remote(small.host()))) {
                assertThatThrownBy(() -> Workers.connect(remote(small.host())))
                        .isInstanceOfSatisfying(WorkerStartException.class, e -> assertThat(e.sqlState()).isEqualTo("53300"))
                        .hasMessageContaining("--max-workers 1");
                assertThat(only.call("math.sqrt", 4.0).asDouble()).isEqualTo(2.0);
            }
            small.nextEvent(); // its end is reaped: the place is free
            try (WorkerConnection next = Workers.connect(remote(small.host()))) {
                assertThat(next.call("math.sqrt", 9.0).asDouble()).isEqualTo(3.0);
            }
        }
    }

    @Test
    void aCancelCrossesTheNetworkAndTheSessionAndItsRefsSurvive(@TempDir Path marks) {
        try (WorkerConnection py = Workers.connect(remote(server.host()))) {
            RefHandle counter = py.callRef("sb_fixtures.Counter", 41);
            Path mark = marks.resolve("running");
            var cancelled = Workers.cancelOnceRunning(() -> Files.exists(mark), py::cancel);
            assertThatThrownBy(() -> py.call("sb_fixtures.mark_then_sleep", mark.toString(), 60))
                    .isInstanceOfSatisfying(CallCancelledException.class, e -> {
                        assertThat(e.workerKilled()).isFalse();
                        assertThat(e.sqlState()).isEqualTo("57014");
                    });
            assertThat(cancelled.join()).as("the call marked that it runs").isTrue();
            assertThat(counter.call("add").asLong()).isEqualTo(42);
        }
    }

    @Test
    void aCallTimeoutCrossesTheNetworkAndACallThatIgnoresTheInterruptIsKilledAfterCancelGrace() {
        try (WorkerConnection py = Workers.connect(remote(server.host()).cancelGrace(Duration.ofMillis(500)))) {
            assertThatThrownBy(() -> py.withCallTimeout(Duration.ofMillis(300), c -> c.call("time.sleep", 60)))
                    .isInstanceOfSatisfying(CallTimeoutException.class, e -> assertThat(e.workerKilled()).isFalse());
            assertThat(py.call("math.sqrt", 4.0).asDouble()).isEqualTo(2.0);
            assertThatThrownBy(() -> py.withCallTimeout(Duration.ofMillis(300), c -> c.call("exec",
                    "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)")))
                    .isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                        assertThat(e.workerKilled()).isTrue();
                        assertThat(e.sqlState()).isEqualTo("08006");
                    });
        }
    }

    @Test
    void aRemoteWorkerThatDiesIsAWorkerCrashWithItsSignalAndItsConnectionIsBroken() throws Exception {
        try (WorkerConnection py = Workers.connect(remote(server.host()))) {
            long pid = py.call("os.getpid").asLong();
            CompletableFuture<Void> exited = new CompletableFuture<>();
            py.executor().onWorkerExit(() -> exited.complete(null)); // what a pool evicts by
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            exited.get(30, TimeUnit.SECONDS);
            assertThatThrownBy(() -> py.call("math.sqrt", 1.0)).isInstanceOfSatisfying(WorkerCrashedException.class, e -> {
                assertThat(e.sqlState()).isEqualTo("08006");
                assertThat(e.exitDescription()).isEqualTo("killed by SIGKILL");
            });
        }
    }

    @Test
    void aRemoteWorkerKilledByASignalReportsItsSignalAndItsLastStderrLinesWhichTheServerSentItsOwner() {
        try (WorkerConnection py = Workers.connect(remote(server.host()))) {
            py.call("exec", "import sys\nprint('printed first')\nsys.stderr.write('then \\x1b[2J written\\n')\nsys.stdout.flush()");
            assertThatThrownBy(() -> py.call("ctypes.string_at", 0)).isInstanceOfSatisfying(WorkerCrashedException.class, e -> {
                assertThat(e.sqlState()).isEqualTo("08006");
                assertThat(e.exitDescription()).isEqualTo("killed by SIGSEGV");
                assertThat(e.stderrTail()).as("escaped, as a local worker's").startsWith("printed first", "then \\x1b[2J written")
                        .contains("Fatal Python error: Segmentation fault");
                assertThat(e).as("from the crash report on, as for a local worker").hasMessageContaining("its last stderr lines:\n  Fatal Python error: Segmentation fault");
            });
        }
    }

    @Test
    void aRemoteWorkerThatExitsReportsItsExitCodeAndItsLastStderrLine() {
        try (WorkerConnection py = Workers.connect(remote(server.host()))) {
            py.call("exec", "import sys\nsys.stderr.write('giving up\\n')\nsys.stderr.flush()");
            assertThatThrownBy(() -> py.call("os._exit", 3)).isInstanceOfSatisfying(WorkerCrashedException.class, e -> {
                assertThat(e.exitDescription()).isEqualTo("exit code 3");
                assertThat(e.stderrTail()).containsExactly("giving up");
            });
        }
    }

    @Test
    void hostsAreTriedInOrderAndOneThatCannotBeReachedIsSkipped() throws Exception {
        int closed;
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = probe.getLocalPort(); // nobody listens there once it is closed
        }
        try (WorkerConnection py = Workers.connect(remote("127.0.0.1:" + closed, server.host()).connectTimeout(Duration.ofSeconds(2)))) {
            assertThat(py.call("os.getppid").asLong()).isEqualTo(server.pid);
        }
        assertThatThrownBy(() -> Workers.connect(remote("127.0.0.1:" + closed, "127.0.0.1:" + closed)))
                .isInstanceOfSatisfying(WorkerStartException.class, e -> assertThat(e.sqlState()).isEqualTo("08001"))
                .hasMessageStartingWith("no remote worker server gave a worker: cannot reach remote worker server 127.0.0.1:" + closed);
    }

    @Test
    void loadBalanceHostsSpreadsConnectsOverBothServersWhileWithoutItTheFirstHostTakesThemAll() throws Exception {
        try (RemoteServer second = RemoteServer.tls(certs)) {
            java.util.Set<Long> inOrder = new java.util.HashSet<>();
            for (int i = 0; i < 5; i++) {
                try (WorkerConnection py = Workers.connect(remote(server.host(), second.host()))) {
                    inOrder.add(py.call("os.getppid").asLong());
                }
            }
            assertThat(inOrder).containsExactly(server.pid);
            // A fair shuffle misses one of two servers in 40 connects with probability 2^-39: bounded, not a race.
            java.util.Set<Long> spread = new java.util.HashSet<>();
            for (int i = 0; i < 40 && spread.size() < 2; i++) {
                try (WorkerConnection py = Workers.connect(remote(server.host(), second.host()).loadBalanceHosts(true))) {
                    spread.add(py.call("os.getppid").asLong());
                }
            }
            assertThat(spread).containsExactlyInAnyOrder(server.pid, second.pid);
        }
    }

    @Test
    void aServerThatIsKilledFailsOnlyItsOwnCallsWith08006AndTheNextConnectFailsOverToTheOtherHost() throws Exception {
        try (RemoteServer doomed = RemoteServer.tls(certs)) {
            BridgeConfig.Builder both = remote(doomed.host(), server.host());
            try (WorkerConnection onDoomed = Workers.connect(both); WorkerConnection onOther = Workers.connect(remote(server.host()))) {
                assertThat(onDoomed.call("os.getppid").asLong()).isEqualTo(doomed.pid);
                CompletableFuture<PyValue> busy = onDoomed.callAsync("time.sleep", 30);
                doomed.kill();
                assertThatThrownBy(busy::get).isInstanceOf(ExecutionException.class).cause()
                        .isInstanceOfSatisfying(WorkerCrashedException.class, e -> assertThat(e.sqlState()).isEqualTo("08006"));
                assertThat(onOther.call("math.sqrt", 4.0).asDouble()).isEqualTo(2.0);
                try (WorkerConnection failedOver = Workers.connect(both)) {
                    assertThat(failedOver.call("os.getppid").asLong()).isEqualTo(server.pid);
                }
            }
        }
    }

    @Test
    void mutualTlsAdmitsAClientWithACertificateOfTheClientCaAndRefusesOneWithout() throws Exception {
        try (RemoteServer mutual = RemoteServer.tls(certs, "--tls-client-ca", certs.ca().toString())) {
            assertThatThrownBy(() -> Workers.connect(remote(mutual.host())))
                    .isInstanceOf(WorkerStartException.class);
            BridgeConfig.Builder withCertificate = remote(mutual.host()).sslCert(dir.resolve("client.pem")).sslKey(dir.resolve("client.key"));
            try (WorkerConnection py = Workers.connect(withCertificate)) {
                assertThat(py.call("math.sqrt", 4.0).asDouble()).isEqualTo(2.0);
            }
        }
    }

    private static void assertStillServes(RemoteServer server) {
        try (WorkerConnection py = Workers.connect(remote(server.host()))) {
            assertThat(py.call("math.sqrt", 4.0).asDouble()).isEqualTo(2.0);
        }
    }
}
