package io.snakebridge.bench;

import io.snakebridge.BridgeConnection;
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
import org.openjdk.jmh.annotations.Threads;

/** Pooled work: CPU-bound pure Python from 2 threads over 1 vs 2 workers, and the cost of a borrow. */
@State(Scope.Benchmark)
public class PoolBench {
    @Param({"1", "2"})
    public int workers;

    private BridgePool pool;

    @Setup
    public void start() {
        pool = new BridgePool(BridgePoolConfig.builder().poolSize(workers).build());
    }

    @TearDown
    public void stop() {
        pool.close();
    }

    /** About 2 ms of pure-Python arithmetic per call: no GIL is shared between workers. */
    @Benchmark
    @Threads(2)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public Object cpuBoundPythonFromTwoThreads() {
        try (BridgeConnection py = pool.getConnection()) {
            return py.call("eval", "sum(i * i for i in range(50000))").raw();
        }
    }

    /** Borrow and return, including the session reset on return. */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public String borrowAndReturn() {
        try (BridgeConnection py = pool.getConnection()) {
            return py.sessionId();
        }
    }
}
