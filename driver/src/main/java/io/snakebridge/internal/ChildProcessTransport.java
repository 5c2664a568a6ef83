package io.snakebridge.internal;

import io.snakebridge.BridgeConfig;
import io.snakebridge.WorkerStartException;
import io.snakebridge.shim.Signal;
import io.snakebridge.shim.WorkerProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A worker that is a child process of this JVM: a fresh interpreter spawned through the JNA shim. */
final class ChildProcessTransport implements Transport {
    private final WorkerProcess process;

    private ChildProcessTransport(WorkerProcess process) {
        this.process = process;
    }

    /** An isolated interpreter running the worker (see {@link WorkerLaunch}), from a verified copy of its sources. */
    static ChildProcessTransport spawn(BridgeConfig config) {
        Path sources = WorkerSources.directory();
        WorkerProcess process;
        try {
            process = WorkerProcess.startWithExactEnvironment(WorkerLaunch.command(config, sources),
                    WorkerLaunch.environment(config, System.getenv()));
        } catch (IOException e) {
            throw new WorkerStartException("cannot start the Python interpreter '" + config.python() + "': " + e.getMessage(), e);
        }
        if (config.memoryLimitBytes() > 0) {
            process.limitAddressSpace(config.memoryLimitBytes()); // before the handshake: no user code has run yet
        }
        return new ChildProcessTransport(process);
    }

    @Override
    public InputStream input() {
        return process.protocolInput();
    }

    @Override
    public OutputStream output() {
        return process.protocolOutput();
    }

    @Override
    public String name() {
        return "worker " + process.pid();
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public boolean interrupt(long requestId) {
        return process.signal(Signal.INT);
    }

    @Override
    public void sever() {
        process.signal(Signal.KILL);
    }

    @Override
    public void kill() {
        process.kill();
    }

    @Override
    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public boolean awaitExit(Duration timeout) {
        return process.awaitExit(timeout);
    }

    @Override
    public String exitDescription() {
        return process.exitDescription();
    }

    @Override
    public List<String> recentOutput(Duration drain) {
        process.drainStderr(drain);
        return process.recentStderr();
    }

    @Override
    public void onExit(Runnable action) {
        process.onExit(action);
    }

    @Override
    public void shutdown(Duration grace) {
        process.shutdown(grace);
    }
}
