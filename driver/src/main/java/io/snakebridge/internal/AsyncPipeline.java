package io.snakebridge.internal;

import io.snakebridge.BridgeClosedException;
import io.snakebridge.BridgeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * Async calls, pipelined: queued in submission order, written up to {@link #WINDOW_BYTES} at a
 * time, then their responses read in order, so the worker runs them back to back while earlier
 * answers travel. The writing and reading happen on a {@code snakebridge-async} thread, or on the
 * submitting thread's next sync request (its earlier async calls run first).
 */
final class AsyncPipeline {
    /**
     * Request bytes that async calls may have in flight at once. Below any pipe's capacity, so a
     * write never waits on a worker that is itself waiting to write a response we have not read.
     */
    static final int WINDOW_BYTES = 32 * 1024;
    private static final ExecutorService THREADS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "snakebridge-async");
        t.setDaemon(true);
        return t;
    });

    private final RequestExecutor executor;
    /** Calls submitted and not yet written, in order. */
    private final ConcurrentLinkedQueue<Call> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private int maxInFlight; // guarded by the executor's lock: the most requests written before reading one

    AsyncPipeline(RequestExecutor executor) {
        this.executor = executor;
    }

    /** A call as submitted: for the session it was made in, with the call timeout of the submitting thread. */
    private static final class Call {
        final Request request;
        final Function<Message, ?> reader;
        final String sessionId;
        final Duration timeout;
        final CompletableFuture<Object> future = new CompletableFuture<>();
        final long submitted = System.nanoTime();
        long id;
        MessageChannel.Outgoing payload;

        Call(Request request, Function<Message, ?> reader, String sessionId, Duration timeout) {
            this.request = request;
            this.reader = reader;
            this.sessionId = sessionId;
            this.timeout = timeout;
        }
    }

    @SuppressWarnings("unchecked")
    <T> CompletableFuture<T> submit(Request request, Function<Message, T> reader, String sessionId, Duration timeout) {
        Call call = new Call(request, reader, sessionId, timeout);
        queue.add(call);
        if (drainScheduled.compareAndSet(false, true)) {
            THREADS.execute(() -> {
                drainScheduled.set(false); // calls submitted from now on schedule another pass or join this one
                executor.runLocked(this::drain);
            });
        }
        return (CompletableFuture<T>) call.future;
    }

    /** Writes and reads every queued call, a window at a time. The caller holds the executor's lock. */
    void drain() {
        Call carried = null;
        while (carried != null || !queue.isEmpty()) {
            List<Call> written = new ArrayList<>();
            int bytes = 0;
            for (Call call; (call = carried != null ? carried : queue.poll()) != null; ) {
                carried = null;
                try {
                    prepare(call);
                    if (bytes > 0 && bytes + call.payload.bytes() > WINDOW_BYTES) {
                        carried = call; // the next round: read what is in flight first
                        break;
                    }
                    executor.append(call.payload);
                    written.add(call);
                    bytes += call.payload.bytes();
                } catch (BridgeException e) {
                    fail(call, e);
                }
            }
            if (!written.isEmpty()) {
                try {
                    executor.flush(); // the window's requests reach the worker in one write: one wake-up, not one each
                } catch (BridgeException e) {
                    written.forEach(call -> fail(call, e));
                    continue;
                }
            }
            maxInFlight = Math.max(maxInFlight, written.size());
            for (Call call : written) {
                Object result;
                try {
                    result = executor.read(executor.exchange(call.id, null, call.timeout), call.reader);
                } catch (BridgeException e) {
                    fail(call, e);
                    continue;
                }
                executor.observe(call.request, call.submitted, null);
                call.future.complete(result);
            }
        }
    }

    private void prepare(Call call) {
        executor.ensureUsable();
        if (!call.sessionId.equals(executor.sessionId())) {
            throw new BridgeClosedException("an async call of session " + call.sessionId + " cannot run: that "
                    + "session has ended (the connection was reset or returned to its pool)");
        }
        if (call.payload == null) {
            call.id = executor.nextId();
            call.payload = executor.serialize(call.id, call.request);
        }
    }

    void failQueued() {
        for (Call call; (call = queue.poll()) != null; ) {
            fail(call, new BridgeClosedException("connection was closed before the async call ran"));
        }
    }

    /** Every async call that fails ends here: observed like a sync call's failure, then its future fails. */
    private void fail(Call call, BridgeException e) {
        executor.observe(call.request, call.submitted, e);
        call.future.completeExceptionally(e);
    }

    int maxInFlight() {
        return maxInFlight;
    }
}
