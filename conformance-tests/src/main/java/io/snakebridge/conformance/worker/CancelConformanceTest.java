package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.Requirement;
import io.snakebridge.shim.Signal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class CancelConformanceTest extends WorkerConformance {

    /**
     * A SIGINT between requests is ignored (CANCEL-1), so the signal waits until the call's user code
     * has made {@code mark}, never a fixed time; if the mark never comes, no signal is sent and the
     * call sleeps its 30 s, so the test fails instead of passing by luck.
     */
    @Test
    @Tag("optional")
    @Requirement("CANCEL-1")
    @Timeout(60)
    void sigintInterruptsUserCodeWithCancelledAndTheSessionSurvives(@TempDir Path dir) {
        assumeCapability("cancel");
        JsonNode ns = newRef(s1, 1);
        Path mark = dir.resolve("running");
        CompletableFuture<Boolean> interrupted = CompletableFuture.supplyAsync(() -> {
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
            worker.process().signal(Signal.INT);
            return true;
        });
        String markThenSleep = "open(" + pythonString(mark.toString()) + ", 'w').close()\nimport time\ntime.sleep(30)";
        error(call(s1, "exec", markThenSleep), "cancelled");
        assertThat(interrupted.join()).isTrue();
        assertThat(ok(getX(s1, ns)).asInt()).isEqualTo(1);
    }

    @Test
    @Tag("optional")
    @Requirement("CANCEL-1")
    void sigintBetweenRequestsIsIgnored() throws Exception {
        assumeCapability("cancel");
        worker.process().signal(Signal.INT);
        Thread.sleep(200);
        assertThat(ok(worker.request("ping", Map.of())).asText()).isEqualTo("pong");
    }

    private static String pythonString(String text) {
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
