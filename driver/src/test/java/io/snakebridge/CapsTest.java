package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

/** maxFrameBytes, maxNestingDepth and maxStringLength: settings, agreed at the handshake, enforced on both sides. */
class CapsTest {

    private static WorkerConnection connect(BridgeConfig.Builder caps) {
        return Workers.connect(caps);
    }

    @Test
    void theWorkerAdoptsTheConfiguredCapsAtTheHandshake() {
        try (WorkerConnection py = connect(Workers.config().maxFrameBytes(4096).maxNestingDepth(5).maxStringLength(10))) {
            assertThat(py.hello().path("limits").path("max_frame_bytes").asInt()).isEqualTo(4096);
            assertThat(py.hello().path("limits").path("max_nesting_depth").asInt()).isEqualTo(5);
            assertThat(py.hello().path("limits").path("max_string_length").asInt()).isEqualTo(10);
        }
    }

    @Test
    void aStringOrBytesPastMaxStringLengthIsRefusedBeforeSendingAndWhenPythonMakesOne() {
        try (WorkerConnection py = connect(Workers.config().maxStringLength(10))) {
            long before = py.requestsSent();
            assertThatThrownBy(() -> py.call("len", "x".repeat(11))).isInstanceOf(InvalidValueException.class)
                    .hasMessageContaining("exceeds maxStringLength=10");
            assertThatThrownBy(() -> py.call("len", (Object) new byte[11])).isInstanceOf(InvalidValueException.class);
            assertThat(py.requestsSent()).isEqualTo(before);
            assertThatThrownBy(() -> py.call("str.__mul__", "z", 11)).isInstanceOf(InvalidValueException.class)
                    .hasMessageContaining("exceeds max_string_length=10");
            assertThat(py.call("str.upper", "x".repeat(10)).asString()).isEqualTo("XXXXXXXXXX");
            assertThat(py.call("len", "\uD83D\uDE00".repeat(10)).asLong()).as("ten code points, twenty UTF-16 units").isEqualTo(10);
        }
    }

    @Test
    void aValueNestedPastMaxNestingDepthIsRefusedBothWays() {
        try (WorkerConnection py = connect(Workers.config().maxNestingDepth(3))) {
            long before = py.requestsSent();
            assertThatThrownBy(() -> py.call("len", List.of(List.of(List.of(List.of(1)))))).isInstanceOf(InvalidValueException.class)
                    .hasMessageContaining("max_nesting_depth=3");
            assertThat(py.requestsSent()).isEqualTo(before);
            assertThatThrownBy(() -> py.call("eval", "[[[[1]]]]")).isInstanceOf(InvalidValueException.class);
            assertThat(py.call("eval", "[[1]]").asList()).hasSize(1);
        }
    }

    @Test
    void aRequestOrResultPastMaxFrameBytesIsAnErrorAndTheConnectionGoesOn() {
        try (WorkerConnection py = connect(Workers.config().maxFrameBytes(4096))) {
            assertThatThrownBy(() -> py.call("len", List.of(new java.util.ArrayList<>(java.util.Collections.nCopies(2000, 1)))))
                    .isInstanceOf(InvalidValueException.class).hasMessageContaining("maxFrameBytes=4096");
            assertThatThrownBy(() -> py.call("eval", "list(range(5000))")).isInstanceOf(InvalidValueException.class)
                    .hasMessageContaining("max_frame_bytes=4096");
            assertThat(py.call("abs", -1).asLong()).isEqualTo(1);
        }
    }

    @Test
    void capsOutsideTheProtocolsRangesAreRefusedByTheBuilder() {
        assertThatThrownBy(() -> BridgeConfig.builder().maxFrameBytes(100)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxFrameBytes must be from 1024 to 2147483647");
        assertThatThrownBy(() -> BridgeConfig.builder().maxNestingDepth(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BridgeConfig.builder().maxStringLength(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aTenMillionDigitIntIsRefusedAtOnceWithoutConvertingItToDecimal() {
        BigInteger huge = BigInteger.TEN.pow(10_000_000 - 1); // ten million digits; its decimal form takes seconds to make
        try (WorkerConnection py = Workers.connect()) {
            assertThatThrownBy(() -> py.call("abs", huge)).isInstanceOf(InvalidValueException.class)
                    .hasMessageContaining("max_int_digits=100000");
            assertThat(py.call("abs", BigInteger.TEN.pow(99_999)).asBigInteger()).isEqualTo(BigInteger.TEN.pow(99_999));
        }
    }
}
