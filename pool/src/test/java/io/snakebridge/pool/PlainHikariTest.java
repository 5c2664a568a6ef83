package io.snakebridge.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.jdbc.SnakeBridgeDriver;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLInvalidAuthorizationSpecException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** HikariCP alone, configured by JDBC URL as an app server would. */
class PlainHikariTest {
    /** The build may run the tests with another interpreter; a URL names it only then (it chooses code: allowed below). */
    private static final String URL = "jdbc:snakebridge:"
            + (Pools.PYTHON.equals(BridgeConfig.defaults().python()) ? "" : "?python=" + URLEncoder.encode(Pools.PYTHON, StandardCharsets.UTF_8));
    private static String allowedBefore;

    @BeforeAll
    static void allowTheBuildsOwnInterpreterInUrls() {
        allowedBefore = System.getProperty(SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY);
        if (URL.contains("python=")) {
            System.setProperty(SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY, "true");
        }
    }

    @AfterAll
    static void restoreTheJvmsRule() {
        if (allowedBefore == null) {
            System.clearProperty(SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY);
        } else {
            System.setProperty(SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY, allowedBefore);
        }
    }

    @Test
    void aUrlThatChoosesTheInterpreterIsRefusedWhenThePoolStarts() {
        String before = System.clearProperty(SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY);
        try {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl("jdbc:snakebridge:?python=/bin/false");
            assertThatThrownBy(() -> new HikariDataSource(config).close())
                    .hasRootCauseInstanceOf(SQLInvalidAuthorizationSpecException.class)
                    .rootCause().hasMessageContaining("setting 'python'");
        } finally {
            if (before != null) {
                System.setProperty(SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY, before);
            }
        }
    }
    @Test
    void hikariConfiguredOnlyWithTheJdbcUrlServesCallsThroughUnwrap() throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(URL);
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
        config.setJdbcUrl(URL);
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
