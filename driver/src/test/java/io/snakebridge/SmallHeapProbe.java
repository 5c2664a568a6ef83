package io.snakebridge;

/**
 * Run in a child JVM with a small heap by {@link ResponseCapsTest}: asks a worker that ignores the
 * response caps (args[0], its interpreter command) for responses the heap cannot hold, then for a small one.
 */
public final class SmallHeapProbe {
    public static void main(String[] args) {
        try (BridgeConnection py = SnakeBridge.connect(BridgeConfig.builder().python(args[0]).workerStart(WorkerStart.SPAWN).build())) {
            for (String expression : new String[] {"[bytes(60_000_000)] * 20", "['a'] * 15_000_000"}) {
                try {
                    System.out.println(expression + ": " + py.call("eval", expression).raw().getClass().getName());
                } catch (BridgeException e) {
                    System.out.println(expression + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            }
            System.out.println("then len('four') = " + py.call("len", "four").asLong());
        }
    }
}
