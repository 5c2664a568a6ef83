package io.snakebridge.conformance;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The suite's own version (the build writes it into {@code suite.properties}), so a report says which suite certified it. */
final class SuiteVersion {
    private static final String VERSION = load();

    private SuiteVersion() {
    }

    static String get() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = SuiteVersion.class.getResourceAsStream("suite.properties")) {
            if (in == null) {
                throw new IllegalStateException("suite.properties is missing from the conformance jar");
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
