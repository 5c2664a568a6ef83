package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A cancel or timeout interrupts the request it was meant for and no other (PROTOCOL.md CANCEL-2,
 * CANCEL-3): a timeout that fires just as its call's answer is on the way must never land in the
 * call pipelined behind it.
 */
class TargetedCancelTest {
    /** Pipelined calls per start mode: enough that a misdirected interrupt shows up on code that does not target. */
    private static final int CALLS = 4000;
    private static final int ROUND = 200;

    /**
     * Pipelined pairs of short sleeps, the first of each pair with a timeout of about the sleep's
     * length (so some fire as the answer is already on its way), the second with none. Every call
     * completes or fails with its own timeout; a call without a timeout never fails.
     */
    @ParameterizedTest
    @EnumSource(WorkerStart.class)
    @Timeout(120)
    void aTimeoutRacingItsAnswerNeverInterruptsTheNextPipelinedCall(WorkerStart mode) {
        List<String> misdirected = new ArrayList<>();
        int timedOut = 0;
        try (WorkerConnection py = Workers.connect(Workers.config().workerStart(mode))) {
            for (int done = 0; done < CALLS; done += ROUND) {
                List<CompletableFuture<PyValue>> timed = new ArrayList<>();
                List<CompletableFuture<PyValue>> untimed = new ArrayList<>();
                for (int i = 0; i < ROUND / 2; i++) {
                    Duration timeout = Duration.ofNanos(1_000_000 + 250_000 * (i % 9)); // 1 to 3 ms around a 2 ms sleep
                    timed.add(py.withCallTimeout(timeout, c -> c.callAsync("time.sleep", 0.002)));
                    untimed.add(py.callAsync("time.sleep", 0.002));
                }
                for (CompletableFuture<PyValue> call : timed) {
                    Throwable failure = failureOf(call);
                    if (failure instanceof CallTimeoutException) {
                        timedOut++;
                    } else if (failure != null) {
                        misdirected.add("a call with a timeout failed with " + failure);
                    }
                }
                for (CompletableFuture<PyValue> call : untimed) {
                    Throwable failure = failureOf(call);
                    if (failure != null) {
                        misdirected.add("a call without a timeout failed with " + failure);
                    }
                }
            }
            assertThat(py.call("abs", -1).asLong()).as("the connection is intact").isEqualTo(1);
        }
        assertThat(misdirected).as("calls of %d interrupted by a timeout meant for another (%d timed out, as they may)",
                CALLS, timedOut).isEmpty();
    }

    private static Throwable failureOf(CompletableFuture<PyValue> call) {
        try {
            call.join();
            return null;
        } catch (CompletionException e) {
            return e.getCause();
        }
    }
}
