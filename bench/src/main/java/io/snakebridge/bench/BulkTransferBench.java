package io.snakebridge.bench;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.SnakeBridge;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
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
 * An 8 MB {@code double[]} Java → numpy → Java, against what moving 8 MB costs at all (the same
 * bytes echoed through a raw pipe by a CPython process) and against the paths users had before
 * binary attachments: a JSON list of floats, and base64 text inside JSON.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class BulkTransferBench {
    static final int DOUBLES = 1 << 20; // 8 MiB

    private final double[] values = new Random(1).doubles(DOUBLES).toArray();
    private final List<Double> valueList = new ArrayList<>(DOUBLES);
    private final byte[] rawBytes = new byte[DOUBLES * 8];
    private final byte[] rawReply = new byte[DOUBLES * 8];
    private EchoProcess echo;
    private BridgeConnection py;

    @Setup
    public void start() throws IOException {
        for (double v : values) {
            valueList.add(v);
        }
        Path dir = Files.createTempDirectory("snakebridge-bench");
        try (InputStream fns = BulkTransferBench.class.getResourceAsStream("/bench_fns.py")) {
            Files.copy(fns, dir.resolve("bench_fns.py"), StandardCopyOption.REPLACE_EXISTING);
        }
        BridgeConfig config = BridgeConfig.builder().pythonPath(dir).build();
        echo = new EchoProcess(config.python());
        py = SnakeBridge.connect(config);
        py.call("numpy.zeros", 1).close(); // import numpy outside the measurement
    }

    @TearDown
    public void stop() throws IOException {
        echo.close();
        py.close();
    }

    /** The floor: 8 MB to a CPython process and back, nothing decoded. */
    @Benchmark
    public byte[] rawPipe8MB() throws IOException {
        return echo.roundTrip(rawBytes, rawReply);
    }

    /** double[] → numpy.ndarray → double[] over attachments. */
    @Benchmark
    public double[] doubleArray8MB() {
        return py.callArray("numpy.asarray", (Object) values).toDoubleArray();
    }

    @Benchmark
    public Object jsonList8MB() {
        return py.call("bench_fns.roundtrip_list", valueList).asList();
    }

    @Benchmark
    public double[] base64InJson8MB() {
        ByteBuffer out = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        out.asDoubleBuffer().put(values);
        String reply = py.call("bench_fns.roundtrip_base64", Base64.getEncoder().encodeToString(out.array())).asString();
        double[] back = new double[values.length];
        ByteBuffer.wrap(Base64.getDecoder().decode(reply)).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(back);
        return back;
    }
}
