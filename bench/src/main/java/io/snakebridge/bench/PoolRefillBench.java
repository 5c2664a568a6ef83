package io.snakebridge.bench;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeException;
import io.snakebridge.WorkerStart;
import io.snakebridge.pool.BridgePool;
import io.snakebridge.pool.BridgePoolConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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
 * A pool of 4 whose workers are all SIGKILLed: the time until 4 new workers answer, each found by
 * borrowing (a dead one fails its call and is evicted). FORK against SPAWN in the same run.
 */
@State(Scope.Benchmark)
public class PoolRefillBench {
    private static final int SIZE = 4;

    @Param({"FORK", "SPAWN"})
    public WorkerStart start;

    private BridgePool pool;

    @Setup
    public void startPool() {
        pool = new BridgePool(BridgePoolConfig.builder().poolSize(SIZE)
                .bridge(BridgeConfig.builder().workerStart(start).build()).build());
    }

    @TearDown
    public void stopPool() {
        pool.close();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public int killAllAndRefill() throws Exception {
        for (long pid : pids()) {
            ProcessHandle.of(pid).ifPresent(worker -> worker.destroyForcibly());
        }
        Set<Long> answering = new HashSet<>();
        while (answering.size() < SIZE) {
            answering.addAll(pids());
        }
        return answering.size();
    }

    /** Borrows all workers at once and returns the pids of those that answer. */
    private Set<Long> pids() {
        List<BridgeConnection> borrowed = new ArrayList<>();
        Set<Long> pids = new HashSet<>();
        try {
            for (int i = 0; i < SIZE; i++) {
                BridgeConnection py = pool.getConnection();
                borrowed.add(py);
                try {
                    pids.add(py.call("os.getpid").asLong());
                } catch (BridgeException dead) {
                    // evicted on return; its replacement is being started
                }
            }
        } finally {
            borrowed.forEach(BridgeConnection::close);
        }
        return pids;
    }
}
