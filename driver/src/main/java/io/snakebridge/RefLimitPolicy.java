package io.snakebridge;

/** What the worker does when a session already holds {@code maxRefs} refs and a call returns another. */
public enum RefLimitPolicy {
    /** Refuse the new ref with {@link RefLimitExceededException}; the object is dropped, the session stays usable. */
    REJECT("reject"),
    /** Evict the least recently used ref; its holder later gets {@link RefNotFoundException} with reason EVICTED. */
    EVICT_LRU("evict_lru");

    private final String wireName;

    RefLimitPolicy(String wireName) {
        this.wireName = wireName;
    }

    String wireName() {
        return wireName;
    }

    static RefLimitPolicy fromWire(String name) {
        for (RefLimitPolicy p : values()) {
            if (p.wireName.equals(name)) {
                return p;
            }
        }
        throw new IllegalStateException("unknown ref_limit_policy in defaults.json: " + name);
    }
}
