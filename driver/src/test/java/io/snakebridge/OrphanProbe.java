package io.snakebridge;

/**
 * Run in a child JVM by {@link SupervisionTest} with the interpreter and the {@link WorkerStart}:
 * starts a worker busy in a call, prints its pid (and, forked, its server's), waits to be killed.
 */
public final class OrphanProbe {
    public static void main(String[] args) throws Exception {
        BridgeConnection py = SnakeBridge.connect(BridgeConfig.builder().python(args[0]).workerStart(WorkerStart.valueOf(args[1])).build());
        System.out.println(py.call("os.getpid").asLong() + " " + py.call("os.getppid").asLong());
        System.out.flush();
        py.call("time.sleep", 600); // busy: only the parent-death signal, not EOF, can end the worker now
    }
}
