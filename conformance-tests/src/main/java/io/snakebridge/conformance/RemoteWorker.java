package io.snakebridge.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.shim.ForkedProcess;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A worker a remote worker server forked for the suite (PROTOCOL.md REMOTE-1..4), reached the way
 * section 1e describes, written out here rather than borrowed from the driver so that the suite
 * checks the server against the text and not against the driver's reading of it: TLS (the server's
 * certificate checked against the CA and the host name), hello, the token's HMAC over the nonce and
 * the certificate's digest, the fork preamble, and a control connection that carries cancels (each
 * acknowledged with {@code {"signalled": id}}), kills, and the worker's end ({@code exit_code} or
 * {@code signal}, SRV-4).
 */
final class RemoteWorker implements WorkerLink {
    private static final byte[] AUTH_CONTEXT = "snakebridge-auth-v1\0".getBytes(StandardCharsets.US_ASCII);
    private static final int LINE_MAX = 4096;

    private final RemoteTarget target;
    private final Socket protocol;
    private final Socket control;
    private final long pid;
    private final InputStream input;
    private final OutputStream output;
    private final BlockingQueue<Long> signalled = new LinkedBlockingQueue<>();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final Object controlWrite = new Object();
    private volatile String exitDescription = "running";

    private RemoteWorker(RemoteTarget target, Socket protocol, Socket control, long pid) throws IOException {
        this.target = target;
        this.protocol = protocol;
        this.control = control;
        this.pid = pid;
        this.input = protocol.getInputStream();
        this.output = protocol.getOutputStream();
        Thread events = new Thread(this::readControl, "conformance-control-" + pid);
        events.setDaemon(true);
        events.start();
    }

    /**
     * A worker forked for the suite by {@code target}, within {@link ProtocolClient#ANSWER_TIMEOUT}.
     *
     * @throws IOException if the server cannot be reached, fails TLS, refuses the token or forks no worker (the message says which)
     */
    static RemoteWorker fork(RemoteTarget target) throws IOException {
        long deadline = System.nanoTime() + ProtocolClient.ANSWER_TIMEOUT.toNanos();
        SSLContext tls = context(target);
        Socket protocol = open(target, tls, deadline);
        Socket control = null;
        try {
            Map<String, Object> fork = new LinkedHashMap<>();
            fork.put("op", "fork");
            fork.put("memory_limit_bytes", 0);
            send(protocol, fork);
            String token = answer(readLine(protocol, deadline), "token").asText();
            control = open(target, tls, deadline);
            send(control, Map.of("op", "control", "token", token));
            JsonNode pid = answer(readLine(control, deadline), "pid");
            JsonNode announced = answer(readLine(protocol, deadline), "pid");
            if (!pid.canConvertToLong() || pid.asLong() <= 1 || pid.asLong() != announced.asLong()) {
                throw new IOException("the server forked pid " + pid + " but its worker announces " + announced + " (REMOTE-4)");
            }
            protocol.setSoTimeout(0);
            control.setSoTimeout(0);
            return new RemoteWorker(target, protocol, control, pid.asLong());
        } catch (IOException | RuntimeException e) {
            protocol.close();
            if (control != null) {
                control.close();
            }
            throw e;
        }
    }

    /** TCP, TLS and the challenge-response (REMOTE-1, REMOTE-2): a connection the server will take a preamble on. */
    private static Socket open(RemoteTarget target, SSLContext tls, long deadline) throws IOException {
        Socket raw = new Socket();
        try {
            raw.connect(new InetSocketAddress(target.host(), target.port()), remainingMillis(deadline));
            raw.setTcpNoDelay(true);
            SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(raw, target.host(), target.port(), true);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host dialled
            socket.setSSLParameters(parameters);
            socket.setSoTimeout(remainingMillis(deadline));
            socket.startHandshake();
            send(socket, Map.of("op", "hello"));
            JsonNode challenge = readLine(socket, deadline);
            String scheme = answer(challenge, "auth").asText();
            if (scheme.equals("hmac-sha256")) {
                byte[] nonce = HexFormat.of().parseHex(answer(challenge, "nonce").asText());
                byte[] binding = MessageDigest.getInstance("SHA-256").digest(socket.getSession().getPeerCertificates()[0].getEncoded());
                send(socket, Map.of("op", "auth", "mac", mac(token(target), nonce, binding)));
                if (!answer(readLine(socket, deadline), "authenticated").asBoolean(false)) {
                    throw new IOException("the server did not confirm the authentication (REMOTE-2)");
                }
            } else if (!scheme.equals("none")) {
                throw new IOException("the server asks for authentication \"" + scheme + "\"; REMOTE-2 defines hmac-sha256 and none");
            }
            return socket;
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        } catch (GeneralSecurityException e) {
            raw.close();
            throw new IOException("cannot read the server's certificate: " + e.getMessage(), e);
        }
    }

