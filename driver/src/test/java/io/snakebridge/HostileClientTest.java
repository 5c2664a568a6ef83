package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A hostile client never takes a remote worker server down nor starves authenticated clients (issue
 * #16, PROTOCOL.md REMOTE-12): a flood of a thousand connects, mixing silent
 * connects, plain text to the TLS port, ClientHellos that never finish, and TLS connections that go
 * silent, say hello and go silent, or send garbage, while clients a 200 ms round trip away (through
 * {@link LatencyProxy}) log in and call. Real servers on loopback addresses only; the flood is
 * bounded in connects, the test in time.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class HostileClientTest {
    private static final Duration ROUND_TRIP = Duration.ofMillis(200);
    private static final int CLIENTS = 10;
    private static final int FLOOD_CONNECTS = 1000;

    @TempDir
    static Path dir;
    static RemoteServer.Certificates certs;

    @BeforeAll
    static void makeCertificates() throws Exception {
        certs = RemoteServer.Certificates.make(dir);
    }

    /**
     * From another address (127.0.0.2: Linux routes all of 127/8 to loopback) the flood's address holds
     * more than its share and loses its own connections; from the clients' own address (a NAT, or the
     * same host) the clients hold their places because they get further in than the flood does.
     */
    @ParameterizedTest(name = "flood from {0}")
    @ValueSource(strings = {"127.0.0.2", "127.0.0.1"})
    void aThousandConnectFloodStarvesNoClientLoggingInFrom200MillisecondsAway(String floodSource) throws Exception {
        assumeTrue(bindable(floodSource), floodSource + " is not a loopback address of this machine");
        try (RemoteServer server = RemoteServer.tls(certs);
                LatencyProxy far = new LatencyProxy(server.port, ROUND_TRIP);
                Flood flood = new Flood(floodSource, server.port, trusting(certs.ca()))) {
            flood.start(8);
            assertThat(flood.full.await(60, TimeUnit.SECONDS)).as("the flood filled the server's pending slots").isTrue();
            List<Throwable> failures = logInAndCall(far.host(), CLIENTS);
            assertThat(flood.thousand.await(60, TimeUnit.SECONDS)).as("a thousand connects").isTrue();
            flood.stop();
            assertThat(failures).as("logins that failed under the flood").isEmpty();
            assertThat(server.alive()).as("the server is alive; its log ends:\n%s", server.logTail()).isTrue();
            assertStillServes(server);
        }
    }

    private static boolean bindable(String address) {
        try (Socket probe = new Socket()) {
            probe.bind(new InetSocketAddress(address, 0));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code clients} concurrent logins through {@code host}, each with one call; what each that failed threw. */
    private static List<Throwable> logInAndCall(String host, int clients) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Double>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                results.add(pool.submit(() -> {
                    try (WorkerConnection py = Workers.connect(remote(host).connectTimeout(Duration.ofSeconds(10)))) {
                        return py.call("math.sqrt", 16.0).asDouble();
                    }
                }));
            }
            List<Throwable> failures = new ArrayList<>();
            for (Future<Double> result : results) {
                try {
                    assertThat(result.get(120, TimeUnit.SECONDS)).isEqualTo(4.0);
                } catch (java.util.concurrent.ExecutionException e) {
                    failures.add(e.getCause());
                } catch (java.util.concurrent.TimeoutException e) {
                    failures.add(e);
                }
            }
            return failures;
        } finally {
            pool.shutdownNow();
        }
    }

    private static BridgeConfig.Builder remote(String host) {
        return BridgeConfig.builder().hosts(host).sslRootCert(certs.ca()).tokenFile(certs.token());
    }

    private static void assertStillServes(RemoteServer server) {
        try (WorkerConnection py = Workers.connect(remote(server.host()))) {
            assertThat(py.call("math.sqrt", 4.0).asDouble()).isEqualTo(2.0);
        }
    }

    /** TLS that trusts the test CA, as an attacker who has the server's CA certificate (it is public) would. */
    private static SSLSocketFactory trusting(Path ca) throws IOException, GeneralSecurityException {
        KeyStore roots = KeyStore.getInstance("PKCS12");
        roots.load(null, null);
        try (InputStream in = Files.newInputStream(ca)) {
            roots.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(roots);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context.getSocketFactory();
    }

    /**
     * Threads that connect from {@code source} as fast as the server lets them, each connect one of
     * six misbehaviours, and hold the last few hundred connections open (the server closes the rest).
     * Silent connects (still the TCP handshake, whose source address is real) are most of them.
     * Bounded: it stops when told or after {@link #MAX_CONNECTS}.
     */
    static final class Flood implements AutoCloseable {
        static final int MAX_CONNECTS = 20_000;
        /** Of every twelve connects: seven silent (the cheapest, so the fastest flood), then one of each misbehaviour. */
        private static final int KINDS = 12;
        private static final int HELD = 400;
        final CountDownLatch full = new CountDownLatch(300);
        final CountDownLatch thousand = new CountDownLatch(FLOOD_CONNECTS);
        private final InetAddress source;
        private final int port;
        private final SSLSocketFactory tls;
        private final AtomicInteger connects = new AtomicInteger();
        private final Deque<Socket> held = new ConcurrentLinkedDeque<>();
        private volatile boolean stopped;
        private ExecutorService threads;

        Flood(String source, int port, SSLSocketFactory tls) throws IOException {
            this.source = InetAddress.getByName(source);
            this.port = port;
            this.tls = tls;
        }

        int connects() {
            return Math.min(connects.get(), MAX_CONNECTS);
        }

        void start(int threadCount) {
            threads = Executors.newFixedThreadPool(threadCount);
            for (int i = 0; i < threadCount; i++) {
                threads.execute(this::run);
            }
        }

        private void run() {
            for (int n = connects.incrementAndGet(); !stopped && n <= MAX_CONNECTS; n = connects.incrementAndGet()) {
                try {
                    hold(attack(n % KINDS));
                } catch (IOException e) {
                    // the server closed or refused it: what it should do with most of them
                }
                full.countDown();
                thousand.countDown();
            }
        }

        private Socket attack(int kind) throws IOException {
            Socket raw = new Socket();
            try {
                raw.bind(new InetSocketAddress(source, 0));
                raw.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
                raw.setSoTimeout(5_000);
                switch (kind) {
                    case 0, 1, 2, 3, 4, 5, 6 -> {
                        return raw; // silent
                    }
                    case 7 -> {
                        raw.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)); // plain text
                        return raw;
                    }
                    case 8 -> {
                        raw.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01}); // a ClientHello that never ends
                        return raw;
                    }
                    default -> {
                        SSLSocket secure = (SSLSocket) tls.createSocket(raw, "127.0.0.1", port, true);
                        secure.startHandshake();
                        if (kind == 10) {
                            secure.getOutputStream().write("{\"op\": \"hello\"}\n".getBytes(StandardCharsets.US_ASCII)); // then never answers
                        } else if (kind == 11) {
                            secure.getOutputStream().write("\u0000\u00ff garbage inside TLS\n".getBytes(StandardCharsets.ISO_8859_1));
                        }
                        return secure;
                    }
                }
            } catch (IOException | RuntimeException e) {
                raw.close();
                throw e;
            }
        }

        private void hold(Socket socket) {
            held.add(socket);
            while (held.size() > HELD) {
                closeQuietly(held.poll());
            }
        }

        void stop() throws InterruptedException {
            stopped = true;
            threads.shutdown();
            threads.awaitTermination(60, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws InterruptedException {
            if (threads != null) {
                stop();
            }
            for (Socket socket = held.poll(); socket != null; socket = held.poll()) {
                closeQuietly(socket);
            }
        }

        private static void closeQuietly(Socket socket) {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // the server closed it already
                }
            }
        }
    }
}
