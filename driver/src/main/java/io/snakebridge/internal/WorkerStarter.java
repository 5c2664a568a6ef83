package io.snakebridge.internal;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeException;
import io.snakebridge.WorkerStartException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Opens a connection to a worker: starts it, does the handshake (PROTOCOL.md HS-*) and opens the
 * first session, all within startTimeout. Public: {@code SnakeBridge.connect} starts here.
 */
public final class WorkerStarter {
    private WorkerStarter() {
    }

    /**
     * Starts a worker for {@code config} and returns its executor, ready for calls in the session
     * {@code openSession} describes; {@code maxIntDigits} is the protocol's cap on int literals.
     *
     * @throws WorkerStartException if the worker cannot be started or does not complete the handshake in time
     */
    public static RequestExecutor start(BridgeConfig config, Request openSession, ApiCodec codec, int maxIntDigits) {
        Transport transport = WorkerServers.open(config);
        MessageChannel channel = new MessageChannel(transport, config, maxIntDigits);
        RequestExecutor executor = new RequestExecutor(config, transport, channel, codec);
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> deadline = Interrupter.WATCHDOG.schedule(() -> {
            timedOut.set(true); // before the kill: the handshake's reader sees EOF as soon as the signal lands
            transport.sever();
        }, config.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
        try {
            handshake(executor, config);
            executor.request(openSession);
            executor.markStarted();
            return executor;
        } catch (BridgeException e) {
            transport.kill();
            List<String> output = transport.recentOutput(Duration.ofMillis(500));
            String why = timedOut.get() ? "did not answer the handshake within startTimeout=" + config.startTimeout() : e.getMessage();
            throw new WorkerStartException("worker " + WorkerSources.PACKAGE + " on '" + config.python() + "' failed to start: "
                    + why + " (" + transport.exitDescription() + ")" + WorkerOutput.excerpt(output), e);
        } finally {
            deadline.cancel(false);
        }
    }

    /**
     * A worker server (PROTOCOL.md SRV-1) for {@code config}, listening at {@code socket}, ready to be
     * started: isolated as every worker is, with the worker environment. For {@code snakebridge serve}.
     */
    public static ProcessBuilder serverProcess(BridgeConfig config, java.nio.file.Path socket) {
        return serverProcess(config, "unix:" + socket, List.of());
    }

    /**
     * The same, listening at {@code listen} ({@code unix:PATH}, or {@code HOST:PORT} for remote clients)
     * with further server {@code options} ({@code --tls-cert FILE}, {@code --token-file FILE},
     * {@code --max-workers N}: PROTOCOL.md section 1e).
     */
    public static ProcessBuilder serverProcess(BridgeConfig config, String listen, List<String> options) {
        ProcessBuilder builder = new ProcessBuilder(WorkerLaunch.serverCommand(config, WorkerSources.directory(), listen, options));
        builder.environment().clear();
        builder.environment().putAll(WorkerLaunch.environment(config, System.getenv()));
        return builder;
    }

    private static void handshake(RequestExecutor executor, BridgeConfig config) {
        Map<String, Number> limits = new LinkedHashMap<>();
        limits.put("max_frame_bytes", config.maxFrameBytes());
        limits.put("max_nesting_depth", config.maxNestingDepth());
        limits.put("max_string_length", config.maxStringLength());
        limits.put("max_response_bytes", config.maxResponseBytes()); // the worker refuses what we would (RESP-*)
        limits.put("max_response_elements", config.maxResponseElements());
        Request hello = Request.handshake(WorkerHello.PROTOCOL_VERSION, WorkerHello.MIN_SUPPORTED_VERSION, List.of("attachments", "lean"), limits);
        executor.adopt(WorkerHello.verify(executor.request(hello), limits, executor.workerName()));
    }
}
