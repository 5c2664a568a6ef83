package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.Requirement;
import io.snakebridge.shim.Signal;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class CancelConformanceTest extends WorkerConformance {

    @Test
    @Tag("optional")
    @Requirement("CANCEL-1")
    @Timeout(60)
    void sigintInterruptsUserCodeWithCancelledAndTheSessionSurvives(@TempDir Path dir) {
        assumeCapability("cancel");
        JsonNode ns = newRef(s1, 1);
        Path mark = dir.resolve("running");
        CompletableFuture<Boolean> interrupted = interruptOnceMarked(mark);
        error(call(s1, "exec", markThenSleep(mark)), "cancelled");
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
}
