package io.snakebridge.cli;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.RefHandle;
import io.snakebridge.SnakeBridge;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The soak (issue: nothing may grow without bound): connect → call → close cycles, then calls on
 * one connection, measuring JVM heap after GC, threads, file descriptors, child processes and the
 * worker's RSS at the start and at the end. Linux only (it reads /proc).
 */
final class Soak {
    /** Slack allowed between start and end before a figure counts as growing. */
    static final long HEAP_SLACK_BYTES = 2L << 20;
    static final long RSS_SLACK_BYTES = 8L << 20;
    /**
     * Python objects the worker may hold more at the end than at the start: its caches settle during
     * the warm-up, so a leak of one object in every 100 calls of the reduced soak (30,000 calls)
     * shows, where RSS, counted in pages and kept by the allocator, hides leaks under a few hundred
     * bytes a call.
     */
    static final long BLOCK_SLACK = 300;
    static final int THREAD_SLACK = 2;
    static final int FD_SLACK = 2;
    /** Cycles and calls run before the start figures are taken: JIT, class loading, worker extraction. */
    static final int WARM_UP = 20;

    private Soak() {
    }

    /** One measured figure: its start, its end, and how far it may grow. */
    record Figure(String name, long start, long end, long slack, String unit) {
        boolean flat() {
            return end <= start + slack;
        }

        @Override
        public String toString() {
            return String.format("%-34s %14d %14d %10s  %s", name, start, end, "+" + slack, flat() ? "flat" : "GREW");
        }
    }

    record Report(List<Figure> figures, int cycles, long calls, long millis) {
        boolean flat() {
            return figures.stream().allMatch(Figure::flat);
        }
    }

    static Report run(BridgeConfig config, int cycles, long calls, Consumer<String> progress) {
        long began = System.nanoTime();
        List<Figure> figures = new ArrayList<>();
        for (int i = 0; i < WARM_UP; i++) {
            cycle(config);
        }
        long heap = heapAfterGc();
        int threads = threads();
        int fds = fds();
        long children = children();
        for (int i = 1; i <= cycles; i++) {
            cycle(config);
            if (i % 1000 == 0) {
                progress.accept(i + " of " + cycles + " connect/call/close cycles");
            }
        }
        figures.add(new Figure("cycles: JVM heap after GC (bytes)", heap, heapAfterGc(), HEAP_SLACK_BYTES, "bytes"));
        figures.add(new Figure("cycles: JVM threads", threads, threads(), THREAD_SLACK, ""));
        figures.add(new Figure("cycles: open file descriptors", fds, fds(), FD_SLACK, ""));
        figures.add(new Figure("cycles: child processes", children, children(), 0, ""));

        try (BridgeConnection py = SnakeBridge.connect(config)) {
            long workerPid = py.call("os.getpid").asLong();
            for (int i = 0; i < 10_000; i++) {
                call(py, i);
            }
            // The worker remembers the ids of released refs, up to tombstone_capacity, to say why a late
            // use fails (about 160 bytes an id). Fill that bounded memory before the start figures, or
            // its filling would pass for growth: twice over, since the dict behind it keeps growing its
            // table under churn until about twice its capacity has passed.
            long tombstones = 2 * py.call("snakebridge_worker.DEFAULTS.get", "tombstone_capacity").asLong();
            for (long i = 0; i < tombstones; i++) {
                py.callRef("object").close();
            }
            progress.accept("warm-up: " + tombstones + " refs released, filling the worker's bounded tombstone memory");
            heap = heapAfterGc();
            threads = threads();
            fds = fds();
            long rss = rss(workerPid);
            long blocks = allocatedBlocks(py);
            long refs = py.liveRefs();
            for (long i = 1; i <= calls; i++) {
                call(py, i);
                if (i % 100_000 == 0) {
                    progress.accept(i + " of " + calls + " calls on one connection");
                }
            }
            figures.add(new Figure("calls: JVM heap after GC (bytes)", heap, heapAfterGc(), HEAP_SLACK_BYTES, "bytes"));
            figures.add(new Figure("calls: JVM threads", threads, threads(), THREAD_SLACK, ""));
            figures.add(new Figure("calls: open file descriptors", fds, fds(), FD_SLACK, ""));
            figures.add(new Figure("calls: worker RSS (bytes)", rss, rss(workerPid), RSS_SLACK_BYTES, "bytes"));
            figures.add(new Figure("calls: worker allocated blocks", blocks, allocatedBlocks(py), BLOCK_SLACK, "blocks"));
            figures.add(new Figure("calls: live refs of the session", refs, py.liveRefs(), 0, ""));
        }
        return new Report(figures, cycles, calls, (System.nanoTime() - began) / 1_000_000);
    }

    private static void cycle(BridgeConfig config) {
        try (BridgeConnection py = SnakeBridge.connect(config)) {
            py.call("math.sqrt", 2.0);
        }
    }

    /** A plain call; every tenth also makes and releases a ref, so the registry is exercised too. */
    private static void call(BridgeConnection py, long i) {
        if (i % 10 == 0) {
            try (RefHandle ref = py.callRef("list")) {
                ref.call("append", i);
            }
        } else {
            py.call("math.sqrt", (double) i);
        }
    }

    /** The worker's count of allocated memory blocks ({@code sys.getallocatedblocks()}), after a collection. */
    static long allocatedBlocks(BridgeConnection py) {
        py.call("gc.collect");
        return py.call("sys.getallocatedblocks").asLong();
    }

    static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static int threads() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    static int fds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long children() {
        return ProcessHandle.current().children().count();
    }

    /** The resident set of a process, from /proc/PID/status (VmRSS, in kB). */
    static long rss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
            throw new IllegalStateException("no VmRSS in /proc/" + pid + "/status");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
