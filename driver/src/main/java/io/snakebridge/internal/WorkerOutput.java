package io.snakebridge.internal;

import io.snakebridge.WorkerCrashedException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/** What a worker's diagnostic output says when it fails: the excerpt every start or crash error quotes. */
final class WorkerOutput {
    private static final int EXCERPT_LINES = 15;

    private WorkerOutput() {
    }

    /** Why the worker's stream ended: its exit and its last words. */
    static WorkerCrashedException crash(Transport transport, IOException e) {
        if (!transport.awaitExit(Duration.ofSeconds(1))) {
            transport.kill(); // alive but its stream is gone: it cannot serve this session any more
        }
        List<String> tail = transport.recentOutput(Duration.ofMillis(500));
        return new WorkerCrashedException(transport.name() + " " + transport.exitDescription() + " (" + e.getMessage() + ")"
                + excerpt(tail), transport.exitDescription(), tail, e);
    }

    /** The last lines, or from a crash's own report on (faulthandler's, innermost frame first), which says more. */
    static String excerpt(List<String> lines) {
        if (lines.isEmpty()) {
            return "";
        }
        int start = Math.max(0, lines.size() - EXCERPT_LINES);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains("Fatal Python error")) {
                start = Math.min(i, start);
                break;
            }
        }
        return "; its last stderr lines:\n  " + lines.stream().skip(start).limit(EXCERPT_LINES).collect(Collectors.joining("\n  "));
    }
}
