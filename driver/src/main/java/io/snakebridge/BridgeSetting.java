package io.snakebridge;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Every setting of {@link BridgeConfig} by name, with its default and meaning: the one list that the
 * README's settings table, the JDBC driver's URL and {@code Properties} parsing, and its
 * {@code getPropertyInfo} all use. Values are written as in a JDBC URL: durations in ISO-8601
 * ({@code PT30S}), enums by name, paths separated by the platform's path separator.
 * It is also the one place that says which settings {@linkplain #choosesCode() choose code to run}.
 */
public enum BridgeSetting {
    /** {@code python}: the interpreter ({@link BridgeConfig.Builder#python}); chooses code. */
    PYTHON("python", BridgeConfig::python, (b, v) -> b.python(v), "Interpreter command or path used to start the worker.",
            Trait.CHOOSES_CODE),
    /** {@code pythonPath}: directories on the worker's {@code sys.path} ({@link BridgeConfig.Builder#pythonPath}); chooses code. */
    PYTHON_PATH("pythonPath", c -> c.pythonPath().stream().map(Object::toString).collect(Collectors.joining(File.pathSeparator)),
            (b, v) -> b.pythonPath(v.isEmpty() ? new Path[0]
                    : Arrays.stream(v.split(File.pathSeparator)).map(Path::of).toArray(Path[]::new)),
            "Directories put on the worker's sys.path, for the application's own modules.", Trait.CHOOSES_CODE),
    // Both environment settings choose code too: LD_PRELOAD or a BLAS plugin path runs a library in the worker.
    /** {@code inheritEnvironment}: variables passed from the JVM's environment ({@link BridgeConfig.Builder#inheritEnvironment}); chooses code. */
    INHERIT_ENVIRONMENT("inheritEnvironment", c -> String.join(",", c.inheritEnvironment()),
            (b, v) -> b.inheritEnvironment(commaList(v)),
            "Comma-separated names of variables the worker gets from the JVM's environment besides the allow-list (Worker environment).",
            Trait.CHOOSES_CODE),
    /** {@code workerEnvironment}: variables set for the worker ({@link BridgeConfig.Builder#workerEnvironment}); chooses code. */
    WORKER_ENVIRONMENT("workerEnvironment", c -> new TreeMap<>(c.workerEnvironment()).entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(",")),
            (b, v) -> b.workerEnvironment(assignments(v)),
            "Comma-separated NAME=value variables set in the worker's environment (in a URL, values cannot hold commas).",
            Trait.CHOOSES_CODE),
    /** {@code workerStart}: {@code FORK} or {@code SPAWN} ({@link BridgeConfig.Builder#workerStart}). */
    WORKER_START("workerStart", BridgeConfig::workerStart, (b, v) -> b.workerStart(WorkerStart.valueOf(v.toUpperCase(Locale.ROOT))),
            "FORK: a worker server that preloaded modules forks each worker (milliseconds); SPAWN: a fresh interpreter each."),
    // Choosing modules to import runs their code at the server's start, whatever a module policy allows.
    /** {@code preload}: modules a worker server imports before forking ({@link BridgeConfig.Builder#preload}); chooses code. */
    PRELOAD("preload", c -> String.join(",", c.preload()), (b, v) -> b.preload(commaList(v)),
            "Comma-separated modules the worker server imports once, before forking workers (FORK only).", Trait.CHOOSES_CODE),
    /** {@code hosts}: remote worker servers, tried in order ({@link BridgeConfig.Builder#hosts}). */
    HOSTS("hosts", c -> String.join(",", c.hosts()), (b, v) -> b.hosts(commaList(v)),
            "Comma-separated remote worker servers, host:port, tried in order (a URL writes them jdbc:snakebridge://h1:7171,h2:7171/); none: workers run on this machine."),
    /** {@code loadBalanceHosts}: the hosts in a random order at each connect ({@link BridgeConfig.Builder#loadBalanceHosts}). */
    LOAD_BALANCE_HOSTS("loadBalanceHosts", BridgeConfig::loadBalanceHosts, (b, v) -> b.loadBalanceHosts(parseBoolean(v)),
            "Try the hosts in a random order at each connect, spreading workers over the servers (pgjdbc's loadBalanceHosts); false: in the order given."),
    /** {@code ssl}: TLS to remote servers ({@link BridgeConfig.Builder#ssl}). */
    SSL("ssl", BridgeConfig::ssl, (b, v) -> b.ssl(parseBoolean(v)),
            "Reach remote servers over TLS, checking the server's certificate and host name; false only for a server started --insecure."),
    // The four file settings make the driver read files of this machine (a key, the token): from a URL,
    // a writer could aim them at other secrets and learn a MAC of one on a server of their own.
    /** {@code sslRootCert}: CA certificates for remote servers ({@link BridgeConfig.Builder#sslRootCert}); reads a local file. */
    SSL_ROOT_CERT("sslRootCert", c -> pathText(c.sslRootCert()), (b, v) -> b.sslRootCert(path(v)),
            "PEM file of the CA certificates trusted to sign remote servers' certificates; none: the JVM's default trust.",
            Trait.READS_LOCAL_FILES),
    /** {@code sslCert}: this client's certificate chain ({@link BridgeConfig.Builder#sslCert}); reads a local file. */
    SSL_CERT("sslCert", c -> pathText(c.sslCert()), (b, v) -> b.sslCert(path(v)),
            "PEM file of this client's certificate chain, for servers that demand one (mutual TLS).", Trait.READS_LOCAL_FILES),
    /** {@code sslKey}: the private key of {@code sslCert} ({@link BridgeConfig.Builder#sslKey}); reads a local file. */
    SSL_KEY("sslKey", c -> pathText(c.sslKey()), (b, v) -> b.sslKey(path(v)),
            "PEM file (unencrypted PKCS#8) of the private key of sslCert.", Trait.READS_LOCAL_FILES),
    /** {@code tokenFile}: the token remote servers ask for ({@link BridgeConfig.Builder#tokenFile}); reads a local file. */
    TOKEN_FILE("tokenFile", c -> pathText(c.tokenFile()), (b, v) -> b.tokenFile(path(v)),
            "File holding the token remote servers ask for; it is never sent (a challenge-response proves it).",
            Trait.READS_LOCAL_FILES),
    /** {@code connectTimeout}: per remote host ({@link BridgeConfig.Builder#connectTimeout}). */
    CONNECT_TIMEOUT("connectTimeout", BridgeConfig::connectTimeout, (b, v) -> b.connectTimeout(Duration.parse(v)),
            "How long each remote host gets to connect, do TLS, authenticate and fork a worker before the next is tried."),
    /** {@code maxRefs}: the most refs of one session ({@link BridgeConfig.Builder#maxRefs}). */
    MAX_REFS("maxRefs", BridgeConfig::maxRefs, (b, v) -> b.maxRefs(Integer.parseInt(v)), "Most refs one session may hold at once."),
    /** {@code refLimitPolicy}: {@code REJECT} or {@code EVICT_LRU} at {@code maxRefs} ({@link BridgeConfig.Builder#refLimitPolicy}). */
    REF_LIMIT_POLICY("refLimitPolicy", BridgeConfig::refLimitPolicy,
            (b, v) -> b.refLimitPolicy(RefLimitPolicy.valueOf(v.toUpperCase(Locale.ROOT))),
            "At maxRefs: REJECT the new ref (RefLimitExceededException) or EVICT_LRU the least recently used."),
    /** {@code refTtl}: a ref's idle time-to-live, ISO-8601 ({@link BridgeConfig.Builder#refTtl}). */
    REF_TTL("refTtl", BridgeConfig::refTtl, (b, v) -> b.refTtl(Duration.parse(v)),
            "Idle time after which an unused ref is released; PT0S is off."),
    /** {@code leakDetection}: {@code true} or {@code false} ({@link BridgeConfig.Builder#leakDetection}). */
    LEAK_DETECTION("leakDetection", BridgeConfig::leakDetection, (b, v) -> b.leakDetection(parseBoolean(v)),
            "Log the creation stack of each handle that was garbage-collected without close()."),
    /** {@code startTimeout}: how long a worker may take to start, ISO-8601 ({@link BridgeConfig.Builder#startTimeout}). */
    START_TIMEOUT("startTimeout", BridgeConfig::startTimeout, (b, v) -> b.startTimeout(Duration.parse(v)),
            "How long a worker may take to start and answer the handshake."),
    /** {@code callTimeout}: how long a call may run, ISO-8601 ({@link BridgeConfig.Builder#callTimeout}). */
    CALL_TIMEOUT("callTimeout", BridgeConfig::callTimeout, (b, v) -> b.callTimeout(Duration.parse(v)),
            "Longest a call may run before it is interrupted (CallTimeoutException); PT0S is no limit."),
    /** {@code cancelGrace}: how long an interrupted call may take to stop, ISO-8601 ({@link BridgeConfig.Builder#cancelGrace}). */
    CANCEL_GRACE("cancelGrace", BridgeConfig::cancelGrace, (b, v) -> b.cancelGrace(Duration.parse(v)),
            "After a cancel or timeout, how long the call gets to stop before the worker is killed."),
    /** {@code memoryLimitBytes}: the worker's address-space cap ({@link BridgeConfig.Builder#memoryLimitBytes}). */
    MEMORY_LIMIT_BYTES("memoryLimitBytes", BridgeConfig::memoryLimitBytes, (b, v) -> b.memoryLimitBytes(Long.parseLong(v)),
            "Cap on the worker's address space (RLIMIT_AS); over it Python raises MemoryError. 0 is none."),
    /** {@code allowModules}: the module policy's allow list ({@link BridgeConfig.Builder#allowModules}). */
    ALLOW_MODULES("allowModules", c -> String.join(",", c.allowModules()), (b, v) -> b.allowModules(commaList(v)),
            "Comma-separated modules that requests may reach by name (with their submodules); none means all."),
    /** {@code denyModules}: the module policy's deny list ({@link BridgeConfig.Builder#denyModules}). */
    DENY_MODULES("denyModules", c -> String.join(",", c.denyModules()), (b, v) -> b.denyModules(commaList(v)),
            "Comma-separated modules that requests may not reach by name; wins over allowModules."),
    /** {@code maxFrameBytes}: the largest frame ({@link BridgeConfig.Builder#maxFrameBytes}). */
    MAX_FRAME_BYTES("maxFrameBytes", BridgeConfig::maxFrameBytes, (b, v) -> b.maxFrameBytes(Integer.parseInt(v)),
            "Largest frame (a message, or one binary value) either side sends or accepts; set at the handshake."),
    /** {@code maxNestingDepth}: the deepest nesting of values ({@link BridgeConfig.Builder#maxNestingDepth}). */
    MAX_NESTING_DEPTH("maxNestingDepth", BridgeConfig::maxNestingDepth, (b, v) -> b.maxNestingDepth(Integer.parseInt(v)),
            "Deepest nesting of containers either side sends or accepts."),
    /** {@code maxStringLength}: the longest str or bytes value ({@link BridgeConfig.Builder#maxStringLength}). */
    MAX_STRING_LENGTH("maxStringLength", BridgeConfig::maxStringLength, (b, v) -> b.maxStringLength(Integer.parseInt(v)),
            "Longest str (characters) or bytes value either side sends or accepts."),
    /** {@code maxResponseBytes}: the most bytes of one response ({@link BridgeConfig.Builder#maxResponseBytes}). */
    MAX_RESPONSE_BYTES("maxResponseBytes", BridgeConfig::maxResponseBytes, (b, v) -> b.maxResponseBytes(Long.parseLong(v)),
            "Most bytes one response may carry, its JSON and binary values together; past it the call fails, the connection goes on."),
    /** {@code maxResponseElements}: the most JSON values of one response ({@link BridgeConfig.Builder#maxResponseElements}). */
    MAX_RESPONSE_ELEMENTS("maxResponseElements", BridgeConfig::maxResponseElements,
            (b, v) -> b.maxResponseElements(Integer.parseInt(v)),
            "Most JSON values (numbers, strings, lists, dicts) one response may hold: bounds the heap a response takes to decode.");

    private final String key;
    private final Function<BridgeConfig, Object> read;
    private final BiConsumer<BridgeConfig.Builder, String> write;
    private final String meaning;
    private final boolean choosesCode;
    private final boolean readsLocalFiles;

    BridgeSetting(String key, Function<BridgeConfig, Object> read, BiConsumer<BridgeConfig.Builder, String> write, String meaning) {
        this(key, read, write, meaning, null);
    }

    BridgeSetting(String key, Function<BridgeConfig, Object> read, BiConsumer<BridgeConfig.Builder, String> write, String meaning,
            Trait trait) {
        this.key = key;
        this.read = read;
        this.write = write;
        this.meaning = meaning;
        this.choosesCode = trait == Trait.CHOOSES_CODE;
        this.readsLocalFiles = trait == Trait.READS_LOCAL_FILES;
    }

    /** A mark on a setting, named where the setting is declared (an enum: constants cannot name a static field of their own enum). */
    private enum Trait {
        /** The value decides what code the worker runs (an executable, a module path). */
        CHOOSES_CODE,
        /** The value names a file of this machine that the driver reads: a key, a token, trusted certificates. */
        READS_LOCAL_FILES
    }

    /**
     * The name used in builders, JDBC URLs and {@code Properties}.
     *
     * @return e.g. {@code maxRefs}
     */
    public String key() {
        return key;
    }

    /**
     * What the setting does, in one sentence: the description the JDBC driver's
     * {@code getPropertyInfo} gives.
     *
     * @return the description
     */
    public String meaning() {
        return meaning;
    }

    /**
     * Whether this setting decides what code the worker runs ({@code python} names an executable,
     * {@code pythonPath} puts modules on its path). Whoever writes such a setting can run code on
     * this machine, so the JDBC driver refuses it from a URL or {@code Properties} unless the JVM
     * allows it; set in code ({@link BridgeConfig.Builder}) it is always allowed.
     *
     * @return true for {@code python}, {@code pythonPath}, {@code inheritEnvironment},
     *         {@code workerEnvironment} and {@code preload}
     */
    public boolean choosesCode() {
        return choosesCode;
    }

    /**
     * Whether this setting names a file of this machine for the driver to read (the token, a private
     * key, trusted certificates). Refused from a URL or {@code Properties} as {@link #choosesCode()}
     * settings are: whoever writes the URL could aim it at another secret file of this machine.
     *
     * @return true for {@code tokenFile}, {@code sslKey}, {@code sslCert} and {@code sslRootCert}
     */
    public boolean readsLocalFiles() {
        return readsLocalFiles;
    }

    /**
     * Whether the JDBC driver refuses this setting from a URL or {@code Properties} unless the JVM allows it.
     *
     * @return true if it {@linkplain #choosesCode() chooses code} or {@linkplain #readsLocalFiles() reads local files}
     */
    public boolean refusedInUrl() {
        return choosesCode || readsLocalFiles;
    }

    /**
     * This setting's value in {@code config}, written as a URL would write it.
     *
     * @param config the config to read
     * @return the value as text; empty for an empty list
     */
    public String valueIn(BridgeConfig config) {
        return String.valueOf(read.apply(config));
    }

    /**
     * The Java type of this setting's value: {@code Integer}, {@code Long}, {@code Boolean}, {@code Duration},
     * an enum, or {@code String} for text and lists (written as in a URL). For tools that bind settings by
     * type, such as the Spring Boot starter; {@link #configFrom(Map)} takes each value's {@code toString()}
     * (an enum's name, a duration in ISO-8601).
     *
     * @return the type of the setting's value
     */
    public Class<?> type() {
        Object value = read.apply(BridgeConfig.defaults());
        if (value instanceof Enum<?>) {
            return ((Enum<?>) value).getDeclaringClass();
        }
        return value == null ? String.class : value.getClass();
    }

    /**
     * The default as the README writes it.
     *
     * @return the default value as text; {@code none} for an empty one
     */
    public String defaultText() {
        String text = valueIn(BridgeConfig.defaults());
        return text.isEmpty() ? "none" : text;
    }

    /**
     * The setting of a name.
     *
     * @param key the name, exactly as {@link #key()} writes it (case matters)
     * @return the setting, or empty for an unknown name
     */
    public static Optional<BridgeSetting> byKey(String key) {
        return Arrays.stream(values()).filter(s -> s.key.equals(key)).findFirst();
    }

    /**
     * A config from settings by name, over the defaults. Values are trimmed; settings that
     * {@linkplain #choosesCode() choose code} are taken like any other (the JDBC driver checks those first).
     *
     * @param settings values as text by setting name
     * @return the config
     * @throws IllegalArgumentException naming the setting and the known ones, for an unknown name or a bad value
     */
    public static BridgeConfig configFrom(Map<String, String> settings) {
        BridgeConfig.Builder builder = BridgeConfig.builder();
        settings.forEach((key, value) -> byKey(key).orElseThrow(() -> new IllegalArgumentException("unknown setting '" + key
                + "'; known settings: " + Arrays.stream(values()).map(BridgeSetting::key).collect(Collectors.joining(", "))))
                .applyTo(builder, value));
        return builder.build();
    }

    /**
     * Sets this setting on a builder from its text, as a URL writes it (trimmed). Checks that only
     * involve several settings (a client certificate needs its key) wait for {@link BridgeConfig.Builder#build()}.
     *
     * @param builder the builder to set it on
     * @param value the value as text
     * @throws IllegalArgumentException naming the setting, for a bad value
     */
    public void applyTo(BridgeConfig.Builder builder, String value) {
        try {
            write.accept(builder, value.trim());
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw new IllegalArgumentException("bad value '" + value + "' for setting " + key + ": " + e.getMessage(), e);
        }
    }

    private static String[] commaList(String v) {
        return v.isEmpty() ? new String[0] : Arrays.stream(v.split(",")).map(String::trim).toArray(String[]::new);
    }

    private static String pathText(Path path) {
        return path == null ? "" : path.toString();
    }

    private static Path path(String v) {
        return v.isEmpty() ? null : Path.of(v);
    }

    private static Map<String, String> assignments(String v) {
        Map<String, String> variables = new LinkedHashMap<>();
        for (String assignment : commaList(v)) {
            int equals = assignment.indexOf('=');
            if (equals < 1) {
                throw new IllegalArgumentException("expected NAME=value, got '" + assignment + "'");
            }
            variables.put(assignment.substring(0, equals), assignment.substring(equals + 1));
        }
        return variables;
    }

    private static boolean parseBoolean(String v) {
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new IllegalArgumentException("expected true or false");
    }
}
