package io.snakebridge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ServeCommandTest {
    private final StringWriter out = new StringWriter();

    private CompletableFuture<Integer> serve(String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(new StringWriter(), true));
        String[] all = new String[args.length + 3];
        all[0] = "serve";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--python";
        all[args.length + 2] = System.getProperty("snakebridge.python", "python3");
        return CompletableFuture.supplyAsync(() -> cli.execute(all));
    }

    @Test
    void servesInTheForegroundPrintsItsReadyEventAndEndsCleanlyOnSigterm(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("s.sock");
        CompletableFuture<Integer> run = serve("--listen", "unix:" + socket, "--preload", "json,colorsys");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!out.toString().contains("ready") && System.nanoTime() < deadline && !run.isDone()) {
            Thread.sleep(20);
        }
        JsonNode ready = new ObjectMapper().readTree(out.toString().lines().findFirst().orElseThrow());
        assertThat(ready.get("preloaded")).hasSize(2);
        assertThat(Files.exists(socket)).isTrue();
        ProcessHandle.of(ready.get("pid").asLong()).orElseThrow().destroy(); // SIGTERM
        assertThat(run.get(30, TimeUnit.SECONDS)).isZero();
        assertThat(Files.exists(socket)).as("a clean end removes the socket").isFalse();
    }

    @Test
    void aPreloadThatFailsEndsTheCommandWithTheServersStartError(@TempDir Path dir) throws Exception {
        assertThat(serve("--listen", "unix:" + dir.resolve("s.sock"), "--preload", "no_such_module_to_serve")
                .get(30, TimeUnit.SECONDS)).isEqualTo(2);
    }

    @Test
    void anAddressThatIsNeitherAUnixSocketNorHostAndPortIsAUsageError() throws Exception {
        assertThat(serve("--listen", "localhost").get(30, TimeUnit.SECONDS)).isEqualTo(CallCommand.USAGE_ERROR);
    }

    @Test
    void aNonLoopbackAddressWithoutTlsAndATokenEndsWithTheServersStartError() throws Exception {
        assertThat(serve("--listen", "0.0.0.0:0").get(30, TimeUnit.SECONDS)).isEqualTo(2); // REMOTE-1: it never listened
    }

    @Test
    void servesRemoteClientsOnLoopbackWithATokenAndLimitsAndReportsTheAddressItListensAt(@TempDir Path dir) throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "cli-test-token-0123456789abcdef\n");
        CompletableFuture<Integer> run = serve("--listen", "127.0.0.1:0", "--token-file", token.toString(), "--max-workers", "2",
                "--memory-limit", "2147483648", "--max-refs", "100", "--idle-timeout", "300", "--allow-modules", "math,json",
                "--deny-modules", "json.decoder");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!out.toString().contains("ready") && System.nanoTime() < deadline && !run.isDone()) {
            Thread.sleep(20);
        }
        JsonNode ready = new ObjectMapper().readTree(out.toString().lines().findFirst().orElseThrow());
        assertThat(ready.get("listen").asText()).matches("127\\.0\\.0\\.1:[0-9]+");
        assertThat(ready.get("limits")).as("the server-side limits reached the server (REMOTE-6)").hasToString(
                "{\"memory_limit_bytes\":2147483648,\"max_refs\":100,\"idle_timeout_seconds\":300.0,"
                        + "\"module_policy\":{\"allow_modules\":[\"math\",\"json\"],\"deny_modules\":[\"json.decoder\"]}}");
        ProcessHandle.of(ready.get("pid").asLong()).orElseThrow().destroy(); // SIGTERM
        assertThat(run.get(30, TimeUnit.SECONDS)).isZero();
    }
}
