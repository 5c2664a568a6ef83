package io.snakebridge.internal;

import io.snakebridge.BridgeConfig;
import io.snakebridge.WorkerStart;
import io.snakebridge.WorkerStartException;
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
            return RemoteWorkers.open(config);
        }
        if (config.workerStart() == WorkerStart.SPAWN) {
            return ChildProcessTransport.spawn(config);
        }
        List<Object> key = List.of(config.python(), config.pythonPath(), config.preload(),
                WorkerLaunch.environment(config, System.getenv()));
        WorkerServer server = serverFor(key, config);
        try {
            return server.fork(config.memoryLimitBytes(), config.startTimeout());
        } catch (WorkerStartException e) {
            if (server.isAlive()) {
                throw e;
            }
            return serverFor(key, config).fork(config.memoryLimitBytes(), config.startTimeout()); // it died meanwhile: once more
        }
    }

    private static WorkerServer serverFor(List<Object> key, BridgeConfig config) {
        return SERVERS.compute(key, (k, running) -> running != null && running.isAlive() ? running
                : WorkerServer.start(config, socketPath()));
    }

    /** A fresh socket in a directory private to this user (the server also checks each client's uid). */
    private static Path socketPath() {
        FileOwnership ownership = FileOwnership.ofThisProcess();
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "snakebridge-" + ownership.userTag());
        try {
            ownership.createPrivateDirectories(dir);
            ownership.requirePrivateRoot(dir);
        } catch (IOException e) {
            throw new WorkerStartException("cannot make a private directory for the worker server's socket: " + e.getMessage(), e);
        }
        try {
            dir = dir.toRealPath(); // checked as it is now, and used as it is now
        } catch (IOException e) {
            throw new WorkerStartException("cannot resolve the worker server's socket directory " + dir + ": " + e.getMessage(), e);
        }
        return dir.resolve("server-" + ProcessHandle.current().pid() + "-" + STARTED.incrementAndGet() + ".sock");
    }
}
