package io.snakebridge.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeSetting;
import java.nio.file.Path;
import java.sql.SQLException;
import java.sql.SQLInvalidAuthorizationSpecException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Remote hosts in a JDBC URL (README "Remote workers", PROTOCOL.md REMOTE-5): the hosts come first,
 * as in other drivers' URLs; settings that name local files to read (the token, keys) are refused
 * there, as those that choose code are; a token is never a setting.
 */
class RemoteUrlTest {
    private String allowedBefore;

    @BeforeEach
    void startWithTheDefaultRule() {
        allowedBefore = System.clearProperty(SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY);
    }

    @AfterEach
    void restoreTheJvmsRule() {
        CodeSettingsInUrlTest.restore(allowedBefore);
    }

    @Test
    void hostsAfterTheSchemeAreTheHostsSettingInOrderWithTheQueryAfterThem() throws SQLException {
        BridgeConfig config = SnakeBridgeDriver.configFor("jdbc:snakebridge://py1.internal:7171,[::1]:7000,py3/?connectTimeout=PT2S&ssl=true",
                new Properties());
        assertThat(config.hosts()).containsExactly("py1.internal:7171", "[::1]:7000", "py3");
        assertThat(config.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(SnakeBridgeDriver.configFor("jdbc:snakebridge://py1:7171", new Properties()).hosts()).containsExactly("py1:7171");
        assertThat(SnakeBridgeDriver.configFor("jdbc:snakebridge:?maxRefs=5", new Properties()).hosts()).as("local workers").isEmpty();
    }

    @Test
    void loadBalanceHostsIsAUrlPropertyAsInPgjdbcAndOffByDefault() throws SQLException {
        assertThat(SnakeBridgeDriver.configFor("jdbc:snakebridge://py1:7171,py2:7171/?loadBalanceHosts=true", new Properties())
                .loadBalanceHosts()).isTrue();
        assertThat(SnakeBridgeDriver.configFor("jdbc:snakebridge://py1:7171,py2:7171/", new Properties()).loadBalanceHosts()).isFalse();
        Properties properties = new Properties();
        properties.setProperty("loadBalanceHosts", "true");
        assertThat(SnakeBridgeDriver.configFor("jdbc:snakebridge://py1:7171,py2:7171/", properties).loadBalanceHosts()).isTrue();
    }

    @Test
    void aBadHostIsRefusedNamingIt() {
        assertThatThrownBy(() -> SnakeBridgeDriver.configFor("jdbc:snakebridge://py1:99999/", new Properties()))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22023"))
                .hasMessageContaining("the port in 'py1:99999' is not 1 to 65535");
        assertThatThrownBy(() -> BridgeConfig.builder().hosts("::1:7171")).hasMessageContaining("[address]:port");
    }

    @Test
    void aUserOrPasswordInTheUrlIsRefusedWithoutEchoingIt() {
        assertThatThrownBy(() -> SnakeBridgeDriver.configFor("jdbc:snakebridge://app:s3cret-token@py1:7171/", new Properties()))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("08001"))
                .hasMessageContaining("never in a URL")
                .message().doesNotContain("s3cret-token");
    }

    @Test
    void aTokenIsNeverASettingAndItsValueIsNotEchoed() {
        assertThatThrownBy(() -> SnakeBridgeDriver.configFor("jdbc:snakebridge://py1:7171/?token=s3cret-token", new Properties()))
                .isInstanceOfSatisfying(SQLInvalidAuthorizationSpecException.class, e -> assertThat(e.getSQLState()).isEqualTo("28000"))
                .hasMessageContaining("set tokenFile in code")
                .message().doesNotContain("s3cret-token");
    }

    @Test
    void theSettingsThatNameLocalFilesAreTheTokenFileTheKeyAndTheCertificates() {
        assertThat(Arrays.stream(BridgeSetting.values()).filter(BridgeSetting::readsLocalFiles))
                .containsExactly(BridgeSetting.SSL_ROOT_CERT, BridgeSetting.SSL_CERT, BridgeSetting.SSL_KEY, BridgeSetting.TOKEN_FILE);
    }

    @Test
    void everySettingThatNamesALocalFileIsRefusedInAUrlAndInPropertiesUnlessTheJvmAllowsIt() throws SQLException {
        for (BridgeSetting setting : List.of(BridgeSetting.SSL_ROOT_CERT, BridgeSetting.SSL_CERT, BridgeSetting.SSL_KEY, BridgeSetting.TOKEN_FILE)) {
            assertThatThrownBy(() -> SnakeBridgeDriver.configFor("jdbc:snakebridge://py1:7171/?" + setting.key() + "=/etc/shadow",
                    new Properties()))
                    .as(setting.key())
                    .isInstanceOfSatisfying(SQLInvalidAuthorizationSpecException.class, e -> assertThat(e.getSQLState()).isEqualTo("28000"))
                    .hasMessageContaining("setting '" + setting.key() + "' names a file of this machine for the driver to read")
                    .hasMessageContaining("BridgeConfig.builder()." + setting.key() + "(...)");
            Properties info = new Properties();
            info.setProperty(setting.key(), "/etc/shadow");
            assertThatThrownBy(() -> SnakeBridgeDriver.configFor("jdbc:snakebridge://py1:7171/", info)).as(setting.key())
                    .isInstanceOf(SQLInvalidAuthorizationSpecException.class);
        }
        System.setProperty(SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY, "true");
        assertThat(SnakeBridgeDriver.configFor("jdbc:snakebridge://py1:7171/?tokenFile=/run/secrets/token", new Properties()).tokenFile())
                .isEqualTo(Path.of("/run/secrets/token"));
    }

    @Test
    void aClientCertificateWithoutItsKeyIsRefusedWhereItIsSet() {
        assertThatThrownBy(() -> BridgeConfig.builder().sslCert(Path.of("client.pem")).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sslCert and sslKey go together");
    }
}
