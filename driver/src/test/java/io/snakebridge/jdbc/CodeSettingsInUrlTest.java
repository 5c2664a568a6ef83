package io.snakebridge.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeSetting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLInvalidAuthorizationSpecException;
import java.util.Arrays;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JDBC URL or connection Properties may come from users; settings that choose code to run are
 * refused there unless the JVM allows them, and always allowed in code.
 */
class CodeSettingsInUrlTest {
    private static final String PYTHON = System.getProperty("snakebridge.python", "python3");
    private static final String ALLOW = SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY;

    @TempDir
    Path dir;
    private String allowedBefore;
    /** An interpreter that leaves a file behind when it runs, then runs the real one. */
    private Path witness;
    private Path ran;

    @BeforeEach
    void startWithTheDefaultRule() throws Exception {
        allowedBefore = System.getProperty(ALLOW);
        System.clearProperty(ALLOW);
        ran = dir.resolve("ran");
        witness = dir.resolve("witness-python");
        Files.writeString(witness, "#!/bin/sh\ntouch '" + ran + "'\nexec " + PYTHON + " \"$@\"\n");
        Files.setPosixFilePermissions(witness, PosixFilePermissions.fromString("rwx------"));
    }

    @AfterEach
    void restoreTheJvmsRule() {
        restore(allowedBefore);
    }

    static void restore(String allowedBefore) {
        if (allowedBefore == null) {
            System.clearProperty(ALLOW);
        } else {
            System.setProperty(ALLOW, allowedBefore);
        }
    }

    @Test
    void theSettingsThatChooseCodeAreTheExecutableItsModulePathTheWorkersEnvironmentAndItsPreloads() {
        assertThat(Arrays.stream(BridgeSetting.values()).filter(BridgeSetting::choosesCode))
                .containsExactly(BridgeSetting.PYTHON, BridgeSetting.PYTHON_PATH, BridgeSetting.INHERIT_ENVIRONMENT,
                        BridgeSetting.WORKER_ENVIRONMENT, BridgeSetting.PRELOAD);
    }

    @Test
    void aPythonInTheUrlIsRefusedBeforeAnythingRunsNamingTheSettingAndBothWaysToAllowIt() {
        assertThatThrownBy(() -> DriverManager.getConnection("jdbc:snakebridge:?maxRefs=5&python=" + witness))
                .isInstanceOfSatisfying(SQLInvalidAuthorizationSpecException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("28000"))
                .hasMessageContaining("setting 'python' chooses the code the worker runs")
                .hasMessageContaining("BridgeConfig.builder().python(...)")
                .hasMessageContaining("-Dsnakebridge.allowCodeSettingsInUrl=true");
        assertThat(ran).doesNotExist();
    }

    @Test
    void everySettingThatChoosesCodeIsRefusedInConnectionProperties() {
        for (BridgeSetting setting : BridgeSetting.values()) {
            if (setting.choosesCode()) {
                Properties info = new Properties();
                info.setProperty(setting.key(), witness.toString());
                assertThatThrownBy(() -> new SnakeBridgeDriver().connect("jdbc:snakebridge:", info))
                        .as(setting.key())
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28000"))
                        .hasMessageContaining("'" + setting.key() + "'");
            }
        }
        assertThat(ran).doesNotExist();
    }

    @Test
    void severalRefusedSettingsAreAllNamed() {
        assertThatThrownBy(() -> new SnakeBridgeDriver().connect("jdbc:snakebridge:?python=" + witness + "&pythonPath=/tmp", new Properties()))
                .hasMessageContaining("settings 'python', 'pythonPath' choose")
                .hasMessageContaining("BridgeConfig.builder().python(...).pythonPath(...)");
    }

    @Test
    void theDataSourceRefusesACodeSettingInItsUrl() {
        BridgeDataSource ds = new BridgeDataSource();
        assertThatThrownBy(() -> ds.setUrl("jdbc:snakebridge:?python=" + witness))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28000"));
        assertThat(ds.getConfig().python()).isEqualTo(BridgeConfig.defaults().python());
    }

    @Test
    void theJvmPropertyAllowsCodeSettingsInTheUrl() throws Exception {
        System.setProperty(ALLOW, "true");
        try (Connection jdbc = DriverManager.getConnection("jdbc:snakebridge:?python=" + witness)) {
            assertThat(jdbc.unwrap(BridgeConnection.class).call("len", "four").asLong()).isEqualTo(4);
        }
        assertThat(ran).exists();
    }

    @Test
    void theJvmPropertyAllowsOnlyWhenItIsTrue() {
        System.setProperty(ALLOW, "yes");
        assertThatThrownBy(() -> DriverManager.getConnection("jdbc:snakebridge:?python=" + witness))
                .isInstanceOf(SQLInvalidAuthorizationSpecException.class);
    }

    @Test
    void aDataSourceConfiguredInCodeMayChooseTheInterpreter() throws Exception {
        BridgeDataSource ds = new BridgeDataSource(BridgeConfig.builder().python(witness.toString()).pythonPath(dir).build());
        try (Connection jdbc = ds.getConnection()) {
            assertThat(jdbc.unwrap(BridgeConnection.class).call("len", "four").asLong()).isEqualTo(4);
        }
        assertThat(ran).exists();
    }

    @Test
    void propertyInfoListsCodeSettingsWithTheirValueAndMarksThemWithoutRefusing() throws Exception {
        DriverPropertyInfo[] info = new SnakeBridgeDriver().getPropertyInfo("jdbc:snakebridge:?python=" + witness, new Properties());
        DriverPropertyInfo python = Arrays.stream(info).filter(p -> p.name.equals("python")).findFirst().orElseThrow();
        assertThat(python.value).isEqualTo(witness.toString());
        assertThat(python.description).contains("Chooses code to run").contains("-Dsnakebridge.allowCodeSettingsInUrl=true");
        DriverPropertyInfo maxRefs = Arrays.stream(info).filter(p -> p.name.equals("maxRefs")).findFirst().orElseThrow();
        assertThat(maxRefs.description).doesNotContain("Chooses code");
        assertThat(ran).doesNotExist();
    }
}
