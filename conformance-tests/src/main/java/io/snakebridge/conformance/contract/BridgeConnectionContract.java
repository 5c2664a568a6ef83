package io.snakebridge.conformance.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.snakebridge.BridgeClosedException;
import io.snakebridge.BridgeConnection;
import io.snakebridge.InvalidRefException;
import io.snakebridge.InvalidValueException;
import io.snakebridge.PythonException;
import io.snakebridge.RefHandle;
import io.snakebridge.RefNotFoundException;
import io.snakebridge.SessionMismatchException;
import io.snakebridge.conformance.Requirement;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

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
}
