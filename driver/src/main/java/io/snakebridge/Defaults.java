package io.snakebridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;

/**
 * Every default, in one place. The protocol-level ones are read from the worker's own
 * {@code snakebridge_worker/defaults.json}, so a standalone worker and the driver can never disagree.
 */
final class Defaults {
    private static final JsonNode WORKER = load();

    static final String PYTHON = "python3";
    static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    /**
     * Fork where a worker server can run (Linux, macOS: Unix sockets, fork and signals); spawn
     * elsewhere. Read from the OS name, not by loading libc: a default must not load native code.
     */
    static final WorkerStart WORKER_START = System.getProperty("os.name", "").matches("(?i)(linux|mac).*")
            ? WorkerStart.FORK : WorkerStart.SPAWN;
    /** No module preloaded. */
    static final java.util.List<String> PRELOAD = java.util.List.of();
    static final boolean LEAK_DETECTION = false;
    /** No remote hosts: workers are this machine's (spawned, or forked by the JVM's own server). */
    static final java.util.List<String> HOSTS = java.util.List.of();
    /** Remote hosts are tried in the order given (pgjdbc's default too). */
    static final boolean LOAD_BALANCE_HOSTS = false;
    /** Remote worker servers are reached over TLS unless told otherwise. */
    static final boolean SSL = true;
    /** None: the JVM's default trust (its cacerts, or javax.net.ssl.trustStore). */
    static final java.nio.file.Path NO_FILE = null;
    /** How long one remote host gets to accept, do TLS, authenticate and fork, before the next is tried. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** How long a closing worker gets after EOF before SIGTERM, and again before SIGKILL. */
    static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(2);
    /** No per-call timeout. */
    static final Duration CALL_TIMEOUT = Duration.ZERO;
    static final Duration CANCEL_GRACE = Duration.ofSeconds(3);
    /** No address-space cap. */
    static final long MEMORY_LIMIT_BYTES = 0;
    /** Workers get only the allow-listed variables (internal.WorkerLaunch) of the JVM's environment, and none set. */
    static final java.util.List<String> INHERIT_ENVIRONMENT = java.util.List.of();
    static final java.util.Map<String, String> WORKER_ENVIRONMENT = java.util.Map.of();
    /** No module policy: every module may be reached. */
    static final java.util.List<String> ALLOW_MODULES = java.util.List.of();
    static final java.util.List<String> DENY_MODULES = java.util.List.of();

    static final int MAX_REFS = WORKER.get("max_refs").intValue();
    static final RefLimitPolicy REF_LIMIT_POLICY = RefLimitPolicy.fromWire(WORKER.get("ref_limit_policy").textValue());
    static final Duration REF_TTL = Duration.ofMillis(Math.round(WORKER.get("ref_ttl_seconds").doubleValue() * 1000));
    static final int MAX_FRAME_BYTES = WORKER.get("max_frame_bytes").intValue();
    static final int MAX_NESTING_DEPTH = WORKER.get("max_nesting_depth").intValue();
    static final int MAX_INT_DIGITS = WORKER.get("max_int_digits").intValue();
    static final int MAX_STRING_LENGTH = WORKER.get("max_string_length").intValue();
    static final long MAX_RESPONSE_BYTES = WORKER.get("max_response_bytes").longValue();
    static final int MAX_RESPONSE_ELEMENTS = WORKER.get("max_response_elements").intValue();
    /** Binary payloads at least this large travel as attachments rather than inline base64 (ATT-1). */
    static final int ATTACHMENT_MIN_BYTES = WORKER.get("attachment_min_bytes").intValue();

    private Defaults() {
    }

    /** Throws unless {@code value} is within the range the protocol allows for a negotiable limit (HS-5). */
    static int checkLimit(String wireName, String setting, int value) {
        checkLimit(wireName, setting, (long) value);
        return value;
    }

    static long checkLimit(String wireName, String setting, long value) {
        JsonNode range = WORKER.get("negotiable_limits").get(wireName);
        long low = range.get(0).longValue();
        long high = range.get(1).longValue();
        if (value < low || value > high) {
            throw new IllegalArgumentException(setting + " must be from " + low + " to " + high + ", got " + value);
        }
        return value;
    }

    private static JsonNode load() {
        try (InputStream in = Defaults.class.getClassLoader().getResourceAsStream("snakebridge_worker/defaults.json")) {
            if (in == null) {
                throw new IllegalStateException("snakebridge_worker/defaults.json is missing: is snakebridge-python on the classpath?");
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read snakebridge_worker/defaults.json", e);
        }
    }
}
