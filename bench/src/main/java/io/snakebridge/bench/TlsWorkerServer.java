package io.snakebridge.bench;

import io.snakebridge.BridgeConfig;
import io.snakebridge.internal.WorkerStarter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A remote worker server on 127.0.0.1 for the benches: TLS with P-256 certificates made by openssl for
 * the run, and a token; {@link #config()} reaches it.
 */
final class TlsWorkerServer implements AutoCloseable {
    private static final Pattern READY = Pattern.compile("\"listen\": \"([^\"]+)\"");
    private final Process process;
    private final BridgeConfig config;

    private TlsWorkerServer(Process process, BridgeConfig config) {
        this.process = process;
        this.config = config;
    }

    static TlsWorkerServer start() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("sb-remote-bench");
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "1", "-subj", "/CN=bench ca");
        openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                "-subj", "/CN=server");
        Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1\n");
        openssl(dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
                "-days", "1", "-extfile", "san.ext");
        Files.writeString(dir.resolve("token"), "bench-token-0123456789abcdef0123456789\n");
        Process server = WorkerStarter.serverProcess(BridgeConfig.defaults(), "127.0.0.1:0", List.of("--tls-cert", dir.resolve("server.pem").toString(),
                "--tls-key", dir.resolve("server.key").toString(), "--token-file", dir.resolve("token").toString()))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader events = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        Matcher ready = READY.matcher(String.valueOf(events.readLine()));
        if (!ready.find()) {
            server.destroyForcibly();
            throw new IOException("the worker server did not start");
        }
        Thread drain = new Thread(() -> events.lines().forEach(line -> { }), "bench-server-events"); // its pipe must not fill
        drain.setDaemon(true);
        drain.start();
        return new TlsWorkerServer(server, BridgeConfig.builder().hosts(ready.group(1)).sslRootCert(dir.resolve("ca.pem"))
                .tokenFile(dir.resolve("token")).build());
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed");
        }
    }

    /** Reaches this server: its host, the CA that signed its certificate, the token file. */
    BridgeConfig config() {
        return config;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
