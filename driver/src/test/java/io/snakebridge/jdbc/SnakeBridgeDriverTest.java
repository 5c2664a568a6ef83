package io.snakebridge.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeSetting;
import io.snakebridge.RefHandle;
import io.snakebridge.RefLimitPolicy;
import io.snakebridge.RefNotFoundException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SnakeBridgeDriverTest {
    private static final String PYTHON = System.getProperty("snakebridge.python", "python3");
    /** The build may run the tests with another interpreter; a URL names it only then (it chooses code: allowed below). */
    private static final String INTERPRETER_SETTING =
            PYTHON.equals(BridgeConfig.defaults().python()) ? "" : "python=" + URLEncoder.encode(PYTHON, StandardCharsets.UTF_8);
    private static String allowedBefore;
    private final SnakeBridgeDriver driver = new SnakeBridgeDriver();

    @BeforeAll
    static void allowTheBuildsOwnInterpreterInUrls() {
        allowedBefore = System.getProperty(SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY);
        if (!INTERPRETER_SETTING.isEmpty()) {
            System.setProperty(SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY, "true");
        }
    }

    @AfterAll
    static void restoreTheJvmsRule() {
        CodeSettingsInUrlTest.restore(allowedBefore);
    }

    private static Connection open(String query) throws SQLException {
        return DriverManager.getConnection("jdbc:snakebridge:?" + INTERPRETER_SETTING + query);
    }

    @Test
    void driverManagerFindsTheDriverAndUnwrapGivesTheSessionApi() throws Exception {
        try (Connection jdbc = open("")) {
            BridgeConnection py = jdbc.unwrap(BridgeConnection.class);
            assertThat(jdbc.isWrapperFor(BridgeConnection.class)).isTrue();
            assertThat(py.call("math.factorial", 20).asLong()).isEqualTo(2432902008176640000L);
        }
    }

    @Test
    void settingsComeFromTheQueryStringAndPropertiesWhichWin() throws Exception {
        Properties props = new Properties();
        props.setProperty("maxRefs", "7");
        props.setProperty("user", "ignored");
        var config = SnakeBridgeDriver.configFor("jdbc:snakebridge:?maxRefs=100&refTtl=PT30S&refLimitPolicy=evict_lru", props);
        assertThat(config.maxRefs()).isEqualTo(7);
        assertThat(config.refTtl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.refLimitPolicy()).isEqualTo(RefLimitPolicy.EVICT_LRU);
    }

    @Test
    void anUnknownSettingIsAnErrorNamingTheKnownOnes() {
        assertThatThrownBy(() -> driver.connect("jdbc:snakebridge:?maxRef=1", new Properties()))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("unknown setting 'maxRef'")
                .hasMessageContaining("maxRefs, refLimitPolicy");
        assertThatThrownBy(() -> driver.connect("jdbc:snakebridge:?refTtl=30", new Properties()))
                .isInstanceOf(SQLException.class).hasMessageContaining("bad value '30' for setting refTtl");
    }

    @Test
    void aForeignUrlGetsNullAndTheDriverIsNotJdbcCompliant() throws Exception {
        assertThat(driver.connect("jdbc:postgresql://localhost/db", new Properties())).isNull();
        assertThat(driver.acceptsURL("jdbc:postgresql://localhost/db")).isFalse();
        assertThat(driver.jdbcCompliant()).isFalse();
    }

    @Test
    void propertyInfoListsEverySettingWithItsDefaultAndMeaning() throws Exception {
        DriverPropertyInfo[] info = driver.getPropertyInfo("jdbc:snakebridge:?maxRefs=5", new Properties());
        assertThat(info).extracting(p -> p.name).containsExactly(Arrays.stream(BridgeSetting.values()).map(BridgeSetting::key).toArray(String[]::new));
        DriverPropertyInfo maxRefs = Arrays.stream(info).filter(p -> p.name.equals("maxRefs")).findFirst().orElseThrow();
        assertThat(maxRefs.value).isEqualTo("5");
        assertThat(maxRefs.description).contains("Most refs").contains("Default: 10000");
    }

    @Test
    void hikariSetUpCallsSucceed() throws Exception {
        try (Connection jdbc = open("")) {
            assertThat(jdbc.isValid(5)).isTrue();
            jdbc.setNetworkTimeout(Executors.newSingleThreadExecutor(), 5000);
            assertThat(jdbc.getNetworkTimeout()).isEqualTo(5000);
            jdbc.setAutoCommit(false);
            assertThat(jdbc.getAutoCommit()).isFalse();
            jdbc.setReadOnly(true);
            assertThat(jdbc.isReadOnly()).isTrue();
            assertThat(jdbc.getTransactionIsolation()).isEqualTo(Connection.TRANSACTION_NONE);
            jdbc.clearWarnings();
            assertThat((Object) jdbc.getWarnings()).isNull();
            jdbc.beginRequest();
        }
    }

    @Test
    void sqlMethodsAreUnsupportedWithANullSqlStateSoPoolsDoNotEvict() throws Exception {
        try (Connection jdbc = open("")) {
            assertThatThrownBy(jdbc::createStatement).isInstanceOfSatisfying(SQLFeatureNotSupportedException.class,
                    e -> assertThat(e.getSQLState()).isNull());
            assertThatThrownBy(() -> jdbc.prepareStatement("select 1")).isInstanceOf(SQLFeatureNotSupportedException.class);
            assertThat(jdbc.isValid(1)).isTrue();
        }
    }

    @Test
    void endRequestResetsTheSession() throws Exception {
        try (Connection jdbc = open("")) {
            BridgeConnection py = jdbc.unwrap(BridgeConnection.class);
            RefHandle ref = py.callRef("types.SimpleNamespace");
            jdbc.endRequest();
            assertThat(py.liveRefs()).isZero();
            assertThatThrownBy(() -> ref.getAttr("x")).isInstanceOfSatisfying(RefNotFoundException.class,
                    e -> assertThat(e.reason()).isEqualTo(RefNotFoundException.Reason.SESSION_RELEASED));
        }
    }

    @Test
    void aDeadWorkerFailsValidationAndClearWarningsWithAnEvictingSqlState() throws Exception {
        try (Connection jdbc = open("")) {
            long pid = jdbc.unwrap(BridgeConnection.class).call("os.getpid").asLong();
            ProcessHandle worker = ProcessHandle.of(pid).orElseThrow();
            worker.destroyForcibly();
            worker.onExit().get();
            assertThat(jdbc.isValid(1)).isFalse();
            assertThat(jdbc.isClosed()).isTrue();
            assertThatThrownBy(jdbc::clearWarnings).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).startsWith("08"));
        }
    }

    @Test
    void abortKillsTheWorkerAtOnce() throws Exception {
        Connection jdbc = open("");
        long pid = jdbc.unwrap(BridgeConnection.class).call("os.getpid").asLong();
        jdbc.abort(Runnable::run);
        assertThat(jdbc.isClosed()).isTrue();
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        jdbc.abort(Runnable::run);
    }

    @Test
    void theDataSourceTakesAUrl() throws Exception {
        BridgeDataSource ds = new BridgeDataSource();
        ds.setUrl("jdbc:snakebridge:?" + INTERPRETER_SETTING + "&maxRefs=3");
        assertThat(ds.getConfig().maxRefs()).isEqualTo(3);
        try (Connection jdbc = ds.getConnection()) {
            assertThat(jdbc.unwrap(BridgeConnection.class).call("len", "four").asLong()).isEqualTo(4);
        }
    }
}
