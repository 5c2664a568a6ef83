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
import java.sql.SQLInvalidAuthorizationSpecException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The {@code java.sql.Driver} for URLs {@code jdbc:snakebridge:} with settings as a query string,
 * e.g. {@code jdbc:snakebridge:?maxRefs=100&refTtl=PT30S}, or as {@code Properties}, by the names of
 * {@link BridgeSetting}. A connection's {@code unwrap(BridgeConnection.class)} is the session API.
 * Remote worker servers come first, as in other drivers' URLs:
 * {@code jdbc:snakebridge://h1:7171,h2:7171/?connectTimeout=PT2S} (the {@code hosts} setting).
 *
 * <p>Settings that {@linkplain BridgeSetting#choosesCode() choose code to run} ({@code python},
 * {@code pythonPath}, {@code inheritEnvironment}, {@code workerEnvironment}, {@code preload}), and those that
 * {@linkplain BridgeSetting#readsLocalFiles() name files to read} ({@code tokenFile}, {@code sslKey}, {@code sslCert},
 * {@code sslRootCert}), are refused in a URL or {@code Properties}, which applications often take from
 * configuration files or users (the class of pgjdbc's CVE-2022-21724), unless the JVM is started with
 * {@code -D}{@value #ALLOW_CODE_SETTINGS_PROPERTY}{@code =true}. Set in code ({@code BridgeConfig},
 * {@code new BridgeDataSource(config)}, a pool's config) they are always allowed.
 */
public final class SnakeBridgeDriver implements Driver {
    /** Every SnakeBridge URL starts with this; settings follow as a query string. */
    public static final String URL_PREFIX = "jdbc:snakebridge:";
    /** The JVM system property that, set to {@code true}, lets a URL or {@code Properties} choose code to run. */
    public static final String ALLOW_CODE_SETTINGS_PROPERTY = "snakebridge.allowCodeSettingsInUrl";
    /**
     * Class 28 (invalid authorization specification): the connection is refused for who configured
     * it, not for a bad value (22023) or an unreachable worker (08001, which pools retry as transient).
     */
    static final String CODE_SETTING_REFUSED_STATE = "28000";

    static {
        try {
            DriverManager.registerDriver(new SnakeBridgeDriver());
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Creates a driver. Applications rarely need one: loading this class registers one with
     * {@link DriverManager}, and the {@code java.sql.Driver} service file lets it load itself.
     */
    public SnakeBridgeDriver() {
        // no state: every connection is configured by its URL and Properties
    }

    /**
     * Starts a worker with the settings of {@code url} and {@code info} ({@code info} wins; {@code user}
     * and {@code password} are ignored).
     *
     * @param url a {@value #URL_PREFIX} URL, with settings as a query string
     * @param info settings by name, or null
     * @return the connection, or null for another driver's URL
     * @throws SQLException 28000 ({@link SQLInvalidAuthorizationSpecException}) for a setting that chooses
     *         code; 22023 for an unknown setting, a bad value or a pair that is not name=value; 08001 for
     *         anything but a query string after the prefix, or a worker that could not start
     */
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

    /**
     * The config a URL and properties describe; properties override the URL's query string.
     *
     * @throws SQLInvalidAuthorizationSpecException (28000) for a setting that chooses code, unless the JVM allows it
     */
    static BridgeConfig configFor(String url, Properties info) throws SQLException {
        Map<String, String> settings = settingsIn(url, info);
        if (settings.containsKey("token")) { // the value is not echoed anywhere
            throw new SQLInvalidAuthorizationSpecException("a token is never a setting: URLs and Properties end up in logs."
                    + " Put it in a file readable only by this user and set tokenFile in code (BridgeConfig.builder().tokenFile(...))",
                    CODE_SETTING_REFUSED_STATE);
        }
        refuseCodeSettingsUnlessAllowed(settings);
        return configFrom(settings);
    }

    private static Map<String, String> settingsIn(String url, Properties info) throws SQLException {
        Map<String, String> settings = new LinkedHashMap<>(parseQuery(url));
        if (info != null) {
            for (String name : info.stringPropertyNames()) {
                if (!isJdbcStandardProperty(name)) {
                    settings.put(name, info.getProperty(name));
                }
            }
        }
        return settings;
    }

    /** The system property is read at each connection, not once at class load, so it holds whenever it is set. */
    private static void refuseCodeSettingsUnlessAllowed(Map<String, String> settings) throws SQLException {
        if (Boolean.getBoolean(ALLOW_CODE_SETTINGS_PROPERTY)) {
            return;
        }
        List<BridgeSetting> refused = settings.keySet().stream().flatMap(key -> BridgeSetting.byKey(key).stream())
                .filter(BridgeSetting::refusedInUrl).collect(Collectors.toList());
        if (refused.isEmpty()) {
            return;
        }
        boolean one = refused.size() == 1;
        String names = refused.stream().map(setting -> "'" + setting.key() + "'").collect(Collectors.joining(", "));
        String builderCalls = refused.stream().map(setting -> "." + setting.key() + "(...)").collect(Collectors.joining());
        String what = refused.stream().allMatch(BridgeSetting::readsLocalFiles)
                ? (one ? " names a file" : " name files") + " of this machine for the driver to read (a token, a key, trusted certificates)"
                : refused.stream().allMatch(BridgeSetting::choosesCode) ? (one ? " chooses" : " choose") + " the code the worker runs"
                : " choose the code the worker runs or name files of this machine for the driver to read";
        throw new SQLInvalidAuthorizationSpecException((one ? "setting " : "settings ") + names + what + ", so "
                + (one ? "it is" : "they are") + " refused in a JDBC URL or connection Properties (which may come from users)."
                + " Set " + (one ? "it" : "them") + " in code: BridgeConfig.builder()" + builderCalls
                + ", used by SnakeBridge.connect, new BridgeDataSource(config) or BridgePoolConfig;"
                + " or start the JVM with -D" + ALLOW_CODE_SETTINGS_PROPERTY + "=true", CODE_SETTING_REFUSED_STATE);
    }

    private static BridgeConfig configFrom(Map<String, String> settings) throws SQLException {
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
        if (rest.startsWith("//")) { // jdbc:snakebridge://h1:7171,h2:7171/?...
            int slash = rest.indexOf('/', 2);
            String hosts = rest.substring(2, slash < 0 ? rest.length() : slash);
            if (hosts.isEmpty() || hosts.contains("@") || hosts.contains("?")) {
                throw new SQLException("expected " + URL_PREFIX + "//host:port[,host:port...]/ with no user or password"
                        + " (a token goes in the file the tokenFile setting names, never in a URL)", "08001"); // not echoed: it may hold a secret
            }
            settings.put(BridgeSetting.HOSTS.key(), hosts);
            rest = slash < 0 ? "" : rest.substring(slash + 1);
        }
        if (rest.isEmpty()) {
            return settings;
        }
        if (!rest.startsWith("?")) {
            throw new SQLException("expected " + URL_PREFIX + " or " + URL_PREFIX + "//host:port/ followed by nothing or ?name=value&..., got "
                    + url, "08001");
        }
        for (String pair : rest.substring(1).split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new SQLException("setting '" + pair + "' in " + url + " is not name=value", "22023");
            }
            String key = decode(pair.substring(0, eq));
            if (key.equals(BridgeSetting.HOSTS.key()) && settings.containsKey(key)) {
                throw new SQLException("the hosts are given twice, as " + URL_PREFIX + "//hosts/ and as ?hosts=", "22023");
            }
            settings.put(key, decode(pair.substring(eq + 1)));
        }
        return settings;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    /**
     * Every setting with its value in {@code url} and {@code info}, default and meaning. Describing
     * runs nothing, so a setting that chooses code is listed (and marked) rather than refused here.
     */
    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) throws SQLException {
        BridgeConfig current = configFrom(settingsIn(url == null ? URL_PREFIX : url, info));
        return Arrays.stream(BridgeSetting.values()).map(setting -> {
            DriverPropertyInfo property = new DriverPropertyInfo(setting.key(), setting.valueIn(current));
            property.description = setting.meaning() + " Default: " + setting.defaultText() + "."
                    + (setting.refusedInUrl() ? (setting.choosesCode() ? " Chooses code to run" : " Names a file of this machine to read")
                            + ": refused in a URL or Properties unless the JVM has -D" + ALLOW_CODE_SETTINGS_PROPERTY
                            + "=true; always allowed in code." : "");
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
