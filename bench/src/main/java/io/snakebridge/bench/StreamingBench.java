package io.snakebridge.bench;

import io.snakebridge.BridgeConnection;
import io.snakebridge.PyCursor;
import io.snakebridge.RefHandle;
import io.snakebridge.SnakeBridge;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Small items streamed from a Python iterator as a cursor: a fetch size of 1,000 (one round trip
 * per 1,000 items) against 1 (one per item). The fetch-1 run streams fewer items, or one operation
 * would take most of a minute; the summary compares them per item.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class StreamingBench {
    static final int ITEMS_AT_FETCH_1000 = 1_000_000;
    static final int ITEMS_AT_FETCH_1 = 10_000;

    private BridgeConnection py;

    @Setup
    public void start() {
        py = SnakeBridge.connect();
    }

    @TearDown
    public void stop() {
        py.close();
    }

    @Benchmark
    public long streamMillionItemsFetch1000() {
        return drain(ITEMS_AT_FETCH_1000, 1_000);
    }

    @Benchmark
    public long streamTenThousandItemsFetch1() {
        return drain(ITEMS_AT_FETCH_1, 1);
    }

    private long drain(int items, int fetchSize) {
        long sum = 0;
        // The cursor owns the iterator's ref and releases it on close.
        try (RefHandle range = py.callRef("range", items); PyCursor cursor = py.callRef("iter", range).iterate(fetchSize)) {
            while (cursor.hasNext()) {
                sum += ((Number) cursor.next()).longValue();
            }
        }
        return sum;
    }
}
