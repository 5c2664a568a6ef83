package io.snakebridge.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.snakebridge.shim.CancelWord;
import io.snakebridge.shim.WorkerProcess;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The suite's reference client: raw frames to and from one worker, with nothing hidden, so tests can
 * also send what a correct client never would. The worker is a process the suite starts, or one a
 * remote worker server forks for it ({@link RemoteTarget}). Frames are read on a thread of their own,
 * so a worker that goes silent fails a test by timeout instead of hanging the suite.
 */
public final class ProtocolClient implements AutoCloseable {
    public static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(10);
    static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] EOF = new byte[0];

    private final WorkerLink link;
    private final OutputStream out;
    private final BlockingQueue<byte[]> frames = new LinkedBlockingQueue<>();
    private volatile long nextId; // written by the test's thread, read by one that interrupts (lastId)
    private JsonNode hello;

    private ProtocolClient(WorkerLink link) {
        this.link = link;
        this.out = link.output();
        Thread reader = new Thread(this::readFrames, "conformance-reader-" + link.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts the worker under test without a handshake, giving it a cancel word (CANCEL-2); or, when
     * the run targets a remote server ({@link RemoteTarget}), has the server fork one.
     */
    public static ProtocolClient start() {
        Optional<RemoteTarget> remote = RemoteTarget.configured();
        if (remote.isPresent()) {
            try {
                return new ProtocolClient(RemoteWorker.fork(remote.get()));
            } catch (IOException e) {
                throw new IllegalStateException("no worker from the remote worker server " + remote.get().hostAndPort() + ": " + e.getMessage(), e);
            }
        }
        Path directory = null;
        try {
            directory = Files.createTempDirectory("snakebridge-conformance-"); // mode 0700 on POSIX
            CancelWord cancelWord = CancelWord.create(directory);
            Map<String, String> environment = new LinkedHashMap<>(WorkerUnderTest.environment());
            environment.put(CancelWord.ENVIRONMENT_VARIABLE, cancelWord.file().toString());
            return new ProtocolClient(new LocalWorker(WorkerProcess.start(WorkerUnderTest.command(), environment), directory, cancelWord));
        } catch (IOException e) {
            removeQuietly(directory);
            throw new IllegalStateException("cannot start the worker under test (" + WorkerUnderTest.command() + "): " + e.getMessage(), e);
        }
    }

    /**
     * A client of a worker process started some other way, e.g. through a shell whose stdin and
     * stdout the worker inherits; no handshake is sent.
     */
    public static ProtocolClient over(WorkerProcess process) {
        return new ProtocolClient(new LocalWorker(process, null, null)); // no cancel word: its SIGINTs are untargeted (CANCEL-1)
    }

    /** Whether this run's workers are forked by a remote worker server ({@link RemoteTarget}) rather than started here. */
    public static boolean remote() {
        return RemoteTarget.configured().isPresent();
    }

    /** Starts the worker and completes a version-1 handshake. */
    public static ProtocolClient connect() {
        return connect(List.of());
    }

    /** Starts the worker and completes a version-1 handshake declaring {@code clientCapabilities} (ATT-2). */
    public static ProtocolClient connect(List<String> clientCapabilities) {
        ProtocolClient client = start();
        try {
            JsonNode response = client.request("handshake", Map.of("protocol_version", 1, "min_supported_version", 1,
                    "client_capabilities", clientCapabilities));
            if (!response.path("ok").asBoolean()) {
                throw new AssertionError("handshake failed: " + response);
            }
            client.hello = response.get("result");
            return client;
        } catch (RuntimeException | AssertionError e) {
            client.close(); // a worker that answered wrongly, late or not at all is not left running
            throw e;
        }
    }

    public JsonNode hello() {
        return hello;
    }

    public List<String> capabilities() {
        List<String> caps = new ArrayList<>();
        hello.path("capabilities").forEach(c -> caps.add(c.asText()));
        return caps;
    }

    /** The worker's process id as its handshake must report it (HS-3): the child's, or the one its remote server announced. */
    public long pid() {
        return link.pid();
    }

    /** The worker's pid if it is a process of this machine the suite started (its {@code /proc} entry is its own); else empty. */
    public OptionalLong localPid() {
        return link.isLocalProcess() ? OptionalLong.of(link.pid()) : OptionalLong.empty();
    }

    /** Whether the worker still runs (for a remote worker: its server has not reported its end, SRV-4). */
    public boolean isAlive() {
        return link.isAlive();
    }

    /** Kills the worker at once (SIGKILL, or the remote server's kill, REMOTE-4). */
    public void kill() {
        link.kill();
    }

    // -- cancel (CANCEL-*) ----------------------------------------------------------------------------

    /** The id of the latest request sent (0 before the first). */
    public long lastId() {
        return nextId;
    }

    /**
     * Sends SIGINT naming request {@code requestId} in the cancel word (CANCEL-2), written first; for
     * a remote worker, the server's control connection does both (REMOTE-4).
     */
    public void interrupt(long requestId) {
        link.interrupt(requestId);
    }

    /**
     * Waits until the worker has taken the SIGINT that named {@code requestId}, which a worker
     * declaring {@code cancel_target} writes back into its cancel word (CANCEL-2). A worker without
     * one has nothing to show: once {@code kill} has returned, the signal is pending in it, and it
     * takes it before it has read and handled another frame. A remote server says it has signalled
     * with {@code {"signalled": id}} (REMOTE-4), after which the same holds.
     */
    public void awaitInterruptTaken(long requestId) {
        link.awaitInterruptTaken(requestId, capabilities().contains("cancel_target"));
    }

    /** The cancel word's file, which a worker that maps it removes (CANCEL-2); null for a remote worker, whose server makes its own. */
    public Path cancelWordFile() {
        return link.cancelWordFile();
    }

    static void pause() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    // -- raw I/O ------------------------------------------------------------------------------------

    public void sendRaw(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            throw new AssertionError("the worker's input is closed: " + e.getMessage(), e);
        }
    }

    public void sendFrame(byte[] payload) {
        sendRaw(ByteBuffer.allocate(4 + payload.length).putInt(payload.length).put(payload).array());
    }

    public void closeInput() {
        link.closeInput();
    }

    /** The next frame as JSON, or null when the worker closed its output. Fails after {@link #ANSWER_TIMEOUT}. */
    public JsonNode readFrame() {
        byte[] frame = readRawFrame();
        try {
            return frame == null ? null : JSON.readTree(frame);
        } catch (IOException e) {
            throw new AssertionError("the worker sent a frame that is not JSON: " + e.getMessage(), e);
        }
    }

    /** The next frame's bytes (an attachment, say), or null when the worker closed its output. */
    public byte[] readRawFrame() {
        try {
            byte[] frame = frames.poll(ANSWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (frame == null) {
                throw new AssertionError("the worker did not answer within " + ANSWER_TIMEOUT + " (a hang)");
            }
            return frame == EOF ? null : frame;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    // -- requests -----------------------------------------------------------------------------------

    /** Sends a request with a fresh id without waiting; returns the id. */
    public long send(String op, Map<String, ?> fields) {
        ObjectNode message = JSON.valueToTree(fields);
        long id = ++nextId;
        message.put("id", id);
        message.put("op", op);
        sendMessage(message);
        return id;
    }

    /** Sends any JSON object as a frame (a callback reply, say). */
    public void sendMessage(Object message) {
        try {
            sendFrame(JSON.writeValueAsBytes(message));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Sends a request with a fresh id and returns its response, checking that the id is echoed (MSG-2). */
    public JsonNode request(String op, Map<String, ?> fields) {
        long id = send(op, fields);
        JsonNode response = readFrame();
        if (response == null) {
            throw new AssertionError("the worker closed its output instead of answering " + op + " " + fields);
        }
        if (response.path("id").asLong(-1) != id) {
            throw new AssertionError("response " + response + " does not echo request id " + id);
        }
        return response;
    }

    /** A session-scoped request carrying attachment frames (ATT-1); read the response's own with {@link #readRawFrame()}. */
    public JsonNode request(String op, String session, Map<String, ?> fields, List<byte[]> attachments) {
        ObjectNode message = JSON.valueToTree(fields);
        long id = ++nextId;
        message.put("id", id);
        message.put("op", op);
        message.put("session_id", session);
        message.put("attachments", attachments.size());
        sendMessage(message);
        attachments.forEach(this::sendFrame);
        JsonNode response = readFrame();
        if (response == null || response.path("id").asLong(-1) != id) {
            throw new AssertionError("response " + response + " does not answer request " + id);
        }
        return response;
    }

    /** A session-scoped request. */
    public JsonNode request(String op, String session, Map<String, ?> fields) {
        Map<String, Object> withSession = new java.util.LinkedHashMap<>(fields);
        withSession.put("session_id", session);
        return request(op, withSession);
    }

    public int exitCode(Duration timeout) {
        if (!link.awaitExit(timeout)) {
            throw new AssertionError("the worker did not exit within " + timeout);
        }
        String description = link.exitDescription();
        return description.startsWith("exit code ") ? Integer.parseInt(description.substring(10)) : -1;
    }

    @Override
    public void close() {
        link.close();
    }

    private static void removeQuietly(Path directory) {
        try {
            if (directory != null) {
                Files.deleteIfExists(directory);
            }
        } catch (IOException ignored) {
            // an empty temp directory left behind
        }
    }

    private void readFrames() {
        DataInputStream in = new DataInputStream(link.input());
        try {
            while (true) {
                int length = in.readInt();
                if (length < 0 || length > 256 << 20) {
                    frames.add(("{\"__client_error__\":\"frame length " + (length & 0xffffffffL) + " is not plausible\"}").getBytes());
                    break;
                }
                byte[] payload = new byte[length];
                in.readFully(payload);
                frames.add(payload);
            }
        } catch (EOFException e) {
            // the worker closed its output
        } catch (IOException e) {
            // the pipe broke: same as closed for the tests
        }
        frames.add(EOF);
    }
}
