package io.snakebridge.internal;

import io.snakebridge.BridgeConfig;
import io.snakebridge.WorkerStart;
import io.snakebridge.WorkerStartException;
import io.snakebridge.shim.CancelWord;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How a connection gets its worker: from a remote worker server when {@code hosts} names any
 * ({@link RemoteWorkers}), else spawned ({@link WorkerStart#SPAWN}), or forked by the JVM's
 * worker server for its configuration ({@link WorkerStart#FORK}), started on first use and again
 * if it died. One server per distinct interpreter, module path, preload list and environment.
 */
final class WorkerServers {
    private static final Map<List<Object>, WorkerServer> SERVERS = new ConcurrentHashMap<>();
    private static final AtomicInteger STARTED = new AtomicInteger();

    private WorkerServers() {
    }

    static Transport open(BridgeConfig config) {
        if (!config.hosts().isEmpty()) {
            return RemoteWorkers.open(config); // its server makes the worker's cancel word
        }
        CancelWord cancelWord = cancelWord();
        try {
            if (config.workerStart() == WorkerStart.SPAWN) {
                return ChildProcessTransport.spawn(config, cancelWord);
            }
            List<Object> key = List.of(config.python(), config.pythonPath(), config.preload(),
                    WorkerLaunch.environment(config, System.getenv()));
            WorkerServer server = serverFor(key, config);
            try {
                return server.fork(config.memoryLimitBytes(), config.startTimeout(), cancelWord);
            } catch (WorkerStartException e) {
                if (server.isAlive()) {
                    throw e;
                }
                // it died meanwhile: once more
                return serverFor(key, config).fork(config.memoryLimitBytes(), config.startTimeout(), cancelWord);
            }
        } catch (RuntimeException e) {
            if (cancelWord != null) {
                cancelWord.close();
            }
            throw e;
        }
    }

    /**
     * The word through which this connection's interrupts name their request (PROTOCOL.md CANCEL-2),
     * in the user's private directory; none off POSIX, where there are no signals (a cancel kills
     * the worker). Asking JNA instead would load it on every connect, even where no call is ever cancelled.
     */
    private static CancelWord cancelWord() {
        if (!FileOwnership.ofThisProcess().posix()) {
            return null;
        }
        try {
            return CancelWord.create(privateDirectory("cancel word"));
        } catch (IOException e) {
            throw new WorkerStartException("cannot make the worker's cancel word: " + e.getMessage(), e);
        }
    }

    private static WorkerServer serverFor(List<Object> key, BridgeConfig config) {
        return SERVERS.compute(key, (k, running) -> running != null && running.isAlive() ? running
                : WorkerServer.start(config, socketPath()));
    }

    /** A fresh socket in a directory private to this user (the server also checks each client's uid). */
    private static Path socketPath() {
        return privateDirectory("worker server's socket").resolve("server-" + ProcessHandle.current().pid() + "-"
                + STARTED.incrementAndGet() + ".sock");
    }

    /** This user's private directory under the temp directory, for the {@code purpose} named in errors. */
    private static Path privateDirectory(String purpose) {
        FileOwnership ownership = FileOwnership.ofThisProcess();
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "snakebridge-" + ownership.userTag());
        try {
            ownership.createPrivateDirectories(dir);
            ownership.requirePrivateRoot(dir);
        } catch (IOException e) {
            throw new WorkerStartException("cannot make a private directory for the " + purpose + ": " + e.getMessage(), e);
        }
        try {
            return dir.toRealPath(); // checked as it is now, and used as it is now
        } catch (IOException e) {
            throw new WorkerStartException("cannot resolve the " + purpose + " directory " + dir + ": " + e.getMessage(), e);
        }
    }
}
