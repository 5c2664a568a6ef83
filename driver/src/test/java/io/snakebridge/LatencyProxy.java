package io.snakebridge;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A TCP proxy on 127.0.0.1 standing in for a distant network: every connection to it reaches
 * {@code target} half a round trip later, and every chunk of bytes crosses half a round trip after it
 * was sent, in order, both ways (no root needed, unlike {@code tc netem}). One clock thread does the
 * delayed connects and writes in due order; the traffic of a test's few clients is small.
 */
final class LatencyProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final long oneWayNanos;
    private final ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor(daemon("snakebridge-test-latency-clock"));
    private final ExecutorService readers = Executors.newCachedThreadPool(daemon("snakebridge-test-latency-reader"));
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    LatencyProxy(int targetPort, Duration roundTrip) throws IOException {
        this.listener = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
        this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
        this.oneWayNanos = roundTrip.toNanos() / 2;
        readers.execute(this::acceptLoop);
    }

    String host() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                client.setTcpNoDelay(true);
                Socket upstream = new Socket();
                sockets.add(client);
                sockets.add(upstream);
                // The server sees the connection when the client's handshake would reach it, half a round trip on.
                later(() -> {
                    try {
                        upstream.connect(target, 5_000);
                        upstream.setTcpNoDelay(true);
                        readers.execute(() -> pump(upstream, client));
                    } catch (IOException | RejectedExecutionException e) {
                        closeBoth(client, upstream);
                    }
                });
                readers.execute(() -> pump(client, upstream)); // its writes are due after the connect
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    /** Reads {@code from} and writes each chunk to {@code to} half a round trip later; an end crosses the same way. */
    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16384];
        try {
            InputStream in = from.getInputStream();
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                byte[] chunk = Arrays.copyOf(buffer, n);
                later(() -> {
                    try {
                        to.getOutputStream().write(chunk);
                    } catch (IOException e) {
                        closeBoth(from, to);
                    }
                });
            }
            later(() -> {
                try {
                    to.shutdownOutput();
                } catch (IOException e) {
                    closeBoth(from, to);
                }
            });
        } catch (IOException e) {
            later(() -> closeBoth(from, to));
        }
    }

    private void later(Runnable action) {
        try {
            clock.schedule(action, oneWayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closed) {
            // the proxy is closed: its sockets are too
        }
    }

    private static void closeBoth(Socket a, Socket b) {
        for (Socket s : new Socket[] {a, b}) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        clock.shutdownNow();
        readers.shutdownNow();
        for (Socket s : sockets) {
            s.close();
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread thread = new Thread(r, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
