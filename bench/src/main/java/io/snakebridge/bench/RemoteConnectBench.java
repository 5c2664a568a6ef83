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
 * What a remote connection costs: connect, one call and close, to a worker server over loopback TCP
 * with TLS and a token (two TLS handshakes, the challenge, the fork), against the same with a local
 * {@code FORK} worker, in the same run. Certificates are made with openssl for the run.
 */
@State(Scope.Benchmark)
public class RemoteConnectBench {
    @Param({"REMOTE_TLS", "FORK"})
    public String where;

    private BridgeConfig config;
    private TlsWorkerServer server;

    @Setup
    public void start() throws IOException, InterruptedException {
        if (where.equals("FORK")) {
            config = BridgeConfig.builder().workerStart(WorkerStart.FORK).build();
            return;
        }
        server = TlsWorkerServer.start();
        config = server.config();
    }

    @TearDown
    public void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public double connectCallAndClose() {
        try (BridgeConnection py = SnakeBridge.connect(config)) {
            return py.call("math.sqrt", 2.0).asDouble();
        }
    }
}
