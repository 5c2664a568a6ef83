package io.snakebridge.conformance;

import io.snakebridge.shim.CancelWord;
import io.snakebridge.shim.Signal;
import io.snakebridge.shim.WorkerProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** A worker process the suite started: frames over its stdin and stdout, SIGINTs by pid named in a cancel word. */
final class LocalWorker implements WorkerLink {
    private final WorkerProcess process;
    private final Path cancelWordDirectory;
    private final CancelWord cancelWord;

    LocalWorker(WorkerProcess process, Path cancelWordDirectory, CancelWord cancelWord) {
        this.process = process;
        this.cancelWordDirectory = cancelWordDirectory;
        this.cancelWord = cancelWord;
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
    public long pid() {
        return process.pid();
    }

    @Override
    public boolean isLocalProcess() {
        return true;
    }

    @Override
    public void interrupt(long requestId) {
        if (cancelWord != null) {
            cancelWord.target(requestId);
        }
        process.signal(Signal.INT);
    }

    @Override
    public void awaitInterruptTaken(long requestId, boolean declaresCancelTarget) {
        if (!declaresCancelTarget || cancelWord == null) {
            return; // once kill has returned, the signal is pending in it: it takes it before it handles another frame
        }
        long deadline = System.nanoTime() + ProtocolClient.ANSWER_TIMEOUT.toNanos();
        while (cancelWord.taken() != requestId) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the worker did not take the SIGINT for request " + requestId + " within "
                        + ProtocolClient.ANSWER_TIMEOUT + " (its cancel word shows " + cancelWord.taken() + ")");
            }
            ProtocolClient.pause(); // a poll, not a guess: the loop ends on the worker's write
        }
    }

    @Override
    public Path cancelWordFile() {
        return cancelWord == null ? null : cancelWord.file();
    }

    @Override
    public void closeInput() {
        try {
            process.protocolOutput().close();
        } catch (IOException ignored) {
            // already closed
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
    public void kill() {
        process.kill();
    }

    @Override
    public void close() {
        process.shutdown(Duration.ofSeconds(2));
        if (cancelWord != null) {
            cancelWord.close();
        }
        try {
            if (cancelWordDirectory != null) {
                Files.deleteIfExists(cancelWordDirectory);
            }
        } catch (IOException ignored) {
            // an empty temp directory left behind
        }
    }
}
