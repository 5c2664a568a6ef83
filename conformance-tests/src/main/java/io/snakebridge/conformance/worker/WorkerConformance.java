package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.ProtocolClient;
import io.snakebridge.conformance.RuleReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;

/**
 * Base of the worker suite. A test class shares one handshaken worker (starting one per test would
 * triple the run time); every test gets session ids no other test used, and a worker that an
 * earlier test left dead or out of step is replaced first, so one failure never spills into the
 * next test. Tests that end the worker on purpose start their own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WorkerConformance {
    private static final AtomicInteger SESSIONS = new AtomicInteger();
    String s1;
    String s2;
    ProtocolClient worker;

    @BeforeAll
    void startWorker() {
        worker = ProtocolClient.connect();
    }

    @BeforeEach
    void freshSessionsOnAHealthyWorker() {
        int n = SESSIONS.incrementAndGet();
        s1 = "s1-" + n;
        s2 = "s2-" + n;
        if (!healthy()) {
            worker.kill();
            worker.close();
            worker = ProtocolClient.connect();
        }
    }

    @AfterAll
    void stopWorker() {
        worker.close();
    }

    private boolean healthy() {
        try {
            return worker.isAlive() && "pong".equals(worker.request("ping", Map.of()).path("result").asText());
        } catch (AssertionError e) {
            return false;
        }
    }

    /**
     * Reports the test not applicable when the worker is a remote server's (its rule is about a
     * process of this machine, a child of the suite): the report lists the rule as such, with
     * {@code why}, and the run certifies nothing about it.
     */
    static void assumeLocalWorker(String why) {
        Assumptions.assumeFalse(ProtocolClient.remote(), RuleReport.NOT_APPLICABLE + why);
    }

    /**
     * Reports the test not applicable when the worker cannot see the files the test makes in
     * {@code dir}, through which it meets user code (a mark user code makes, a file that releases it):
     * a remote server on another machine. A server on this machine sees them.
     */
    void assumeTheWorkerSeesFilesIn(Path dir) throws IOException {
        if (!ProtocolClient.remote()) {
            return;
        }
        Path probe = Files.createTempFile(dir, "seen-by-the-worker-", "");
        boolean seen = ok(call(s1, "os.path.exists", probe.toString())).asBoolean();
        Files.delete(probe);
        Assumptions.assumeTrue(seen, RuleReport.NOT_APPLICABLE + "the test meets user code through files in " + dir
                + ", which the remote worker does not see (its server runs on another machine)");
    }

    void assumeCapability(String capability) {
        Assumptions.assumeTrue(worker.capabilities().contains(capability),
                "the worker does not declare capability '" + capability + "'");
    }

    static Map<String, Object> fields(Object... keyValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put((String) keyValues[i], keyValues[i + 1]);
        }
        return map;
    }

    /** The response to a version-1 handshake that asks for {@code limits} (HS-5). */
    static JsonNode handshakeWithLimits(ProtocolClient client, Map<String, ?> limits) {
        return client.request("handshake", fields("protocol_version", 1, "min_supported_version", 1, "limits", limits));
    }

    JsonNode call(String session, String function, Object... args) {
        return worker.request("call", session, fields("function", function, "args", Arrays.asList(args)));
    }

    JsonNode callWith(String session, String function, List<?> args, Map<String, ?> kwargs, String want) {
        return worker.request("call", session, fields("function", function, "args", args, "kwargs", kwargs, "want", want));
    }

    static JsonNode ok(JsonNode response) {
        assertThat(response.path("ok").asBoolean()).as("expected ok=true: %s", response).isTrue();
        assertThat(response.has("result")).as("an ok response carries result: %s", response).isTrue();
        return response.get("result");
    }

    static JsonNode error(JsonNode response, String code) {
        assertThat(response.path("ok").asBoolean(true)).as("expected ok=false: %s", response).isFalse();
        JsonNode error = response.get("error");
        assertThat(error).as("an error response carries error: %s", response).isNotNull();
        assertThat(error.path("code").asText()).as("error code of %s", response).isEqualTo(code);
        assertThat(error.path("message").isTextual()).as("error message of %s", response).isTrue();
        return error;
    }

    /** A ref made in {@code session} (a fresh SimpleNamespace with x = value). */
    JsonNode newRef(String session, int value) {
        JsonNode ref = ok(worker.request("call", session,
                fields("function", "types.SimpleNamespace", "kwargs", Map.of("x", value))));
        assertThat(ref.path("__type__").asText()).isEqualTo("ref");
        return ref;
    }

    JsonNode getX(String session, Object ref) {
        return worker.request("get_attr", session, fields("object", ref, "name", "x"));
    }

    /**
     * Sends the worker SIGINT once user code has made {@code mark}: a SIGINT between requests is
     * ignored (CANCEL-1), so the signal waits for the call, never a fixed time; if the mark never
     * comes, no signal is sent and the call sleeps its 30 s, so the test fails instead of passing by luck.
     */
    CompletableFuture<Boolean> interruptOnceMarked(Path mark) {
        return CompletableFuture.supplyAsync(() -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(mark)) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            worker.interrupt(worker.lastId()); // the call that made the mark (CANCEL-2)
            return true;
        });
    }

    /** Python source (for {@code exec}) that makes {@code mark}, then sleeps 30 s. */
    static String markThenSleep(Path mark) {
        return "open(" + pythonString(mark) + ", 'w').close()\nimport time\ntime.sleep(30)";
    }

    int liveRefs(String session) {
        return ok(worker.request("session_info", session, Map.of())).path("live_refs").asInt();
    }

    /**
     * Python source (for {@code exec}) that creates {@code mark} once it runs, then waits until
     * {@code release} exists (30 s at most): user code that is running for as long as a test needs.
     */
    static String markThenAwait(Path mark, Path release) {
        return "import os, time\nopen(" + pythonString(mark) + ", 'w').close()\ndeadline = time.monotonic() + 30\n"
                + "while not os.path.exists(" + pythonString(release) + ") and time.monotonic() < deadline:\n    time.sleep(0.002)";
    }

    static String pythonString(Path path) {
        return "'" + path.toString().replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /** Waits until {@code file} exists (user code made its mark); fails after {@link ProtocolClient#ANSWER_TIMEOUT}. */
    static void awaitFile(Path file) throws InterruptedException {
        long deadline = System.nanoTime() + ProtocolClient.ANSWER_TIMEOUT.toNanos();
        while (!Files.exists(file)) {
            assertThat(System.nanoTime()).as("%s to appear", file).isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(2);
        }
    }
}
