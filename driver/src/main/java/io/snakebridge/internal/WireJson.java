package io.snakebridge.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The one Jackson configuration for protocol messages. Public: the conformance suite's protocol client speaks the protocol through it too. */
public final class WireJson {
    private WireJson() {
    }

    /**
     * A mapper whose parser limits follow the protocol's caps: numbers as long as
     * {@code maxIntDigits}, strings as long as a frame, and nesting a little deeper than
     * {@code maxNestingDepth} values (a tagged value is two JSON levels).
     */
    public static ObjectMapper mapper(int maxFrameBytes, int maxNestingDepth, int maxIntDigits) {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNumberLength(maxIntDigits + 1)
                        .maxStringLength(maxFrameBytes)
                        .maxNestingDepth(2 * maxNestingDepth + 8)
                        .build())
                .build();
        return new ObjectMapper(factory)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    }
}
