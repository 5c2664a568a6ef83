package io.snakebridge.conformance;

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
 * A real remote worker server (PROTOCOL.md section 1e) on 127.0.0.1 for the suite's own tests: TLS with
 * a certificate for 127.0.0.1 signed by a CA made by openssl for this run (no key is committed), and a
 * token file. Started as the driver starts one ({@link WorkerStarter#serverProcess}).
 */
final class LoopbackTlsServer implements AutoCloseable {
    private static final Pattern READY = Pattern.compile("\"listen\": \"([^\"]+)\"");

    private final Process process;
    final String hostAndPort;
    final Path ca;
    final Path token;

    private LoopbackTlsServer(Process process, String hostAndPort, Path ca, Path token) {
        this.process = process;
        this.hostAndPort = hostAndPort;
        this.ca = ca;
        this.token = token;
    }

    /** Makes the certificates and the token in {@code dir}, starts the reference server and waits for its ready line. */
    static LoopbackTlsServer start(Path dir) throws IOException, InterruptedException {
        return start(dir, null);
    }

    /**
     * The same with a server whose forked workers have {@code defect} of {@code broken_worker.py}
     * (the suite's broken workers, run as {@code broken_worker.py DEFECT serve ...}); null: the reference server.
     */
    static LoopbackTlsServer start(Path dir, String defect) throws IOException, InterruptedException {
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key",
                "-out", "ca.pem", "-days", "2", "-subj", "/CN=conformance test ca");
        openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key",
                "-out", "server.csr", "-subj", "/CN=server");
        Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1\n");
        openssl(dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
                "-days", "2", "-extfile", "san.ext");
        Path token = Files.writeString(dir.resolve("token"), "conformance-token-0123456789abcdef\n");
        String python = System.getProperty("snakebridge.python", "python3");
        List<String> options = List.of("--tls-cert", dir.resolve("server.pem").toString(), "--tls-key", dir.resolve("server.key").toString(),
                "--token-file", token.toString());
        ProcessBuilder builder;
        if (defect == null) {
            builder = WorkerStarter.serverProcess(BridgeConfig.builder().python(python).build(), "127.0.0.1:0", options);
        } else {
            List<String> command = new ArrayList<>(List.of(python, Path.of("src/test/python/broken_worker.py").toAbsolutePath().toString(),
                    defect, "serve", "--listen", "127.0.0.1:0"));
            command.addAll(options);
            builder = new ProcessBuilder(command);
            builder.environment().put("PYTHONPATH", System.getProperty("snakebridge.worker.source"));
            builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        }
        Process process = builder.redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader events = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Matcher ready = READY.matcher(String.valueOf(events.readLine()));
        if (!ready.find()) {
            process.destroyForcibly();
            throw new IOException("the worker server did not start: exit " + process.waitFor());
        }
        Thread drain = new Thread(() -> events.lines().forEach(line -> { }), "server-events"); // its event pipe must not fill
        drain.setDaemon(true);
        drain.start();
        return new LoopbackTlsServer(process, ready.group(1), dir.resolve("ca.pem"), token);
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed: " + output);
        }
    }

    /** A driver configuration that reaches this server: host, trusted CA, token file. */
    BridgeConfig.Builder driverConfig() {
        return BridgeConfig.builder().hosts(hostAndPort).sslRootCert(ca).tokenFile(token);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy(); // SIGTERM: it ends, and its workers die with it
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
