package io.snakebridge.conformance;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A remote worker server the suite checks instead of a worker command (PROTOCOL.md section 1e): each
 * worker of the run is one the server forks for the suite over TLS, after the token's
 * challenge-response (REMOTE-2), and its cancels and kills go through the server's control connection
 * (REMOTE-4). Set by the runner's {@code --remote} options, read from system properties by the tests.
 *
 * @param hostAndPort the server's {@code host:port}; the host is the name its certificate must carry
 * @param caFile      the PEM certificates to trust for the server's; null: the JVM's trust store
 * @param tokenFile   the file holding the server's token (its content without surrounding whitespace);
 *                    null for a server that asks for none
 */
public record RemoteTarget(String hostAndPort, Path caFile, Path tokenFile) {
    /** The property naming the server's {@code host:port}; without it the suite starts a worker command. */
    public static final String HOST_PROPERTY = "snakebridge.conformance.remote";
    /** The property naming the CA file ({@code --remote-ca}). */
    public static final String CA_PROPERTY = "snakebridge.conformance.remote.ca";
    /** The property naming the token file ({@code --remote-token-file}). */
    public static final String TOKEN_PROPERTY = "snakebridge.conformance.remote.tokenFile";

    /**
     * @throws IllegalArgumentException if {@code hostAndPort} is not {@code host:port} with a port from 1 to 65535
     */
    public RemoteTarget {
        int colon = hostAndPort == null ? -1 : hostAndPort.lastIndexOf(':');
        if (colon <= 0 || !hostAndPort.substring(colon + 1).matches("\\d{1,5}")
                || Integer.parseInt(hostAndPort.substring(colon + 1)) < 1 || Integer.parseInt(hostAndPort.substring(colon + 1)) > 65535) {
            throw new IllegalArgumentException("--remote takes HOST:PORT with a port from 1 to 65535, not " + hostAndPort);
        }
    }

    /** The host name or address, without brackets. */
    public String host() {
        String host = hostAndPort.substring(0, hostAndPort.lastIndexOf(':'));
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** The TCP port. */
    public int port() {
        return Integer.parseInt(hostAndPort.substring(hostAndPort.lastIndexOf(':') + 1));
    }

    /** The remote target the runner set, if it set one. */
    public static Optional<RemoteTarget> configured() {
        String host = System.getProperty(HOST_PROPERTY);
        if (host == null || host.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(new RemoteTarget(host.trim(), path(CA_PROPERTY), path(TOKEN_PROPERTY)));
    }

    void setProperties() {
        System.setProperty(HOST_PROPERTY, hostAndPort);
        if (caFile != null) {
            System.setProperty(CA_PROPERTY, caFile.toString());
        }
        if (tokenFile != null) {
            System.setProperty(TOKEN_PROPERTY, tokenFile.toString());
        }
    }

    static void clearProperties() {
        System.clearProperty(HOST_PROPERTY);
        System.clearProperty(CA_PROPERTY);
        System.clearProperty(TOKEN_PROPERTY);
    }

    private static Path path(String property) {
        String value = System.getProperty(property);
        return value == null || value.isBlank() ? null : Path.of(value);
    }

    /** For the report: where the workers came from, never the token. */
    String describe() {
        return "workers forked by the remote worker server " + hostAndPort + " over TLS ("
                + (caFile == null ? "the JVM's trust store" : "CA " + caFile) + ", " + (tokenFile == null ? "no token" : "token file " + tokenFile) + ")";
    }
}
