package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.Requirement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cancels by SIGINT (CANCEL-*). The suite gives every worker a cancel word (CANCEL-2) and names
 * each SIGINT's target in it; a worker that does not declare {@code cancel_target} ignores the word.
 */
class CancelConformanceTest extends WorkerConformance {

    @Test
    @Tag("optional")
    @Requirement("CANCEL-1")
    @Timeout(60)
    void sigintInterruptsUserCodeWithCancelledAndTheSessionSurvives(@TempDir Path dir) throws Exception {
        assumeCapability("cancel");
        assumeTheWorkerSeesFilesIn(dir);
        JsonNode ns = newRef(s1, 1);
        Path mark = dir.resolve("running");
        CompletableFuture<Boolean> interrupted = interruptOnceMarked(mark);
        error(call(s1, "exec", markThenSleep(mark)), "cancelled");
        assertThat(interrupted.join()).isTrue();
        assertThat(ok(getX(s1, ns)).asInt()).isEqualTo(1);
    }

    /** The SIGINT is taken while the worker awaits the next request (the worker says so in its cancel word). */
    @Test
    @Tag("optional")
    @Requirement("CANCEL-1")
    void sigintBetweenRequestsIsIgnored() {
        assumeCapability("cancel");
        ok(worker.request("ping", Map.of()));
        long answered = worker.lastId();
        worker.interrupt(answered);
        worker.awaitInterruptTaken(answered);
        assertThat(ok(worker.request("ping", Map.of())).asText()).isEqualTo("pong");
    }

    @Test
    @Tag("optional")
    @Requirement("CANCEL-2")
    void aCancelWordIsMappedThenRemovedAndUserCodeSeesNeitherItsFileNorItsVariable() {
        assumeCapability("cancel_target");
        assumeLocalWorker("a remote worker's cancel word is shared memory its server makes (REMOTE-4): the suite "
                + "hands over no file, and cannot read the targets the worker writes back");
        assertThat(worker.cancelWordFile()).as("the worker removes the file once mapped").doesNotExist();
        assertThat(ok(call(s1, "os.environ.get", "SNAKEBRIDGE_CANCEL_WORD")).isNull()).isTrue();
        long answered = worker.lastId();
        worker.interrupt(answered);
        worker.awaitInterruptTaken(answered); // the worker writes back each SIGINT's target
    }

    /**
     * The race a pipelining client meets, in slow motion: a SIGINT whose target has answered arrives
     * while the next request's user code runs. That request goes on, and answers its own result.
     */
    @Test
    @Tag("optional")
    @Requirement("CANCEL-3")
    @Timeout(60)
    void aSigintForARequestThatHasAnsweredIsDroppedAndTheRunningRequestCompletes(@TempDir Path dir) throws Exception {
        assumeCapability("cancel_target");
        assumeTheWorkerSeesFilesIn(dir);
        ok(worker.request("ping", Map.of()));
        long answered = worker.lastId();
        Path mark = dir.resolve("running");
        Path release = dir.resolve("release");
        long running = worker.send("call", fields("session_id", s1, "function", "exec", "args", List.of(markThenAwait(mark, release))));
        awaitFile(mark);
        worker.interrupt(answered);
        worker.awaitInterruptTaken(answered);
        Files.createFile(release);
        JsonNode response = worker.readFrame();
        assertThat(response.path("id").asLong()).isEqualTo(running);
        ok(response);
    }

    /**
     * A SIGINT for a request the worker has not read yet is kept: that request answers
     * {@code cancelled} as its user code starts (it would sleep 5 s), and the next runs as usual.
     */
    @Test
    @Tag("optional")
    @Requirement("CANCEL-3")
    @Timeout(60)
    void aSigintForARequestNotYetStartedCancelsItWhenItsUserCodeStarts() {
        assumeCapability("cancel_target");
        long next = worker.lastId() + 1;
        worker.interrupt(next);
        worker.awaitInterruptTaken(next);
        JsonNode response = call(s1, "exec", "import time\ntime.sleep(5)");
        assertThat(response.path("id").asLong()).isEqualTo(next);
        error(response, "cancelled");
        assertThat(ok(call(s1, "abs", -1)).asInt()).isEqualTo(1);
    }
}
