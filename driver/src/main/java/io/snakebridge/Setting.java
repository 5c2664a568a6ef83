package io.snakebridge;

import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The user-facing settings of {@link BridgeConfig}, with their meaning: the README's settings table
 * is checked against this list and the defaults it reads from a default config.
 */
enum Setting {
    PYTHON("python", BridgeConfig::python, "Interpreter command or path used to start the worker."),
    PYTHON_PATH("pythonPath", c -> c.pythonPath().stream().map(Object::toString).collect(Collectors.joining(":")),
            "Directories put on the worker's sys.path, for the application's own modules."),
    MAX_REFS("maxRefs", BridgeConfig::maxRefs, "Most refs one session may hold at once."),
    REF_LIMIT_POLICY("refLimitPolicy", BridgeConfig::refLimitPolicy,
            "At maxRefs: REJECT the new ref (RefLimitExceededException) or EVICT_LRU the least recently used."),
    REF_TTL("refTtl", BridgeConfig::refTtl, "Idle time after which an unused ref is released; PT0S is off."),
    LEAK_DETECTION("leakDetection", BridgeConfig::leakDetection,
            "Log the creation stack of each handle that was garbage-collected without close()."),
    START_TIMEOUT("startTimeout", BridgeConfig::startTimeout, "How long a worker may take to start and answer the handshake."),
    CALL_TIMEOUT("callTimeout", BridgeConfig::callTimeout,
            "Longest a call may run before it is interrupted (CallTimeoutException); PT0S is no limit."),
    CANCEL_GRACE("cancelGrace", BridgeConfig::cancelGrace,
            "After a cancel or timeout, how long the call gets to stop before the worker is killed."),
    MEMORY_LIMIT_BYTES("memoryLimitBytes", BridgeConfig::memoryLimitBytes,
            "Cap on the worker's address space (RLIMIT_AS); over it Python raises MemoryError. 0 is none.");

    final String key;
    final Function<BridgeConfig, Object> read;
    final String meaning;

    Setting(String key, Function<BridgeConfig, Object> read, String meaning) {
        this.key = key;
        this.read = read;
        this.meaning = meaning;
    }

    /** The default as the README writes it; an empty value is written {@code none}. */
    String defaultText() {
        String text = String.valueOf(read.apply(BridgeConfig.defaults()));
        return text.isEmpty() ? "none" : text;
    }
}
