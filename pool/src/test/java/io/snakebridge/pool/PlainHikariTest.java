package io.snakebridge.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.snakebridge.BridgeConnection;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** HikariCP alone, configured by JDBC URL as an app server would. */
class PlainHikariTest {
    @Test
    void hikariConfiguredOnlyWithTheJdbcUrlServesCallsThroughUnwrap() throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:snakebridge:" + ("python3".equals(Pools.PYTHON) ? "" : "?python=" + Pools.PYTHON));
        config.setMaximumPoolSize(2);
        try (HikariDataSource ds = new HikariDataSource(config)) {
            for (int i = 0; i < 3; i++) {
                try (Connection jdbc = ds.getConnection()) {
                    assertThat(jdbc.unwrap(BridgeConnection.class).call("math.factorial", 10).asLong()).isEqualTo(3_628_800);
                }
            }
        }
    }

    @Test
    void hikariEvictsAConnectionWhoseWorkerDiedWhenItIsReturned() throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:snakebridge:?python=" + Pools.PYTHON);
        config.setMaximumPoolSize(1);
        try (HikariDataSource ds = new HikariDataSource(config)) {
            Connection dead = ds.getConnection();
            long firstPid = Pools.workerPid(dead.unwrap(BridgeConnection.class));
            Pools.kill(firstPid);
            // HikariCP calls clearWarnings on return; our 08006 makes it evict, and it rethrows to the caller.
            assertThatThrownBy(dead::close).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("08006"));
            try (Connection jdbc = ds.getConnection()) {
                assertThat(Pools.workerPid(jdbc.unwrap(BridgeConnection.class))).isNotEqualTo(firstPid);
            }
        }
    }
}
