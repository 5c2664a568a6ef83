package io.snakebridge.bench;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.SnakeBridge;
import io.snakebridge.WorkerStart;
import java.io.IOException;
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
 * What a call costs on a remote worker: {@code py.call("math.sqrt", 2.0)} on a worker of a server
 * reached over loopback TCP with TLS and a token ({@code REMOTE_TLS}), against the same call on a local
 * worker over stdin/stdout pipes ({@code SPAWN}) and on a local forked worker over a Unix socket
 * ({@code FORK}, the default), in the same run. The connection is open before the measurement: this is
 * the round trip alone ({@link RemoteConnectBench} measures the connect).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RemoteCallBench {
    @Param({"REMOTE_TLS", "SPAWN", "FORK"})
    public String where;

    private TlsWorkerServer server;
    private BridgeConnection py;

    @Setup
    public void start() throws IOException, InterruptedException {
        BridgeConfig config;
        if (where.equals("REMOTE_TLS")) {
            server = TlsWorkerServer.start();
            config = server.config();
        } else {
            config = BridgeConfig.builder().workerStart(WorkerStart.valueOf(where)).build();
        }
        py = SnakeBridge.connect(config);
    }

    @TearDown
    public void stop() throws InterruptedException {
        py.close();
        if (server != null) {
            server.close();
        }
    }

    @Benchmark
    public double mathSqrt() {
        return py.call("math.sqrt", 2.0).asDouble();
    }
}
