package io.snakebridge.bench;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.SnakeBridge;
import io.snakebridge.WorkerStart;
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
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What a remote connection costs: connect, one call and close, to a worker server over loopback TCP
 * with TLS and a token (two TLS handshakes, the challenge, the fork), against the same with a local
 * {@code FORK} worker, in the same run. Certificates are made with openssl for the run.
 */
@State(Scope.Benchmark)
public class RemoteConnectBench {
    @Param({"REMOTE_TLS", "FORK"})
    public String where;

    private BridgeConfig config;
    private Process server;
    private Path dir;

    @Setup
    public void start() throws IOException, InterruptedException {
        if (where.equals("FORK")) {
            config = BridgeConfig.builder().workerStart(WorkerStart.FORK).build();
            return;
        }
        dir = Files.createTempDirectory("sb-remote-bench");
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=bench ca");
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=server");
        Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1\n");
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
                "-days", "1", "-extfile", "san.ext");
        Files.writeString(dir.resolve("token"), "bench-token-0123456789abcdef0123456789\n");
        server = WorkerStarter.serverProcess(BridgeConfig.defaults(), "127.0.0.1:0", List.of("--tls-cert", dir.resolve("server.pem").toString(),
                "--tls-key", dir.resolve("server.key").toString(), "--token-file", dir.resolve("token").toString()))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader events = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        java.util.regex.Matcher ready = java.util.regex.Pattern.compile("\"listen\": \"([^\"]+)\"").matcher(String.valueOf(events.readLine()));
        if (!ready.find()) {
            throw new IOException("the worker server did not start");
        }
        String listen = ready.group(1);
        Thread drain = new Thread(() -> events.lines().forEach(line -> { }), "bench-server-events"); // its pipe must not fill
        drain.setDaemon(true);
        drain.start();
        config = BridgeConfig.builder().hosts(listen).sslRootCert(dir.resolve("ca.pem")).tokenFile(dir.resolve("token")).build();
    }

    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed");
        }
    }

    @TearDown
    public void stop() throws InterruptedException {
        if (server != null) {
            server.destroy();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public double connectCallAndClose() {
        try (BridgeConnection py = SnakeBridge.connect(config)) {
            return py.call("math.sqrt", 2.0).asDouble();
        }
    }
}
