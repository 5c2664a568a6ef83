package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A Java listener Python keeps and calls during later calls (PROTOCOL.md CB-6). */
class ExportedCallbackTest extends SharedWorkerTest {

    @AfterEach
    void forgetListeners() {
        py.call("sb_fixtures.unsubscribe_all");
    }

    @Test
    void anExportedCallbackIsCalledDuringLaterCallsUntilItIsClosed() {
        List<Object> events = new ArrayList<>();
        ExportedCallback listener = py.exportCallback((Function<Object, Object>) event -> {
            events.add(event);
            return "seen " + event;
        });
        py.call("sb_fixtures.subscribe", listener);
        assertThat(py.call("sb_fixtures.publish", "a").asList()).containsExactly("seen a");
        assertThat(py.call("sb_fixtures.publish", 2).asList()).containsExactly("seen 2");
        assertThat(events).containsExactly("a", 2L);
        listener.close();
        assertThat(listener.isOpen()).isFalse();
        assertThat((String) py.call("sb_fixtures.publish", "b").asList().get(0))
                .startsWith("CallbackError").contains("closed");
        assertThat(events).containsExactly("a", 2L);
    }

    @Test
    void aCallbackPassedDirectlyStillDiesWithItsCall() {
        py.call("sb_fixtures.subscribe", (Consumer<Object>) event -> { });
        assertThat((String) py.call("sb_fixtures.publish", "x").asList().get(0)).startsWith("RuntimeError");
    }

    @Test
    void aResetEndsTheSessionsExportedCallbacks() {
        try (BridgeConnection own = Workers.connect()) {
            ExportedCallback listener = own.exportCallback((Function<Object, Object>) event -> "ok");
            own.call("sb_fixtures.subscribe", listener);
            own.resetSession();
            assertThat(listener.isOpen()).isFalse();
            assertThat((String) own.call("sb_fixtures.publish", "x").asList().get(0)).startsWith("CallbackError");
            assertThatThrownBy(() -> own.call("sb_fixtures.subscribe", listener)).isInstanceOf(InvalidValueException.class)
                    .hasMessageContaining("closed");
        }
    }

    @Test
    void anExportedCallbackBelongsToItsConnection() {
        ExportedCallback listener = py.exportCallback((Runnable) () -> { });
        try (BridgeConnection other = Workers.connect()) {
            assertThatThrownBy(() -> other.call("sb_fixtures.subscribe", listener)).isInstanceOf(InvalidValueException.class)
                    .hasMessageContaining("another connection");
        } finally {
            listener.close();
        }
        assertThatThrownBy(() -> py.exportCallback("not a function")).isInstanceOf(IllegalArgumentException.class);
    }
}
