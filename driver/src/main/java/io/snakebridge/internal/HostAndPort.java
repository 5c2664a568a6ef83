package io.snakebridge.internal;

/**
 * One remote worker server, {@code host:port} or {@code [v6-address]:port}, as a URL or
 * {@code BridgeConfig.hosts} writes it. Public for {@code BridgeConfig}, which checks each host as it
 * is set.
 *
 * @param host a name, an IPv4 address, or an IPv6 address without brackets
 * @param port 1 to 65535
 */
public record HostAndPort(String host, int port) {
    /** The port of a remote worker server when a host names none (the default of {@code serve}'s recipes in deploy/). */
    public static final int DEFAULT_PORT = 7171;

    /**
     * Parses {@code text}; a missing port is {@code defaultPort}.
     *
     * @throws IllegalArgumentException naming {@code text} and what is wrong with it
     */
    public static HostAndPort parse(String text, int defaultPort) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("a host is host:port, got '" + text + "'");
        }
        String host = text;
        String port = null;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || (close + 1 < text.length() && text.charAt(close + 1) != ':')) {
                throw new IllegalArgumentException("an IPv6 host is [address]:port, got '" + text + "'");
            }
            host = text.substring(1, close);
            port = close + 1 < text.length() ? text.substring(close + 2) : null;
        } else if (text.indexOf(':') >= 0) {
            if (text.indexOf(':') != text.lastIndexOf(':')) {
                throw new IllegalArgumentException("an IPv6 host is written in brackets, [address]:port, got '" + text + "'");
            }
            host = text.substring(0, text.indexOf(':'));
            port = text.substring(text.indexOf(':') + 1);
        }
        if (host.isEmpty() || !host.matches("[A-Za-z0-9.:%_-]+")) {
            throw new IllegalArgumentException("bad host name in '" + text + "'");
        }
        if (port == null) {
            return new HostAndPort(host, defaultPort);
        }
        if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            throw new IllegalArgumentException("the port in '" + text + "' is not 1 to 65535");
        }
        return new HostAndPort(host, Integer.parseInt(port));
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
