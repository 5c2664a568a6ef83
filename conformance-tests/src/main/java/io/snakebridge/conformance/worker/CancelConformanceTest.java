package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.Requirement;
import io.snakebridge.shim.Signal;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class CancelConformanceTest extends WorkerConformance {

    @Test
    @Tag("optional")
    @Requirement("CANCEL-1")
    void sigintInterruptsUserCodeWithCancelledAndTheSessionSurvives() {
        assumeCapability("cancel");
        JsonNode ns = newRef(s1, 1);
        CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS).execute(() -> worker.process().signal(Signal.INT));
        error(call(s1, "time.sleep", 30), "cancelled");
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
