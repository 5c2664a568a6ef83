package io.snakebridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real worker server on 127.0.0.1 for tests of remote workers (PROTOCOL.md REMOTE-*), with TLS from
 * certificates made by openssl for this run (no key is committed) and a token file.
 */
final class RemoteServer implements AutoCloseable {
    static final Path WORKER_SOURCE = Path.of("../python/src/main/python").toAbsolutePath().normalize();
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A CA, a server certificate it signs for 127.0.0.1 and localhost, a client certificate it signs, and an unrelated CA. */
    record Certificates(Path dir) {
        Path ca() {
            return dir.resolve("ca.pem");
        }

        Path otherCa() {
            return dir.resolve("other-ca.pem");
        }

        Path token() {
            return dir.resolve("token");
        }

        Path wrongToken() {
            return dir.resolve("wrong-token");
        }

        static Certificates make(Path dir) throws IOException, InterruptedException {
            for (String ca : List.of("ca", "other-ca")) {
                openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "2",
                        "-subj", "/CN=test " + ca);
            }
            Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
            for (String name : List.of("server", "client")) {
                openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name);
                openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                        "-out", name + ".pem", "-days", "2", "-extfile", "san.ext");
            }
            Files.writeString(dir.resolve("token"), "a-test-token-0123456789abcdef0123\n");
            Files.writeString(dir.resolve("wrong-token"), "not-the-token-0123456789abcdef\n");
            return new Certificates(dir);
        }

        static void openssl(Path dir, String... args) throws IOException, InterruptedException {
            List<String> command = new ArrayList<>(List.of("openssl"));
            command.addAll(List.of(args));
            Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException("openssl " + String.join(" ", args) + " failed: " + output);
            }
        }
    }

    private final Process process;
    private final BufferedReader events;
    private final Path log;
    final int port;
    final long pid;

    private RemoteServer(Process process, BufferedReader events, Path log, JsonNode ready) {
        this.process = process;
        this.events = events;
        this.log = log;
        this.port = Integer.parseInt(ready.get("listen").asText().replaceAll(".*:", ""));
        this.pid = ready.get("pid").asLong();
    }

    /** A TLS server with the token, plus {@code extra} arguments ({@code --max-workers 1}). */
    static RemoteServer tls(Certificates certs, String... extra) {
        List<String> args = new ArrayList<>(List.of("--tls-cert", certs.dir().resolve("server.pem").toString(),
                "--tls-key", certs.dir().resolve("server.key").toString(), "--token-file", certs.token().toString()));
        args.addAll(List.of(extra));
        return start("127.0.0.1:0", args);
    }

    /** On 127.0.0.1 at {@code port} (0: any). */
    static RemoteServer start(String listen, List<String> args) {
        List<String> command = new ArrayList<>(List.of(System.getProperty("snakebridge.python", "python3"), "-m", "snakebridge_worker",
                "serve", "--listen", listen));
        command.addAll(args);
        try {
            // The server's log is kept for an assertion's message: a server that died says why.
            Path log = Files.createTempFile("snakebridge-server-", ".log");
            log.toFile().deleteOnExit();
            ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
            builder.environment().put("PYTHONPATH", WORKER_SOURCE + java.io.File.pathSeparator + Workers.FIXTURES);
            Process process = builder.start();
            BufferedReader events = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String ready = events.readLine();
            if (ready == null) {
                throw new IOException("the server did not start: exit " + process.waitFor());
            }
            return new RemoteServer(process, events, log, JSON.readTree(ready));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    String host() {
        return "127.0.0.1:" + port;
    }

    /** The next worker-end event, e.g. {@code {"pid": 12, "signal": 9}}. */
    JsonNode nextEvent() throws IOException {
        return JSON.readTree(events.readLine());
    }

    /** The end event of worker {@code pid}, skipping those of other workers (other tests share this server). */
    JsonNode endOf(long pid) throws IOException {
        JsonNode event;
        do {
            event = nextEvent();
        } while (event.path("pid").asLong() != pid);
        return event;
    }

    /** The last lines of the server's log (its stderr), for an assertion's message. */
    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(the server's log cannot be read: " + e.getMessage() + ")";
        }
    }

    boolean alive() {
        return process.isAlive();
    }

    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy(); // SIGTERM: it ends, and its workers die with it
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            kill();
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // a temp file: deleteOnExit has it too
        }
    }
}
