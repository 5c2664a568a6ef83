package io.snakebridge.bench;

import io.snakebridge.Batch;
import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.PreparedCall;
import io.snakebridge.Promise;
import io.snakebridge.SnakeBridge;
import java.io.IOException;
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
 * One blocking round trip, against the floor measured in the same run: a raw 4-byte frame
 * ping-pong between this JVM and a CPython process over the same kind of pipe ({@link EchoProcess}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RoundTripBench {
    private EchoProcess echo;
    private final byte[] frame = {1, 2, 3, 4};
    private final byte[] reply = new byte[4];
    private BridgeConnection py;
    private PreparedCall sqrt;

    @Setup
    public void start() throws IOException {
        echo = new EchoProcess(BridgeConfig.defaults().python());
        py = SnakeBridge.connect();
        sqrt = py.prepare("math.sqrt");
    }

    @TearDown
    public void stop() throws IOException {
        echo.close();
        sqrt.close();
        py.close();
    }

    @Benchmark
    public byte[] rawPipePingPong() throws IOException {
        return echo.roundTrip(frame, reply);
    }

    @Benchmark
    public double mathSqrt() {
        return py.call("math.sqrt", 2.0).asDouble();
    }

    /** A prepared call: the name was resolved once, each call sends only its argument. */
    @Benchmark
    public double preparedMathSqrt() {
        return sqrt.call(2.0).asDouble();
    }

    /** Rows of one prepared call in one round trip, as a column and a double[] result: per row, this / ROWS. */
    static final int ROWS = 10_000;

    @Benchmark
    public double[] executeBatchOf10000MathSqrt() {
        for (int i = 0; i < ROWS; i++) {
            sqrt.addBatch((double) i);
        }
        return sqrt.executeBatch(double[].class);
    }

    /** The whole call path with (almost) nothing to do in Python. */
    @Benchmark
    public Object noOpCall() {
        return py.call("abs", 1).raw();
    }

    /** Calls in one batch (one round trip): the amortized cost per call is this / BATCH_SIZE. */
    static final int BATCH_SIZE = 1_000;

    @Benchmark
    public Object batchOf1000MathSqrt() {
        Batch batch = py.batch();
        Promise last = null;
        for (int i = 0; i < BATCH_SIZE; i++) {
            last = batch.call("math.sqrt", 2.0);
        }
        batch.execute();
        return last.get().raw();
    }

    /** Async calls submitted together are pipelined: the amortized cost per call is this / ASYNC_BURST. */
    static final int ASYNC_BURST = 100;

    @Benchmark
    public Object asyncBurstOf100MathSqrt() {
        java.util.concurrent.CompletableFuture<?>[] futures = new java.util.concurrent.CompletableFuture<?>[ASYNC_BURST];
        for (int i = 0; i < ASYNC_BURST; i++) {
            futures[i] = py.callAsync("math.sqrt", 2.0);
        }
        return java.util.concurrent.CompletableFuture.allOf(futures).join();
    }

    @Benchmark
    public void refCreateAndRelease() {
        py.callRef("object").close();
    }
}
