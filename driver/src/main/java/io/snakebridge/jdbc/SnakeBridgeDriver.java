package io.snakebridge.jdbc;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeSetting;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.logging.Logger;

/**
 * The {@code java.sql.Driver} for URLs {@code jdbc:snakebridge:} with settings as a query string,
 * e.g. {@code jdbc:snakebridge:?maxRefs=100&refTtl=PT30S}, or as {@code Properties}, by the names of
 * {@link BridgeSetting}. A connection's {@code unwrap(BridgeConnection.class)} is the session API.
 */
public final class SnakeBridgeDriver implements Driver {
    public static final String URL_PREFIX = "jdbc:snakebridge:";

    static {
        try {
            DriverManager.registerDriver(new SnakeBridgeDriver());
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) {
            return null; // JDBC: another driver's URL
        }
        return BridgeJdbcConnection.open(configFor(url, info));
    }

    @Override
    public boolean acceptsURL(String url) {
        return url != null && url.startsWith(URL_PREFIX);
    }

    /** The config a URL and properties describe; properties override the URL's query string. */
    static BridgeConfig configFor(String url, Properties info) throws SQLException {
        Map<String, String> settings = new LinkedHashMap<>(parseQuery(url));
        if (info != null) {
            for (String name : info.stringPropertyNames()) {
                if (!isJdbcStandardProperty(name)) {
                    settings.put(name, info.getProperty(name));
                }
            }
        }
        try {
            return BridgeSetting.configFrom(settings);
        } catch (IllegalArgumentException e) {
            throw new SQLException(e.getMessage(), "22023", e);
        }
    }

    /** DriverManager and pools may pass credentials; a bridge has none to check. */
    private static boolean isJdbcStandardProperty(String name) {
        return name.equals("user") || name.equals("password");
    }

    private static Map<String, String> parseQuery(String url) throws SQLException {
        String rest = url.substring(URL_PREFIX.length());
        Map<String, String> settings = new LinkedHashMap<>();
        if (rest.isEmpty()) {
            return settings;
        }
        if (!rest.startsWith("?")) {
            throw new SQLException("expected " + URL_PREFIX + " followed by nothing or ?name=value&..., got " + url, "08001");
        }
        for (String pair : rest.substring(1).split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new SQLException("setting '" + pair + "' in " + url + " is not name=value", "22023");
            }
            settings.put(decode(pair.substring(0, eq)), decode(pair.substring(eq + 1)));
        }
        return settings;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) throws SQLException {
        BridgeConfig current = configFor(url == null ? URL_PREFIX : url, info);
        return Arrays.stream(BridgeSetting.values()).map(setting -> {
            DriverPropertyInfo property = new DriverPropertyInfo(setting.key(), setting.valueIn(current));
            property.description = setting.meaning() + " Default: " + setting.defaultText() + ".";
            property.required = false;
            return property;
        }).toArray(DriverPropertyInfo[]::new);
    }

    @Override
    public int getMajorVersion() {
        return 0;
    }

    @Override
    public int getMinorVersion() {
        return 1;
    }

    /** Not a SQL database: there is no SQL to comply with. */
    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("SnakeBridge logs through SLF4J", (String) null);
    }
}
