package io.snakebridge;

/** Run in a child JVM by {@link SupervisionTest}: starts a worker busy in a call, prints its pid, waits to be killed. */
public final class OrphanProbe {
    public static void main(String[] args) throws Exception {
        BridgeConnection py = SnakeBridge.connect(BridgeConfig.builder().python(args[0]).build());
        System.out.println(py.call("os.getpid").asLong());
        System.out.flush();
        py.call("time.sleep", 600); // busy: only the parent-death signal, not EOF, can end the worker now
    }
}
