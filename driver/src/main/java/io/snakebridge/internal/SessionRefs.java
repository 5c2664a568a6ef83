package io.snakebridge.internal;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The session this connection holds (PROTOCOL.md SESS-*) and the refs of it that were collected
 * without close(): the GC backstop only enqueues their ids here, and the next request of the same
 * session carries them as its {@code release} field.
 */
final class SessionRefs {
    private static final SecureRandom RANDOM = new SecureRandom();

    private volatile String id;
    /** {session id, ref id} of handles collected without close(). */
    private final ConcurrentLinkedQueue<String[]> abandoned = new ConcurrentLinkedQueue<>();

    SessionRefs() {
        this.id = newId();
    }

    /** An unguessable session id (SESS-1). */
    static String newId() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return "sb-" + HexFormat.of().formatHex(bytes);
    }

    String id() {
        return id;
    }

    void moveTo(String next) {
        id = next;
    }

    /** Called on the cleaner thread: never does I/O, only enqueues. */
    void abandon(String sessionId, String refId) {
        abandoned.add(new String[] {sessionId, refId});
    }

    /** The abandoned ids of the current session (others' sessions are gone, and their refs with them), or null. */
    List<String> drainAbandoned() {
        List<String> ids = null;
        for (String[] entry; (entry = abandoned.poll()) != null; ) {
            if (entry[0].equals(id)) {
                if (ids == null) {
                    ids = new ArrayList<>();
                }
                ids.add(entry[1]);
            }
        }
        return ids;
    }
}
