package io.snakebridge.bench;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.SnakeBridge;
import io.snakebridge.WorkerStart;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What a connection costs: a worker, handshake and session, then close; and the same with a first
 * numpy call, numpy preloaded. {@code FORK} (a fork of the worker server) against {@code SPAWN} (a
 * fresh interpreter) in the same run; the server starts once, in the first warm-up iteration.
 */
@State(Scope.Benchmark)
public class ConnectBench {
    @Param({"FORK", "SPAWN"})
    public WorkerStart start;

    private BridgeConfig plain;
    private BridgeConfig withNumpy;

    @Setup
    public void configure() {
        plain = BridgeConfig.builder().workerStart(start).build();
        withNumpy = BridgeConfig.builder().workerStart(start).preload("numpy").build();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public String connectAndClose() {
        try (BridgeConnection py = SnakeBridge.connect(plain)) {
            return py.sessionId();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public double connectFirstNumpyCallAndClose() {
        try (BridgeConnection py = SnakeBridge.connect(withNumpy)) {
            return py.call("numpy.sqrt", 2.0).asDouble();
        }
    }
}
