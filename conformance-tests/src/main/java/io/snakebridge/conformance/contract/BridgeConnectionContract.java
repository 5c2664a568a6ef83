package io.snakebridge.conformance.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.snakebridge.BridgeClosedException;
import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeException;
import io.snakebridge.CallTimeoutException;
import io.snakebridge.InvalidRefException;
import io.snakebridge.InvalidValueException;
import io.snakebridge.PyValue;
import io.snakebridge.PythonException;
import io.snakebridge.RefHandle;
import io.snakebridge.RefNotFoundException;
import io.snakebridge.SessionMismatchException;
import io.snakebridge.conformance.Requirement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The driver contract: extend it and supply {@link #connect()} to check a {@code BridgeConnection}
 * implementation against the client rules of PROTOCOL.md.
 */
public abstract class BridgeConnectionContract {

    /** A new connection with its own session. */
    protected abstract BridgeConnection connect();

    @Test
    @Tag("client")
    @Requirement("SES-5")
    void sessionIdsCarryAtLeast128RandomBits() {
        try (BridgeConnection py = connect()) {
            Set<String> ids = new HashSet<>();
            for (int i = 0; i < 50; i++) {
                ids.add(py.sessionId());
                py.resetSession();
            }
            assertThat(ids).hasSize(50);
            assertThat(ids).allSatisfy(id -> assertThat(id.replaceAll("[^0-9a-f]", "")).hasSizeGreaterThanOrEqualTo(32));
        }
    }

    @Test
    @Tag("client")
    @Requirement("CLIENT-1")
    void closedHandlesAndConnectionsFailFastAndClosingTwiceIsHarmless() {
        BridgeConnection py = connect();
        RefHandle ns = py.callRef("types.SimpleNamespace");
        ns.close();
        ns.close();
        assertThatThrownBy(() -> ns.getAttr("x")).isInstanceOf(InvalidRefException.class);
        RefHandle other = py.callRef("types.SimpleNamespace");
        py.close();
        py.close();
        assertThat(other.isClosed()).isTrue();
        assertThatThrownBy(() -> other.getAttr("x")).isInstanceOfSatisfying(InvalidRefException.class,
                e -> assertThat(e.reason()).isEqualTo(InvalidRefException.Reason.CLOSED_HANDLE));
        assertThatThrownBy(() -> py.call("len", "x")).isInstanceOfSatisfying(BridgeClosedException.class,
                e -> assertThat(e.sqlState()).isEqualTo("08003"));
    }

    @Test
    @Tag("client")
    @Requirement("CLIENT-2")
    void aRefOfOneConnectionIsNeverUsedOnAnother() {
        try (BridgeConnection a = connect(); BridgeConnection b = connect()) {
            RefHandle mine = a.callRef("types.SimpleNamespace");
            mine.setAttr("x", 1);
            assertThatThrownBy(() -> b.call("getattr", mine, "x")).isInstanceOfSatisfying(SessionMismatchException.class, e -> {
                assertThat(e.expectedSessionId()).isEqualTo(b.sessionId());
                assertThat(e.actualSessionId()).isEqualTo(a.sessionId());
            });
            assertThat(mine.getAttr("x").asLong()).isEqualTo(1);
        }
    }

    @Test
    @Tag("client")
    @Requirement("CLIENT-3")
    void aResetSessionLeavesNoRefsAndOldHandlesFailFast() {
        try (BridgeConnection py = connect()) {
            RefHandle old = py.callRef("types.SimpleNamespace");
            py.callRef("types.SimpleNamespace");
            assertThat(py.resetSession()).isEqualTo(2);
            assertThat(py.workerLiveRefs()).isZero();
            assertThatThrownBy(() -> old.getAttr("x")).isInstanceOfSatisfying(RefNotFoundException.class,
                    e -> assertThat(e.reason()).isEqualTo(RefNotFoundException.Reason.SESSION_RELEASED));
        }
    }

    @Test
    @Tag("client")
    @Requirement("CLIENT-4")
    void errorsAreClassifiedByCodeIntoDistinctTypes() {
        try (BridgeConnection py = connect()) {
            assertThatThrownBy(() -> py.call("operator.truediv", 1, 0)).isInstanceOfSatisfying(PythonException.class,
                    e -> assertThat(e.code()).isEqualTo("python_exception"));
            RefHandle ns = py.callRef("types.SimpleNamespace");
            py.resetSession();
            assertThatThrownBy(() -> ns.getAttr("x")).isInstanceOfSatisfying(RefNotFoundException.class,
                    e -> assertThat(e.code()).isEqualTo("ref_not_found"));
        }
    }

    @Test
    @Tag("client")
    @Requirement("CLIENT-5")
    void responsesThatWouldExhaustASmallHeapFailOnlyTheirOwnCall() {
        try (BridgeConnection py = connect()) {
            // 60 MB of JSON that parses into twenty million objects; twenty 60 MB attachments, each within a frame
            assertThatThrownBy(() -> py.call("eval", "[[]] * 20_000_000")).isInstanceOfSatisfying(InvalidValueException.class,
                    e -> assertThat(e.code()).isEqualTo("invalid_value"));
            assertThatThrownBy(() -> py.call("eval", "[bytes(60_000_000)] * 20")).isInstanceOfSatisfying(InvalidValueException.class,
                    e -> assertThat(e.code()).isEqualTo("invalid_value"));
            assertThat(py.call("len", "four").asLong()).isEqualTo(4);
        }
    }

    /**
     * Pipelined pairs of 2 ms sleeps, the first of each pair with a timeout of 1 to 3 ms, so that
     * some timeouts fire as their call's answer is already on the way, the second with none: every
     * call completes or fails with its own timeout, and a call without one never fails. (A driver
     * whose SIGINT names no request interrupts the call behind: about 3% of these calls on the
     * reference machine.)
     */
    @Test
    @Tag("client")
    @Requirement("CANCEL-4")
    @Timeout(120)
    void aTimeoutRacingItsAnswerNeverInterruptsAnotherCall() {
        List<String> misdirected = new ArrayList<>();
        int calls = 0;
        int timedOut = 0;
        try (BridgeConnection py = connect()) {
            for (int round = 0; round < RACE_ROUNDS; round++) {
                List<CompletableFuture<PyValue>> timed = new ArrayList<>();
                List<CompletableFuture<PyValue>> untimed = new ArrayList<>();
                for (int i = 0; i < RACE_PAIRS_PER_ROUND; i++) {
                    Duration timeout = Duration.ofNanos(1_000_000 + 250_000 * (i % 9));
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
                calls += timed.size() + untimed.size();
            }
            assertThat(py.call("abs", -1).asLong()).as("the connection is intact").isEqualTo(1);
        }
        assertThat(misdirected).as("of %d calls (%d timed out, as they may), those interrupted by a timeout meant for another",
                calls, timedOut).isEmpty();
    }

    private static final int RACE_ROUNDS = 20;
    private static final int RACE_PAIRS_PER_ROUND = 100;

    private static Throwable failureOf(CompletableFuture<PyValue> call) {
        try {
            call.join();
            return null;
        } catch (CompletionException e) {
            return e.getCause();
        }
    }
}
