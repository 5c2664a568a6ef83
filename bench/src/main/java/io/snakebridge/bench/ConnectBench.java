package io.snakebridge.bench;

import io.snakebridge.BridgeConnection;
import io.snakebridge.SnakeBridge;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;

/** Cold start: a new worker process, handshake and session, then close. */
public class ConnectBench {
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public String connectAndClose() {
        try (BridgeConnection py = SnakeBridge.connect()) {
            return py.sessionId();
        }
    }
}
