package io.snakebridge.bench;

import io.snakebridge.BridgeConnection;
import io.snakebridge.pool.BorrowIsolation;
import io.snakebridge.pool.BridgePool;
import io.snakebridge.pool.BridgePoolConfig;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What borrower isolation costs: borrow, one call, return, with the session reset ({@code SESSION})
 * against a fresh worker per borrow ({@code PROCESS}), from one thread over a pool of two. Compare the
 * two in the same run.
 */
@State(Scope.Benchmark)
public class BorrowIsolationBench {
    @Param({"SESSION", "PROCESS"})
    public BorrowIsolation isolation;

    private BridgePool pool;

    @Setup
    public void start() {
        pool = new BridgePool(BridgePoolConfig.builder().poolSize(2).borrowIsolation(isolation).build());
    }

    @TearDown
    public void stop() {
        pool.close();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public double borrowCallReturn() {
        try (BridgeConnection py = pool.getConnection()) {
            return py.call("math.sqrt", 2.0).asDouble();
        }
    }
}
