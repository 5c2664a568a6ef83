package io.snakebridge.internal;

import io.snakebridge.BridgeConfig;
import io.snakebridge.WorkerStartException;
import io.snakebridge.shim.CancelWord;
import io.snakebridge.shim.Signal;
import io.snakebridge.shim.WorkerProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A worker that is a child process of this JVM: a fresh interpreter spawned through the JNA shim. */
final class ChildProcessTransport implements Transport {
    private final WorkerProcess process;
    private final CancelWord cancelWord; // null where signals are unavailable

    private ChildProcessTransport(WorkerProcess process, CancelWord cancelWord) {
        this.process = process;
        this.cancelWord = cancelWord;
    }

    /**
     * An isolated interpreter running the worker (see {@link WorkerLaunch}), from a verified copy of
     * its sources, told where its {@code cancelWord} (if any) is.
     */
    static ChildProcessTransport spawn(BridgeConfig config, CancelWord cancelWord) {
        Path sources = WorkerSources.directory();
        Map<String, String> environment = WorkerLaunch.environment(config, System.getenv());
        if (cancelWord != null) {
            environment.put(CancelWord.ENVIRONMENT_VARIABLE, cancelWord.file().toString());
        }
        WorkerProcess process;
        try {
            process = WorkerProcess.startWithExactEnvironment(WorkerLaunch.command(config, sources), environment);
        } catch (IOException e) {
            throw new WorkerStartException("cannot start the Python interpreter '" + config.python() + "': " + e.getMessage(), e);
        }
        if (config.memoryLimitBytes() > 0) {
            process.limitAddressSpace(config.memoryLimitBytes()); // before the handshake: no user code has run yet
        }
        return new ChildProcessTransport(process, cancelWord);
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
        if (cancelWord != null) {
            cancelWord.target(requestId);
        }
        return process.signal(Signal.INT);
    }

    @Override
    public void sever() {
        process.signal(Signal.KILL);
    }

    @Override
    public void kill() {
        process.kill();
        forgetCancelWord();
    }

    private void forgetCancelWord() {
        if (cancelWord != null) {
            cancelWord.close();
        }
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
        forgetCancelWord();
    }
}
