package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Server-side limits (PROTOCOL.md REMOTE-6..9, README "Remote workers"): what a worker server bounds
 * with {@code --memory-limit}, {@code --max-refs}, {@code --allow-modules}/{@code --deny-modules} and
 * {@code --idle-timeout}, a client narrows and never widens. Real servers on 127.0.0.1 over TLS.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RemoteLimitsTest {
    private static final long GIB = 1L << 30;
    private static final String IDLE_SECONDS = "2";

    @TempDir
    static Path dir;
    static RemoteServer.Certificates certs;
    /** 2 GiB of address space and 5 refs a session, whatever a client asks. */
    static RemoteServer bounded;
    /** Requests reach math, json and statistics, but not json.decoder, whatever a client asks. */
    static RemoteServer confined;

    @BeforeAll
    static void startServers() throws Exception {
        certs = RemoteServer.Certificates.make(dir);
        bounded = RemoteServer.tls(certs, "--memory-limit", String.valueOf(2 * GIB), "--max-refs", "5");
        confined = RemoteServer.tls(certs, "--allow-modules", "math,json,statistics", "--deny-modules", "json.decoder");
    }

    @AfterAll
    static void stopServers() throws Exception {
        bounded.close();
        confined.close();
    }

    private static BridgeConfig.Builder remote(RemoteServer server) {
        return BridgeConfig.builder().hosts(server.host()).sslRootCert(certs.ca()).tokenFile(certs.token());
    }

    @Test
    void aClientAskingForALargerMemoryLimitGetsTheServersAndAMemoryErrorSaysTheLimitIsTheServers() {
        try (WorkerConnection py = Workers.connect(remote(bounded).memoryLimitBytes(8 * GIB))) {
            assertThat(py.executor().hello().raw().path("server_limits").path("memory_limit_bytes").asLong())
                    .as("the handshake tells the client").isEqualTo(2 * GIB);
            assertThat(py.call("resource.getrlimit", py.getAttr("resource.RLIMIT_AS").asLong()).asList(Long.class))
                    .containsExactly(2 * GIB, 2 * GIB);
            assertThatThrownBy(() -> py.call("bytearray", 3 * GIB))
                    .isInstanceOfSatisfying(PythonException.class, e -> {
                        assertThat(e.sqlState()).as("as a local MemoryError").isEqualTo("38000");
                        assertThat(e.pythonType()).isEqualTo("MemoryError");
                    })
                    .hasMessageContaining("limited to " + 2 * GIB + " bytes by the worker server's --memory-limit");
            assertThatThrownBy(() -> py.call("resource.setrlimit", py.getAttr("resource.RLIMIT_AS").asLong(), List.of(-1, -1)))
                    .as("the worker's own code cannot raise it").isInstanceOf(PythonException.class)
                    .hasMessageContaining("not allowed to raise maximum limit");
        }
    }

    @Test
    void aClientAskingForASmallerMemoryLimitGetsItsOwn() {
        try (WorkerConnection py = Workers.connect(remote(bounded).memoryLimitBytes(GIB))) {
            assertThat(py.call("resource.getrlimit", py.getAttr("resource.RLIMIT_AS").asLong()).asList(Long.class))
                    .containsExactly(GIB, GIB);
        }
    }

    @Test
    void theServersMaxRefsBindsAClientThatAsksForMoreAndItsRefusalNamesTheServer() {
        try (WorkerConnection py = Workers.connect(remote(bounded).maxRefs(1_000))) {
            for (int i = 0; i < 5; i++) {
                py.callRef("object");
            }
            assertThat(py.liveRefs()).isEqualTo(5);
            assertThatThrownBy(() -> py.callRef("object"))
                    .isInstanceOfSatisfying(RefLimitExceededException.class, e -> {
                        assertThat(e.sqlState()).as("as a local ref limit").isEqualTo("54000");
                        assertThat(e.limit()).isEqualTo(5);
                    })
                    .hasMessageContaining("the most the worker server allows a session (serve --max-refs 5)")
                    .message().doesNotContain("BridgeConfig");
            assertThat(py.resetSession()).isEqualTo(5);
            for (int i = 0; i < 5; i++) {
                py.callRef("object");
            }
            assertThatThrownBy(() -> py.callRef("object")).as("a reset does not lift it").isInstanceOf(RefLimitExceededException.class);
        }
    }

    @Test
    void aClientAllowListNamingModulesOutsideTheServersPolicyDoesNotReachThem() {
        try (WorkerConnection py = Workers.connect(remote(confined).allowModules("os", "json", "math", "builtins"))) {
            assertThat(py.call("math.sqrt", 16.0).asDouble()).isEqualTo(4.0);
            assertThatThrownBy(() -> py.call("os.getcwd"))
                    .isInstanceOfSatisfying(ModuleNotAllowedException.class, e -> {
                        assertThat(e.sqlState()).as("as a local policy refusal").isEqualTo("42501");
                        assertThat(e.module()).isEqualTo("os");
                    })
                    .hasMessageContaining("outside the worker server's module policy (serve --allow-modules math,json,statistics")
                    .hasMessageContaining("which no client can widen");
            assertThatThrownBy(() -> py.call("exec", "import os")).isInstanceOf(ModuleNotAllowedException.class);
            assertThatThrownBy(() -> py.call("json.decoder.scanstring", "\"a\"", 1)).isInstanceOf(ModuleNotAllowedException.class);
        }
    }

    @Test
    void noOpOfTheApiReachesPastTheServersPolicy() {
        try (WorkerConnection py = Workers.connect(remote(confined))) {
            assertThatThrownBy(() -> py.prepare("os.getcwd")).isInstanceOf(ModuleNotAllowedException.class);
            assertThatThrownBy(() -> py.getAttrRef("json.decoder")).isInstanceOf(ModuleNotAllowedException.class);
            assertThatThrownBy(() -> py.getAttr("json.codecs")).as("an attribute step to another module").isInstanceOf(ModuleNotAllowedException.class);
            assertThatThrownBy(() -> py.getAttr("json.loads.__globals__")).as("private names lead around it").isInstanceOf(ModuleNotAllowedException.class);
            RefHandle statistics = py.getAttrRef("statistics");
            assertThatThrownBy(() -> statistics.call("reduce")).as("judged by the defining module, functools").isInstanceOf(ModuleNotAllowedException.class);
            assertThatThrownBy(() -> py.callAsync("os.getcwd").join()).hasCauseInstanceOf(ModuleNotAllowedException.class);
            py.resetSession();
            assertThatThrownBy(() -> py.call("os.getcwd")).as("after a reset").isInstanceOf(ModuleNotAllowedException.class);
            assertThat(py.call("json.dumps", Map.of("a", 1)).asString()).isEqualTo("{\"a\": 1}");
        }
    }

    @Test
    void aWorkerWithNoRequestForTheIdleTimeoutIsClosedAndItsNextUseIs08006SayingWhy() throws Exception {
        try (RemoteServer idle = RemoteServer.tls(certs, "--idle-timeout", IDLE_SECONDS);
                WorkerConnection py = Workers.connect(remote(idle))) {
            assertThat(py.executor().hello().raw().path("server_limits").path("idle_timeout_seconds").asDouble()).isEqualTo(2.0);
            CompletableFuture<Void> ended = new CompletableFuture<>();
            py.executor().onWorkerExit(() -> ended.complete(null)); // what a pool evicts by
            long pid = py.call("os.getpid").asLong();
            ended.get(60, TimeUnit.SECONDS);
            assertThat(idle.endOf(pid)).hasToString("{\"pid\":" + pid + ",\"exit_code\":75}");
            assertThatThrownBy(() -> py.call("math.sqrt", 1.0)).isInstanceOfSatisfying(WorkerCrashedException.class, e -> {
                assertThat(e.sqlState()).isEqualTo("08006");
                assertThat(e.exitDescription()).isEqualTo(
                        "closed by its server: no request came within the server's --idle-timeout (exit code 75)");
            });
        }
    }

    @Test
    void aCallOrACallbackThatRunsLongerThanTheIdleTimeoutIsNotIdleness() throws Exception {
        long longerThanIdle = Duration.ofSeconds(Long.parseLong(IDLE_SECONDS)).toMillis() * 3 / 2;
        try (RemoteServer idle = RemoteServer.tls(certs, "--idle-timeout", IDLE_SECONDS);
                WorkerConnection py = Workers.connect(remote(idle))) {
            assertThat(py.call("time.sleep", longerThanIdle / 1000.0).isNone()).isTrue();
            java.util.function.Supplier<String> slow = () -> {
                try {
                    Thread.sleep(longerThanIdle); // the client is busy in its callback, not idle
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "done";
            };
            assertThat(py.call("sb_fixtures.apply", slow).asString()).isEqualTo("done");
            assertThat(py.call("math.sqrt", 4.0).asDouble()).isEqualTo(2.0);
        }
    }
}
