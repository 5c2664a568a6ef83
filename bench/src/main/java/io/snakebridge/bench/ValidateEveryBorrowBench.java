package io.snakebridge.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.snakebridge.BridgeConnection;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Plain HikariCP by JDBC URL: borrow, one call, return, with HikariCP's default validation (only
 * after 500 ms idle) against validating every borrow ({@code -Dcom.zaxxer.hikari.aliveBypassWindowMs=0},
 * a JVM-wide setting, hence a fork of its own). The difference is what isValid costs per borrow.
 */
@State(Scope.Benchmark)
public class ValidateEveryBorrowBench {
    private HikariDataSource hikari;

    @Setup
    public void start() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:snakebridge:");
        config.setMaximumPoolSize(1);
        hikari = new HikariDataSource(config);
    }

    @TearDown
    public void stop() {
        hikari.close();
    }

    private double borrowCallReturn() throws SQLException {
        try (Connection jdbc = hikari.getConnection()) {
            return jdbc.unwrap(BridgeConnection.class).call("math.sqrt", 2.0).asDouble();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public double validatedAfterIdleOnly() throws SQLException {
        return borrowCallReturn();
    }

    /**
     * What one validation costs: isValid on a held connection (a local check, then a ping). In the
     * loops above HikariCP skips it whenever a borrow comes within the same millisecond as the last
     * return, so a busy pool pays it rarely and an idle one once per borrow.
     */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public boolean isValidOnce() throws SQLException {
        try (Connection jdbc = hikari.getConnection()) {
            return jdbc.isValid(1);
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Fork(value = 1, jvmArgsAppend = "-Dcom.zaxxer.hikari.aliveBypassWindowMs=0")
    public double validatedOnEveryBorrow() throws SQLException {
        return borrowCallReturn();
    }
}
