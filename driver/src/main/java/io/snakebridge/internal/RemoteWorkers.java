package io.snakebridge.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.snakebridge.BridgeConfig;
import io.snakebridge.WorkerStartException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Workers of remote worker servers (PROTOCOL.md REMOTE-*): the hosts of {@code hosts} are tried in
 * order (or in a random order each time, with {@code loadBalanceHosts}), each within
 * {@code connectTimeout}, until one forks a worker. A connection is TLS (JSSE, with
 * the server's host name checked), then hello, then the token's challenge-response, then the fork of
 * SRV-2 with a control connection in place of the stderr one.
 */
final class RemoteWorkers {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The longest line a server's handshake or control connection may send, in bytes. */
    static final int LINE_MAX = 4096;
    /** What the MAC is over, before the server's nonce (REMOTE-2). */
    private static final byte[] AUTH_CONTEXT = "snakebridge-auth-v1\0".getBytes(StandardCharsets.US_ASCII);
    /** One context per set of files (and their modification times): it holds the TLS sessions a reconnect resumes. */
    private static final Map<List<Object>, SSLContext> CONTEXTS = new ConcurrentHashMap<>();
    /** The one TLS version a client and a server speak (REMOTE-1). */
    static final String TLS_VERSION = "TLSv1.3";
    static final String AUTH_REFUSED = "28000";
    static final String TOO_MANY = "53300";

    private RemoteWorkers() {
    }

    /**
     * A worker from the first host that gives one.
     *
     * @throws WorkerStartException 28000 at once if a server refuses this client's token or certificate;
     *         else, once every host failed, 53300 if each had no worker to spare, 08001 otherwise
     */
    static Transport open(BridgeConfig config) {
        SSLContext tls = config.ssl() ? context(config) : null;
        List<String> failures = new ArrayList<>();
        WorkerStartException last = null;
        boolean allFull = true;
        for (String text : order(config, ThreadLocalRandom.current())) {
            HostAndPort host = HostAndPort.parse(text, HostAndPort.DEFAULT_PORT);
            try {
                return connect(host, config, tls);
            } catch (WorkerStartException e) {
                if (AUTH_REFUSED.equals(e.sqlState()) || config.hosts().size() == 1) {
                    throw e;
                }
                allFull &= TOO_MANY.equals(e.sqlState());
                failures.add(e.getMessage());
                last = e;
            }
        }
        throw new WorkerStartException("no remote worker server gave a worker: " + String.join("; ", failures),
                allFull ? TOO_MANY : "08001", last);
    }

    /** The hosts in the order to try them: as given, or shuffled by {@code random} with {@code loadBalanceHosts} (REMOTE-5). */
    static List<String> order(BridgeConfig config, Random random) {
        if (!config.loadBalanceHosts() || config.hosts().size() < 2) {
            return config.hosts();
        }
        List<String> shuffled = new ArrayList<>(config.hosts());
        Collections.shuffle(shuffled, random);
        return shuffled;
    }

    private static Transport connect(HostAndPort host, BridgeConfig config, SSLContext tls) {
        long deadline = System.nanoTime() + config.connectTimeout().toNanos();
        InetSocketAddress address;
        try {
            address = resolve(host);
        } catch (UnknownHostException e) {
            throw failure(host, config, e);
        }
        ConnectDeadline watchdog = new ConnectDeadline(deadline);
        // The control connection's TLS and authentication overlap the protocol connection's: a connect
        // costs one handshake's latency, not two. It learns the fork's token only after both.
        CompletableFuture<Link> pendingControl = CompletableFuture.supplyAsync(() -> {
            try {
                return Link.open(address, host, config, tls, deadline, watchdog);
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, CONNECTING);
        Link protocol = null;
        Link control = null;
        try {
            protocol = Link.open(address, host, config, tls, deadline, watchdog);
            Map<String, Object> fork = new LinkedHashMap<>();
            fork.put("op", "fork");
            fork.put("memory_limit_bytes", config.memoryLimitBytes());
            String token = field(protocol.exchange(fork, deadline), "token").asText();
            control = awaitControl(pendingControl);
            control.send(Map.of("op", "control", "token", token));
            JsonNode pid = field(control.readLine(deadline), "pid");
            JsonNode announced = field(protocol.readLine(deadline), "pid");
            if (!pid.canConvertToLong() || pid.asLong() <= 1 || pid.asLong() != announced.asLong()) {
                throw new IOException("the server forked pid " + pid + " but its worker says " + announced);
            }
            if (!watchdog.finish()) {
                throw watchdog.passed(config);
            }
            protocol.socket.setSoTimeout(0);
            control.socket.setSoTimeout(0);
            return new RemoteTransport(host, pid.asLong(), protocol.socket, protocol.raw, control.socket, control.raw);
        } catch (IOException e) {
            watchdog.finish();
            closeQuietly(protocol);
            closeQuietly(control);
            pendingControl.thenAccept(RemoteWorkers::closeQuietly); // one that is still opening is closed once it is open
            throw failure(host, config, watchdog.expired() ? watchdog.passed(config) : e);
        }
    }

    /**
     * Closes a connect's sockets when its connectTimeout passes. A read's timeout starts again with
     * every byte, so a server (or anything on the way) that answers a byte at a time would otherwise
     * hold a connect for up to a line's length of timeouts, and the next host's turn with it.
     */
    private static final class ConnectDeadline {
        private final List<Socket> sockets = new ArrayList<>(); // guarded by this
        private final java.util.concurrent.ScheduledFuture<?> alarm;
        private boolean expired; // guarded by this
        private boolean finished; // guarded by this

        ConnectDeadline(long deadline) {
            alarm = Interrupter.WATCHDOG.schedule(this::expire, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }

        /** Closes {@code socket} at the deadline; at once if it has passed. */
        synchronized void watch(Socket socket) throws IOException {
            if (expired) {
                socket.close();
                throw new SocketTimeoutException("connectTimeout passed");
            }
            sockets.add(socket);
        }

        private synchronized void expire() {
            if (finished) {
                return;
            }
            expired = true;
            for (Socket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing is all that is wanted
                }
            }
        }

        /** The connect is over: whether it ended before the deadline (then its sockets are left open). */
        synchronized boolean finish() {
            finished = true;
            alarm.cancel(false);
            return !expired;
        }

        synchronized boolean expired() {
            return expired;
        }

        SocketTimeoutException passed(BridgeConfig config) {
            return new SocketTimeoutException("connectTimeout=" + config.connectTimeout() + " passed (the server answered too slowly)");
        }
    }

    /**
     * The host's address, looked up once for both connections of a worker: they must reach the same
     * server (the fork's token is that server's), and a name with several addresses (a DNS round
     * robin, a headless Kubernetes Service) could give each connection another one.
     */
    private static InetSocketAddress resolve(HostAndPort host) throws UnknownHostException {
        InetSocketAddress address = new InetSocketAddress(host.host(), host.port());
        if (address.isUnresolved()) {
            throw new UnknownHostException(host.host());
        }
        return address;
    }

    /** The control connection opened alongside; its failure is the connect's failure. */
    private static Link awaitControl(CompletableFuture<Link> pending) throws IOException {
        try {
            return pending.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw e;
        }
    }

    /** Opens control connections beside protocol ones; threads end when idle. */
    private static final java.util.concurrent.ExecutorService CONNECTING = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "snakebridge-remote-connect");
        thread.setDaemon(true);
        return thread;
    });

    /** Why {@code host} gave no worker, with the SQLState that says whose problem it is. */
    private static WorkerStartException failure(HostAndPort host, BridgeConfig config, IOException e) {
        String where = "remote worker server " + host;
        if (e instanceof Refusal refusal) {
            String state = switch (refusal.code) {
                case "auth_failed" -> AUTH_REFUSED;
                case "too_many_workers" -> TOO_MANY;
                default -> "08001";
            };
            String hint = switch (refusal.code) {
                case "auth_failed" -> " (tokenFile must hold the server's token)";
                case "tls_required" -> " (it speaks TLS: ssl=false is set)";
                default -> "";
            };
            return new WorkerStartException(where + " refused: " + refusal.getMessage() + hint, state, e);
        }
        if (e instanceof SSLException && certificateRefusedByServer(e)) {
            return new WorkerStartException(where + " refused this client's certificate (" + e.getMessage()
                    + "): sslCert must be signed by the CA the server's --tls-client-ca names", AUTH_REFUSED, e);
        }
        if (e instanceof SSLHandshakeException || e instanceof SSLException) {
            return new WorkerStartException("TLS with " + where + " failed: " + e.getMessage() + ". Is sslRootCert (or the JVM's"
                    + " trust store) the CA that signed the server's certificate, and does the certificate name " + host.host()
                    + "? A server started without --tls-cert is reached with ssl=false", "08001", e);
        }
        if (e instanceof SocketTimeoutException) {
            return new WorkerStartException(where + " did not give a worker within connectTimeout=" + config.connectTimeout()
                    + (config.ssl() ? "" : " (if it speaks TLS, ssl=false is wrong)"), "08001", e);
        }
        return new WorkerStartException("cannot reach " + where + ": " + e.getMessage(), "08001", e);
    }

    /** A TLS alert from the server saying it did not accept our certificate (mutual TLS). */
    private static boolean certificateRefusedByServer(IOException e) {
        String message = String.valueOf(e.getMessage());
        return message.contains("Received fatal alert") && (message.contains("certificate_required")
                || message.contains("bad_certificate") || message.contains("unknown_ca") || message.contains("certificate_unknown"));
    }

    private static JsonNode field(JsonNode reply, String name) throws IOException {
        if (reply.has("error")) {
            throw new Refusal(reply.path("code").asText(""), reply.get("error").asText());
        }
        if (!reply.has(name)) {
            throw new IOException("unexpected answer " + reply);
        }
        return reply.get(name);
    }

    /** A server's {@code {"error": ..., "code": ...}} (REMOTE-3). */
    private static final class Refusal extends IOException {
        private static final long serialVersionUID = 1L;
        private final String code;

        Refusal(String code, String message) {
            super(message);
            this.code = code;
        }
    }

    /** One authenticated connection to a server, before it is a worker's or a control connection. */
    private static final class Link {
        private final Socket raw;
        private final Socket socket;

        private Link(Socket raw, Socket socket) {
            this.raw = raw;
            this.socket = socket;
        }

        static Link open(InetSocketAddress address, HostAndPort host, BridgeConfig config, SSLContext tls, long deadline,
                ConnectDeadline watchdog) throws IOException {
            Socket raw = new Socket();
            watchdog.watch(raw);
            try {
                raw.connect(address, remainingMillis(deadline));
                raw.setTcpNoDelay(true); // a frame is one write: send it now
                raw.setKeepAlive(true);
                Socket socket = raw;
                if (tls != null) {
                    SSLSocket secure = (SSLSocket) tls.getSocketFactory().createSocket(raw, host.host(), host.port(), true);
                    secure.setSSLParameters(tlsParameters(secure.getSSLParameters()));
                    secure.setSoTimeout(remainingMillis(deadline));
                    secure.startHandshake();
                    socket = secure;
                }
                Link link = new Link(raw, socket);
                link.authenticate(config, deadline);
                return link;
            } catch (IOException | RuntimeException e) {
                raw.close();
                throw e;
            }
        }

        /** REMOTE-2: hello; then, if the server asks, the MAC of its nonce under the token. */
        private void authenticate(BridgeConfig config, long deadline) throws IOException {
            JsonNode challenge = exchange(Map.of("op", "hello"), deadline);
            String scheme = field(challenge, "auth").asText();
            if (scheme.equals("none")) {
                return;
            }
            if (!scheme.equals("hmac-sha256") || !challenge.path("nonce").isTextual()) {
                throw new IOException("the server asks for authentication this client does not know: " + challenge);
            }
            byte[] nonce = HexFormat.of().parseHex(challenge.get("nonce").asText());
            JsonNode answer = exchange(Map.of("op", "auth", "mac", mac(token(config), nonce, channelBinding())), deadline);
            if (!field(answer, "authenticated").asBoolean(false)) {
                throw new IOException("unexpected answer " + answer);
            }
        }

        /**
         * What ties a MAC to this TLS connection (REMOTE-2): the SHA-256 of the certificate the server
         * presented. A server that relays another's challenge presents its own certificate, so the MAC
         * this client makes is of no use at the other. Without TLS nothing binds it (empty).
         */
        private byte[] channelBinding() throws IOException {
            if (!(socket instanceof SSLSocket)) {
                return new byte[0];
            }
            try {
                byte[] leaf = ((SSLSocket) socket).getSession().getPeerCertificates()[0].getEncoded();
                return MessageDigest.getInstance("SHA-256").digest(leaf);
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot read the server's certificate: " + e, e);
            }
        }

        JsonNode exchange(Map<String, Object> message, long deadline) throws IOException {
            send(message);
            return readLine(deadline);
        }

        void send(Map<String, Object> message) throws IOException {
            socket.getOutputStream().write((JSON.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
        }

        /** One line, byte by byte: what follows it on a worker's connection is the worker's. */
        JsonNode readLine(long deadline) throws IOException {
            socket.setSoTimeout(remainingMillis(deadline));
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            while (true) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("the server closed the connection");
                }
                if (b == '\n') {
                    return JSON.readTree(line.toByteArray());
                }
                if (line.size() == LINE_MAX) {
                    throw new IOException("the server's answer is too long");
                }
                line.write(b);
            }
        }

        void close() throws IOException {
            raw.close();
        }
    }

    private static int remainingMillis(long deadline) throws SocketTimeoutException {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
            throw new SocketTimeoutException("connectTimeout passed");
        }
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    private static void closeQuietly(Link link) {
        if (link != null) {
            try {
                link.close();
            } catch (IOException ignored) {
                // it is being discarded
            }
        }
    }

    /** The token, read at each connect (so a rotated file takes effect); never logged, never sent. */
    private static byte[] token(BridgeConfig config) throws IOException {
        if (config.tokenFile() == null) {
            throw new Refusal("auth_failed", "the server asks for a token and no tokenFile is set");
        }
        String token;
        try {
            token = Files.readString(config.tokenFile(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new Refusal("auth_failed", "cannot read tokenFile " + config.tokenFile() + " (" + e.getClass().getSimpleName() + ")");
        }
        return token.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * REMOTE-1 and REMOTE-5: TLS 1.3 only (what the server speaks: no downgrade to a server, or
     * something in between, offering less), and a certificate that names the host we dialled.
     */
    static SSLParameters tlsParameters(SSLParameters parameters) {
        parameters.setProtocols(new String[] {TLS_VERSION});
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        return parameters;
    }

    /** REMOTE-2: HMAC-SHA256 under the token of the context, the nonce and the channel binding. */
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

    /** The TLS context for {@code config}'s trust and client files, made once per set of files as they are now. */
    private static SSLContext context(BridgeConfig config) {
        List<Object> key = new ArrayList<>();
        for (Path file : new Path[] {config.sslRootCert(), config.sslCert(), config.sslKey()}) {
            key.add(String.valueOf(file));
            key.add(file == null ? 0L : file.toFile().lastModified());
        }
        try {
            return CONTEXTS.computeIfAbsent(key, k -> {
                try {
                    return newContext(config);
                } catch (IOException | GeneralSecurityException e) {
                    throw new IllegalArgumentException(e.getMessage(), e);
                }
            });
        } catch (IllegalArgumentException e) {
            throw new WorkerStartException("cannot set up TLS from sslRootCert, sslCert and sslKey: " + e.getMessage(), "08001", e);
        }
    }

    private static SSLContext newContext(BridgeConfig config) throws IOException, GeneralSecurityException {
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        if (config.sslRootCert() == null) {
            trust.init((KeyStore) null); // the JVM's own: cacerts, or javax.net.ssl.trustStore
        } else {
            KeyStore roots = KeyStore.getInstance("PKCS12");
            roots.load(null, null);
            List<Certificate> certificates = certificates(config.sslRootCert());
            for (int i = 0; i < certificates.size(); i++) {
                roots.setCertificateEntry("root-" + i, certificates.get(i));
            }
            trust.init(roots);
        }
        KeyManager[] keys = null;
        if (config.sslCert() != null) {
            char[] inMemory = "in-memory".toCharArray(); // this key store never leaves the heap
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("client", privateKey(config.sslKey()), inMemory, certificates(config.sslCert()).toArray(new Certificate[0]));
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, inMemory);
            keys = factory.getKeyManagers();
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys, trust.getTrustManagers(), null);
        return context;
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

    private static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new GeneralSecurityException(pem + " is not an unencrypted PKCS#8 key (BEGIN PRIVATE KEY);"
                    + " convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end));
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException notThisOne) {
                // try the next algorithm
            }
        }
        throw new GeneralSecurityException("the key in " + pem + " is not an RSA, EC or EdDSA key");
    }
}