    /** REMOTE-2: HMAC-SHA256 under the token of the context string, the nonce and the channel binding. */
    static String mac(byte[] token, byte[] nonce, byte[] channelBinding) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(token, "HmacSHA256"));
            mac.update(AUTH_CONTEXT);
            mac.update(nonce);
            return HexFormat.of().formatHex(mac.doFinal(channelBinding));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }

    private static byte[] token(RemoteTarget target) throws IOException {
        if (target.tokenFile() == null) {
            throw new IOException("the server asks for a token: give its file with --remote-token-file");
        }
        return Files.readString(target.tokenFile(), StandardCharsets.UTF_8).strip().getBytes(StandardCharsets.UTF_8);
    }

    private static SSLContext context(RemoteTarget target) throws IOException {
        try {
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            if (target.caFile() == null) {
                trust.init((KeyStore) null);
            } else {
                KeyStore roots = KeyStore.getInstance("PKCS12");
                roots.load(null, null);
                List<Certificate> certificates = certificates(target.caFile());
                for (int i = 0; i < certificates.size(); i++) {
                    roots.setCertificateEntry("root-" + i, certificates.get(i));
                }
                trust.init(roots);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot trust the certificates of --remote-ca " + target.caFile() + ": " + e.getMessage(), e);
        }
    }

    private static List<Certificate> certificates(Path pem) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(pem)) {
            List<Certificate> certificates = new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
            if (certificates.isEmpty()) {
                throw new GeneralSecurityException(pem + " holds no PEM certificate");
            }
            return certificates;
        }
    }

    /** The field {@code name} of a server's answer; a refusal ({@code {"error", "code"}}, REMOTE-3) is an IOException saying so. */
    private static JsonNode answer(JsonNode reply, String name) throws IOException {
        if (reply.has("error")) {
            throw new IOException("the server refused: " + reply.get("error").asText() + " (" + reply.path("code").asText("no code") + ")");
        }
        if (!reply.has(name)) {
            throw new IOException("the server answered " + reply + " where REMOTE-2..4 call for \"" + name + "\"");
        }
        return reply.get(name);
    }

    private static void send(Socket socket, Map<String, Object> message) throws IOException {
        socket.getOutputStream().write((ProtocolClient.JSON.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().flush();
    }

    /** One line, byte by byte: what follows it on a worker's connection is the worker's frames. */
    private static JsonNode readLine(Socket socket, long deadline) throws IOException {
        socket.setSoTimeout(remainingMillis(deadline));
        String line = boundedLine(socket.getInputStream());
        if (line == null) {
            throw new IOException("the server closed the connection");
        }
        return ProtocolClient.JSON.readTree(line);
    }

    private static String boundedLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
            }
            if (line.size() == LINE_MAX) {
                throw new IOException("the server sent a line longer than " + LINE_MAX + " bytes");
            }
            line.write(b);
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    private static int remainingMillis(long deadline) throws IOException {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
            throw new java.net.SocketTimeoutException("no worker within " + ProtocolClient.ANSWER_TIMEOUT);
        }
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    /** The control connection: acknowledgements of cancels, then the worker's end (or the connection's, without one). */
    private void readControl() {
        String description = null;
        try {
            InputStream in = control.getInputStream();
            String line;
            while (description == null && (line = boundedLine(in)) != null) {
                JsonNode event = ProtocolClient.JSON.readTree(line);
                if (event.has("signalled")) {
                    signalled.add(event.get("signalled").asLong());
                } else if (event.path("pid").asLong() == pid && (event.has("exit_code") || event.has("signal"))) {
                    description = ForkedProcess.describeExit(event.has("exit_code") ? event.get("exit_code").asInt() : null,
                            event.has("signal") ? event.get("signal").asInt() : null);
                }
            }
        } catch (IOException e) {
            description = "lost: the control connection broke (" + e.getMessage() + ")";
        }
        exitDescription = description != null ? description : "lost: the server closed the control connection without the worker's end (SRV-4)";
        ended.countDown();
        closeQuietly(control);
    }

    private boolean sendControl(Map<String, Object> message) {
        synchronized (controlWrite) {
            try {
                send(control, message);
                return true;
            } catch (IOException e) {
                return false;
            }
        }
    }

    @Override
    public InputStream input() {
        return input;
    }

    @Override
    public OutputStream output() {
        return output;
    }

    @Override
    public long pid() {
        return pid;
    }

    /** Its pid is one of the server's machine, which may name an unrelated process here. */
    @Override
    public boolean isLocalProcess() {
        return false;
    }

    @Override
    public void interrupt(long requestId) {
        Map<String, Object> cancel = new LinkedHashMap<>();
        cancel.put("op", "cancel");
        cancel.put("request", requestId);
        if (!sendControl(cancel)) {
            throw new AssertionError("the control connection to " + target.hostAndPort() + " is gone: " + exitDescription);
        }
    }

    @Override
    public void awaitInterruptTaken(long requestId, boolean declaresCancelTarget) {
        long deadline = System.nanoTime() + ProtocolClient.ANSWER_TIMEOUT.toNanos();
        try {
            for (Long id = null; id == null || id != requestId; ) {
                id = signalled.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (id == null) {
                    throw new AssertionError("the server did not acknowledge the cancel of request " + requestId + " with {\"signalled\": "
                            + requestId + "} within " + ProtocolClient.ANSWER_TIMEOUT + " (REMOTE-4); the worker " + exitDescription);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Override
    public Path cancelWordFile() {
        return null;
    }

    /** TLS close_notify then the end of the stream: the worker reads end-of-file. */
    @Override
    public void closeInput() {
        try {
            protocol.shutdownOutput();
        } catch (IOException | UnsupportedOperationException e) {
            closeQuietly(protocol);
        }
    }

    @Override
    public boolean isAlive() {
        return ended.getCount() > 0;
    }

    @Override
    public boolean awaitExit(Duration timeout) {
        try {
            return ended.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !isAlive();
        }
    }

    @Override
    public String exitDescription() {
        return exitDescription;
    }

    @Override
    public void kill() {
        if (isAlive()) {
            sendControl(Map.of("op", "kill"));
            awaitExit(Duration.ofSeconds(5));
        }
        closeQuietly(protocol);
        closeQuietly(control);
    }

    @Override
    public void close() {
        closeInput();
        if (!awaitExit(Duration.ofSeconds(2))) {
            kill();
        }
        closeQuietly(protocol);
        closeQuietly(control); // a control connection's end kills its worker (REMOTE-4) if nothing else did
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a socket whose peer is gone
        }
    }
}
