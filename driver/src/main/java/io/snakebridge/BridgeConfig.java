package io.snakebridge;

import io.snakebridge.internal.HostAndPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How to start a worker and the limits of its session. Immutable; every setting has a documented
 * default (README "Settings"), held in one place in code.
 *
 * <pre>{@code
 * BridgeConfig config = BridgeConfig.builder()
 *         .python("/usr/bin/python3.11")
 *         .pythonPath(Path.of("src/main/python"))
 *         .workerEnvironment(Map.of("OMP_NUM_THREADS", "1"))
 *         .maxRefs(1_000)
 *         .refTtl(Duration.ofMinutes(5))
 *         .build();
 * }</pre>
 */
public final class BridgeConfig {
    private static final BridgeConfig DEFAULTS = builder().build();

    private final String python;
    private final List<Path> pythonPath;
    private final List<String> inheritEnvironment;
    private final Map<String, String> workerEnvironment;
    private final WorkerStart workerStart;
    private final List<String> preload;
    private final List<String> hosts;
    private final boolean loadBalanceHosts;
    private final boolean ssl;
    private final Path sslRootCert;
    private final Path sslCert;
    private final Path sslKey;
    private final Path tokenFile;
    private final Duration connectTimeout;
    private final int maxRefs;
    private final RefLimitPolicy refLimitPolicy;
    private final Duration refTtl;
    private final boolean leakDetection;
    private final Duration startTimeout;
    private final Duration callTimeout;
    private final Duration cancelGrace;
    private final long memoryLimitBytes;
    private final List<String> allowModules;
    private final List<String> denyModules;
    private final int maxFrameBytes;
    private final int maxNestingDepth;
    private final int maxStringLength;
    private final long maxResponseBytes;
    private final int maxResponseElements;
    private final RequestListener requestListener;

    private BridgeConfig(Builder b) {
        this.python = b.python;
        this.pythonPath = List.copyOf(b.pythonPath);
        this.inheritEnvironment = b.inheritEnvironment;
        this.workerEnvironment = b.workerEnvironment;
        this.workerStart = b.workerStart;
        this.preload = b.preload;
        this.hosts = b.hosts;
        this.loadBalanceHosts = b.loadBalanceHosts;
        this.ssl = b.ssl;
        this.sslRootCert = b.sslRootCert;
        this.sslCert = b.sslCert;
        this.sslKey = b.sslKey;
        this.tokenFile = b.tokenFile;
        this.connectTimeout = b.connectTimeout;
        this.maxRefs = b.maxRefs;
        this.refLimitPolicy = b.refLimitPolicy;
        this.refTtl = b.refTtl;
        this.leakDetection = b.leakDetection;
        this.startTimeout = b.startTimeout;
        this.callTimeout = b.callTimeout;
        this.cancelGrace = b.cancelGrace;
        this.memoryLimitBytes = b.memoryLimitBytes;
        this.allowModules = List.copyOf(b.allowModules);
        this.denyModules = List.copyOf(b.denyModules);
        this.maxFrameBytes = b.maxFrameBytes;
        this.maxNestingDepth = b.maxNestingDepth;
        this.maxStringLength = b.maxStringLength;
        this.maxResponseBytes = b.maxResponseBytes;
        this.maxResponseElements = b.maxResponseElements;
        this.requestListener = b.requestListener;
    }

    /**
     * The largest frame either side sends or accepts (PROTOCOL.md FRAME-3, HS-5).
     *
     * @return the limit in bytes
     */
    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    /**
     * The deepest value either side sends or accepts (VAL-LIM-1).
     *
     * @return the most levels of nested containers
     */
    public int maxNestingDepth() {
        return maxNestingDepth;
    }

    /**
     * The longest str or bytes value either side sends or accepts (VAL-LIM-3).
     *
     * @return the limit, in characters for a str and bytes for a bytes value
     */
    public int maxStringLength() {
        return maxStringLength;
    }

    /**
     * The most bytes one response may carry, its JSON and binary values together (PROTOCOL.md RESP-1).
     *
     * @return the limit in bytes
     */
    public long maxResponseBytes() {
        return maxResponseBytes;
    }

    /**
     * The most JSON values one response may hold (PROTOCOL.md RESP-2).
     *
     * @return the limit, in JSON values
     */
    public int maxResponseElements() {
        return maxResponseElements;
    }

    /**
     * The config with every setting at its default (README "Settings", {@link BridgeSetting#defaultText()}).
     *
     * @return the shared default config
     */
    public static BridgeConfig defaults() {
        return DEFAULTS;
    }

    /**
     * A builder that starts from the defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The interpreter that runs the worker.
     *
     * @return a command looked up on {@code PATH} (e.g. {@code python3}) or a path
     */
    public String python() {
        return python;
    }

    /**
     * Directories added to the worker's {@code sys.path} (the user's own modules).
     *
     * @return the directories, in order; unmodifiable, possibly empty
     */
    public List<Path> pythonPath() {
        return pythonPath;
    }

    /**
     * Names of the variables a worker gets from this JVM's environment besides the ones every worker
     * gets (README "Worker environment").
     *
     * @return the variable names; unmodifiable, possibly empty
     */
    public List<String> inheritEnvironment() {
        return inheritEnvironment;
    }

    /**
     * Variables set in the worker's environment, over those it inherits.
     *
     * @return values by name; unmodifiable, possibly empty
     */
    public Map<String, String> workerEnvironment() {
        return workerEnvironment;
    }

    /**
     * Whether a connection's worker is forked by a worker server or spawned as a fresh interpreter.
     *
     * @return {@link WorkerStart#FORK} or {@link WorkerStart#SPAWN}
     */
    public WorkerStart workerStart() {
        return workerStart;
    }

    /**
     * Modules a worker server imports once, before it forks any worker ({@link WorkerStart#FORK} only).
     *
     * @return dotted module names; unmodifiable, possibly empty
     */
    public List<String> preload() {
        return preload;
    }

    /**
     * Remote worker servers ({@code host:port}), tried in order; empty (the default): workers run on
     * this machine. README "Remote workers".
     *
     * @return {@code host:port} entries; unmodifiable, possibly empty
     */
    public List<String> hosts() {
        return hosts;
    }

    /**
     * Whether {@link #hosts()} are tried in a random order at each connect rather than in the order given.
     *
     * @return true to spread workers over the servers; false (the default) to try them in order
     */
    public boolean loadBalanceHosts() {
        return loadBalanceHosts;
    }

    /**
     * Whether remote worker servers are reached over TLS.
     *
     * @return true unless turned off for a server started {@code --insecure}
     */
    public boolean ssl() {
        return ssl;
    }

    /**
     * PEM file of the certificates trusted to sign remote servers' certificates.
     *
     * @return the file, or null: the JVM's default trust
     */
    public Path sslRootCert() {
        return sslRootCert;
    }

    /**
     * PEM file of this client's certificate chain, for servers that demand one (mutual TLS).
     *
     * @return the file, or null: none
     */
    public Path sslCert() {
        return sslCert;
    }

    /**
     * PEM file (PKCS#8, unencrypted) of the private key of {@link #sslCert()}.
     *
     * @return the file, or null: none
     */
    public Path sslKey() {
        return sslKey;
    }

    /**
     * File holding the token remote servers authenticate this client by.
     *
     * @return the file, or null: none
     */
    public Path tokenFile() {
        return tokenFile;
    }

    /**
     * How long each remote host gets to connect, do TLS, authenticate and fork a worker.
     *
     * @return the timeout per host
     */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /**
     * The most refs one session may hold at once.
     *
     * @return the limit, at least 1
     */
    public int maxRefs() {
        return maxRefs;
    }

    /**
     * What the worker does when a session at {@link #maxRefs()} gets another ref.
     *
     * @return {@link RefLimitPolicy#REJECT} or {@link RefLimitPolicy#EVICT_LRU}
     */
    public RefLimitPolicy refLimitPolicy() {
        return refLimitPolicy;
    }

    /**
     * Idle time after which an unused ref is released.
     *
     * @return the time-to-live, renewed by every use; {@link Duration#ZERO} is off
     */
    public Duration refTtl() {
        return refTtl;
    }

    /**
     * Whether a handle garbage-collected without {@code close()} is logged with the stack that created it
     * (logger {@code io.snakebridge.leaks}).
     *
     * @return true if creation stacks are recorded
     */
    public boolean leakDetection() {
        return leakDetection;
    }

    /**
     * How long a worker may take to start and answer the handshake before {@link SnakeBridge#connect}
     * fails with {@link WorkerStartException}.
     *
     * @return the timeout, positive
     */
    public Duration startTimeout() {
        return startTimeout;
    }

    /**
     * How long a call may run before it is interrupted.
     *
     * @return the timeout; {@link Duration#ZERO} is no limit
     */
    public Duration callTimeout() {
        return callTimeout;
    }

    /**
     * How long an interrupted call may take to stop before the worker is killed.
     *
     * @return the grace, zero or more
     */
    public Duration cancelGrace() {
        return cancelGrace;
    }

    /**
     * The worker's address-space cap.
     *
     * @return the cap in bytes; 0 is none
     */
    public long memoryLimitBytes() {
        return memoryLimitBytes;
    }

    /**
     * The only modules (and their submodules) requests may reach by name.
     *
     * @return dotted module names; unmodifiable; empty allows every module
     */
    public List<String> allowModules() {
        return allowModules;
    }

    /**
     * Modules (and their submodules) requests may not reach; wins over {@link #allowModules()}.
     *
     * @return dotted module names; unmodifiable, possibly empty
     */
    public List<String> denyModules() {
        return denyModules;
    }

    /**
     * Told of every request's end (for metrics and health).
     *
     * @return the listener, or null for none
     */
    public RequestListener requestListener() {
        return requestListener;
    }

    /**
     * A builder holding this config's settings, to derive a config that differs in a few.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        return new Builder().python(python).pythonPath(pythonPath.toArray(new Path[0]))
                .inheritEnvironment(inheritEnvironment.toArray(new String[0])).workerEnvironment(workerEnvironment)
                .workerStart(workerStart).preload(preload.toArray(new String[0]))
                .hosts(hosts.toArray(new String[0])).loadBalanceHosts(loadBalanceHosts).ssl(ssl).sslRootCert(sslRootCert).sslCert(sslCert).sslKey(sslKey)
                .tokenFile(tokenFile).connectTimeout(connectTimeout).maxRefs(maxRefs)
                .refLimitPolicy(refLimitPolicy).refTtl(refTtl).leakDetection(leakDetection).startTimeout(startTimeout)
                .callTimeout(callTimeout).cancelGrace(cancelGrace).memoryLimitBytes(memoryLimitBytes)
                .allowModules(allowModules.toArray(new String[0])).denyModules(denyModules.toArray(new String[0]))
                .maxFrameBytes(maxFrameBytes).maxNestingDepth(maxNestingDepth).maxStringLength(maxStringLength)
                .maxResponseBytes(maxResponseBytes).maxResponseElements(maxResponseElements).requestListener(requestListener);
    }

    /** Validates each setting as it is set, so a bad value fails where it is written. */
    public static final class Builder {
        private String python = Defaults.PYTHON;
        private List<Path> pythonPath = List.of();
        private List<String> inheritEnvironment = Defaults.INHERIT_ENVIRONMENT;
        private Map<String, String> workerEnvironment = Defaults.WORKER_ENVIRONMENT;
        private WorkerStart workerStart = Defaults.WORKER_START;
        private List<String> preload = Defaults.PRELOAD;
        private List<String> hosts = Defaults.HOSTS;
        private boolean loadBalanceHosts = Defaults.LOAD_BALANCE_HOSTS;
        private boolean ssl = Defaults.SSL;
        private Path sslRootCert = Defaults.NO_FILE;
        private Path sslCert = Defaults.NO_FILE;
        private Path sslKey = Defaults.NO_FILE;
        private Path tokenFile = Defaults.NO_FILE;
        private Duration connectTimeout = Defaults.CONNECT_TIMEOUT;
        private int maxRefs = Defaults.MAX_REFS;
        private RefLimitPolicy refLimitPolicy = Defaults.REF_LIMIT_POLICY;
        private Duration refTtl = Defaults.REF_TTL;
        private boolean leakDetection = Defaults.LEAK_DETECTION;
        private Duration startTimeout = Defaults.START_TIMEOUT;
        private Duration callTimeout = Defaults.CALL_TIMEOUT;
        private Duration cancelGrace = Defaults.CANCEL_GRACE;
        private long memoryLimitBytes = Defaults.MEMORY_LIMIT_BYTES;
        private RequestListener requestListener;
        private List<String> allowModules = Defaults.ALLOW_MODULES;
        private List<String> denyModules = Defaults.DENY_MODULES;
        private int maxFrameBytes = Defaults.MAX_FRAME_BYTES;
        private int maxNestingDepth = Defaults.MAX_NESTING_DEPTH;
        private int maxStringLength = Defaults.MAX_STRING_LENGTH;
        private long maxResponseBytes = Defaults.MAX_RESPONSE_BYTES;
        private int maxResponseElements = Defaults.MAX_RESPONSE_ELEMENTS;

        private Builder() {
        }

        /**
         * The largest frame (a message's JSON, or one binary attachment) either side may send. A
         * request over it fails before anything is written; a result over it is an error from the
         * worker, not a broken connection.
         *
         * @param bytes the limit in bytes
         * @return this builder
         * @throws IllegalArgumentException if outside the range the protocol allows (the message names it)
         */
        public Builder maxFrameBytes(int bytes) {
            this.maxFrameBytes = Defaults.checkLimit("max_frame_bytes", "maxFrameBytes", bytes);
            return this;
        }

        /**
         * The deepest nesting of containers either side may send; a deeper value is an
         * {@link InvalidValueException}.
         *
         * @param depth the most levels
         * @return this builder
         * @throws IllegalArgumentException if outside the range the protocol allows (the message names it)
         */
        public Builder maxNestingDepth(int depth) {
            this.maxNestingDepth = Defaults.checkLimit("max_nesting_depth", "maxNestingDepth", depth);
            return this;
        }

        /**
         * The longest str (in characters) or bytes value either side may send; a longer one is an
         * {@link InvalidValueException}.
         *
         * @param length the limit, in characters for a str and bytes for a bytes value
         * @return this builder
         * @throws IllegalArgumentException if outside the range the protocol allows (the message names it)
         */
        public Builder maxStringLength(int length) {
            this.maxStringLength = Defaults.checkLimit("max_string_length", "maxStringLength", length);
            return this;
        }

        /**
         * The most bytes one response may carry: its JSON and all its binary values (bytes, arrays)
         * together, so that the responses one call can bring into this JVM's heap are bounded, not only
         * each frame. The worker refuses a result past it before sending anything, and the call fails
         * with {@link InvalidValueException}; the connection goes on. The default, 128 MiB, is two full
         * frames at the default {@link #maxFrameBytes}; larger data belongs in Python as a ref, fetched in
         * parts, or in a cursor.
         *
         * @param bytes the limit in bytes
         * @return this builder
         * @throws IllegalArgumentException if outside the range the protocol allows (the message names it)
         */
        public Builder maxResponseBytes(long bytes) {
            this.maxResponseBytes = Defaults.checkLimit("max_response_bytes", "maxResponseBytes", bytes);
            return this;
        }

        /**
         * The most JSON values (each number, string, list, dict, and the fields of tagged values) one
         * response may hold. Each costs this JVM some 50 to 160 bytes of heap while it is parsed and
         * decoded, whatever its few bytes on the wire: a 60 MB frame of twenty million empty lists would
         * take over a gigabyte. The default, two million, lets a list of two million floats through (some
         * 115 MB of heap at its peak); numbers in bulk travel far cheaper as arrays ({@code callArray},
         * {@link NDArray}). Past it the call fails with {@link InvalidValueException}; the connection goes on.
         *
         * @param values the limit, in JSON values
         * @return this builder
         * @throws IllegalArgumentException if outside the range the protocol allows (the message names it)
         */
        public Builder maxResponseElements(int values) {
            this.maxResponseElements = Defaults.checkLimit("max_response_elements", "maxResponseElements", values);
            return this;
        }

        /**
         * The interpreter that runs the worker: Python 3.10 or later.
         *
         * @param python a command looked up on {@code PATH} (e.g. {@code python3.12}) or a path
         * @return this builder
         * @throws IllegalArgumentException if blank
         * @throws NullPointerException if null
         */
        public Builder python(String python) {
            if (Objects.requireNonNull(python, "python").isBlank()) {
                throw new IllegalArgumentException("python must name an interpreter, e.g. python3");
            }
            this.python = python;
            return this;
        }

        /**
         * Directories put on the worker's {@code sys.path}, for the application's own modules. They
         * are trusted: whatever they hold runs in the worker.
         *
         * @param directories the directories, in order; none to clear
         * @return this builder
         * @throws NullPointerException if a directory is null
         */
        public Builder pythonPath(Path... directories) {
            this.pythonPath = List.of(directories);
            return this;
        }

        /**
         * Passes these variables from this JVM's environment to the worker (when set), besides the
         * few every worker gets: PATH, HOME, the locale, the time zone, the temp directory and the
         * BLAS/OpenMP thread counts (README "Worker environment"). Nothing else of the JVM's
         * environment reaches a worker, so its secrets stay in the JVM unless named here.
         * {@code PYTHON*} variables are refused: the worker runs isolated ({@code python -I}), which
         * ignores them; use {@link #pythonPath} for module directories.
         *
         * @param names variable names; none to pass only the allow-list
         * @return this builder
         * @throws IllegalArgumentException if a name is not a variable name or starts with {@code PYTHON}
         */
        public Builder inheritEnvironment(String... names) {
            for (String name : names) {
                environmentName(name, "inheritEnvironment");
            }
            this.inheritEnvironment = List.of(names);
            return this;
        }

        /**
         * Sets these variables in the worker's environment (over any it inherits), e.g.
         * {@code Map.of("OMP_NUM_THREADS", "1")} for one BLAS thread per worker. {@code PYTHON*}
         * variables are refused, as for {@link #inheritEnvironment}.
         *
         * @param variables values by name (copied)
         * @return this builder
         * @throws IllegalArgumentException if a name is not a variable name or starts with {@code PYTHON},
         *         or a value holds a NUL character
         * @throws NullPointerException if a value is null
         */
        public Builder workerEnvironment(Map<String, String> variables) {
            variables.forEach((name, value) -> {
                environmentName(name, "workerEnvironment");
                if (Objects.requireNonNull(value, name).indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("workerEnvironment: the value of " + name + " holds a NUL character");
                }
            });
            this.workerEnvironment = Map.copyOf(variables);
            return this;
        }

        /**
         * How a connection gets its worker process (README "Worker start").
         *
         * @param start {@link WorkerStart#FORK} (the default where it is supported) or {@link WorkerStart#SPAWN}
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder workerStart(WorkerStart start) {
            this.workerStart = Objects.requireNonNull(start, "workerStart");
            return this;
        }

        /**
         * Modules the worker server imports once, so each forked worker has them already ({@code "numpy"}).
         * They run at the server's start, before any fork: see README "Worker start" for what they may not do.
         *
         * @param modules dotted module names; none to preload nothing
         * @return this builder
         * @throws IllegalArgumentException if a name is not a dotted module name
         */
        public Builder preload(String... modules) {
            this.preload = dottedNames(modules, "preload");
            return this;
        }

        /**
         * Remote worker servers, {@code "host:port"} ({@code "[::1]:7171"} for IPv6; the port defaults
         * to 7171), tried in order until one gives a worker: a host that cannot be reached, fails TLS,
         * does not answer within {@link #connectTimeout} or has no worker to spare is skipped; one that
         * refuses this client's token is not (that is a configuration error, SQLState 28000). None (the
         * default): workers run on this machine.
         *
         * @param hosts {@code host:port} entries, in the order to try them
         * @return this builder
         * @throws IllegalArgumentException naming an entry that is not {@code host[:port]}
         */
        public Builder hosts(String... hosts) {
            for (String host : hosts) {
                HostAndPort.parse(host, HostAndPort.DEFAULT_PORT); // fails here, naming the bad one
            }
            this.hosts = List.of(hosts);
            return this;
        }

        /**
         * Tries {@link #hosts} in a random order at each connect (a fresh shuffle each time) instead of
         * in the order given, so that the workers of a pool spread over the servers; failover to the
         * next host is as without it. pgjdbc's {@code loadBalanceHosts}, with its meaning.
         *
         * @param loadBalanceHosts true to shuffle; false (the default) for the order given
         * @return this builder
         */
        public Builder loadBalanceHosts(boolean loadBalanceHosts) {
            this.loadBalanceHosts = loadBalanceHosts;
            return this;
        }

        /**
         * Whether remote servers are reached over TLS (the default), with the server's certificate
         * checked against {@link #sslRootCert} and its host name. {@code false} only for a server
         * started with {@code --insecure} on a network you trust.
         *
         * @param ssl whether to use TLS
         * @return this builder
         */
        public Builder ssl(boolean ssl) {
            this.ssl = ssl;
            return this;
        }

        /**
         * Trusts the CA certificates in this PEM file (only them) to sign remote servers' certificates.
         *
         * @param pem the file; null: the JVM's default trust
         * @return this builder
         */
        public Builder sslRootCert(Path pem) {
            this.sslRootCert = pem;
            return this;
        }

        /**
         * This client's certificate chain (PEM), for servers started with {@code --tls-client-ca}; with {@link #sslKey}.
         *
         * @param pem the file; null: none
         * @return this builder
         */
        public Builder sslCert(Path pem) {
            this.sslCert = pem;
            return this;
        }

        /**
         * The private key of {@link #sslCert} (unencrypted PKCS#8 PEM, {@code BEGIN PRIVATE KEY}).
         *
         * @param pem the file; null: none
         * @return this builder
         */
        public Builder sslKey(Path pem) {
            this.sslKey = pem;
            return this;
        }

        /**
         * The file holding the token remote servers ask for (their {@code --token-file}'s content). It
         * is read at each connect and never sent: the client answers the server's challenge with an
         * HMAC of it (PROTOCOL.md REMOTE-2). Keep it out of URLs and logs; this setting names a file,
         * not the token.
         *
         * @param file the token's file; null: none
         * @return this builder
         */
        public Builder tokenFile(Path file) {
            this.tokenFile = file;
            return this;
        }

        /**
         * How long each remote host gets to accept, complete TLS, authenticate and fork a worker before the next is tried.
         *
         * @param timeout positive
         * @return this builder
         * @throws IllegalArgumentException if zero or negative
         */
        public Builder connectTimeout(Duration timeout) {
            if (Objects.requireNonNull(timeout, "connectTimeout").isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("connectTimeout must be positive, got " + timeout);
            }
            this.connectTimeout = timeout;
            return this;
        }

        private static void environmentName(String name, String setting) {
            if (name == null || !name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw new IllegalArgumentException(setting + " takes environment variable names (letters, digits, _), got '" + name + "'");
            }
            if (name.startsWith("PYTHON")) {
                throw new IllegalArgumentException(setting + ": " + name + " would have no effect: workers run isolated (python -I),"
                        + " which ignores PYTHON* variables; use pythonPath for module directories");
            }
        }

        /**
         * The most refs one session may hold at once; past it, {@link #refLimitPolicy} decides.
         *
         * @param maxRefs the limit
         * @return this builder
         * @throws IllegalArgumentException if less than 1
         */
        public Builder maxRefs(int maxRefs) {
            if (maxRefs < 1) {
                throw new IllegalArgumentException("maxRefs must be >= 1, got " + maxRefs);
            }
            this.maxRefs = maxRefs;
            return this;
        }

        /**
         * What the worker does when a session at {@link #maxRefs} gets another ref: refuse it with
         * {@link RefLimitExceededException}, or evict the least recently used.
         *
         * @param policy {@link RefLimitPolicy#REJECT} or {@link RefLimitPolicy#EVICT_LRU}
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder refLimitPolicy(RefLimitPolicy policy) {
            this.refLimitPolicy = Objects.requireNonNull(policy, "refLimitPolicy");
            return this;
        }

        /**
         * Idle time-to-live of a ref, renewed by every use; an expired ref's holder gets
         * {@link RefNotFoundException} with reason {@code EXPIRED}.
         *
         * @param ttl the time-to-live; {@link Duration#ZERO} turns it off
         * @return this builder
         * @throws IllegalArgumentException if negative
         * @throws NullPointerException if null
         */
        public Builder refTtl(Duration ttl) {
            this.refTtl = nonNegative(ttl, "refTtl");
            return this;
        }

        /**
         * Logs where each handle that was never closed was created. Costs a stack trace per ref.
         *
         * @param enabled true to record creation stacks
         * @return this builder
         */
        public Builder leakDetection(boolean enabled) {
            this.leakDetection = enabled;
            return this;
        }

        /**
         * How long a worker may take to start and answer the handshake; past it the start fails with
         * {@link WorkerStartException}.
         *
         * @param timeout the timeout
         * @return this builder
         * @throws IllegalArgumentException if zero or negative
         * @throws NullPointerException if null
         */
        public Builder startTimeout(Duration timeout) {
            if (Objects.requireNonNull(timeout, "startTimeout").isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("startTimeout must be positive, got " + timeout);
            }
            this.startTimeout = timeout;
            return this;
        }

        /**
         * Interrupts any call that runs longer (SIGINT: KeyboardInterrupt inside Python, then
         * {@link CallTimeoutException}); {@link Duration#ZERO} turns it off. Per call:
         * {@link BridgeConnection#withCallTimeout}.
         *
         * @param timeout the timeout
         * @return this builder
         * @throws IllegalArgumentException if negative
         * @throws NullPointerException if null
         */
        public Builder callTimeout(Duration timeout) {
            this.callTimeout = nonNegative(timeout, "callTimeout");
            return this;
        }

        /**
         * After a cancel or timeout, how long the worker gets to stop the call before it is killed
         * (the connection is then broken).
         *
         * @param grace the grace
         * @return this builder
         * @throws IllegalArgumentException if negative
         * @throws NullPointerException if null
         */
        public Builder cancelGrace(Duration grace) {
            this.cancelGrace = nonNegative(grace, "cancelGrace");
            return this;
        }

        /**
         * Caps the worker's address space (RLIMIT_AS, Linux): an allocation over it raises MemoryError
         * in Python, which reaches Java as a {@link PythonException}. 0 turns it off. Leave room for
         * the interpreter and its libraries (numpy alone maps hundreds of MiB).
         *
         * @param bytes the cap in bytes
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder memoryLimitBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("memoryLimitBytes must be >= 0, got " + bytes);
            }
            this.memoryLimitBytes = bytes;
            return this;
        }

        /**
         * Confines the names requests resolve to these modules and their submodules ({@code "math"},
         * {@code "json"}; {@code "builtins"} for {@code len} and friends), for applications that build
         * call names from user input. Checked in the worker before any import, and on every attribute
         * step, so a module cannot be reached through another ({@code shutil.os}) or through dunder
         * attributes. Modules are judged by their real name ({@code os.path} is {@code posixpath}).
         * Not a sandbox: an allowed function can do anything Python can. A request outside the list
         * fails with {@link ModuleNotAllowedException}.
         *
         * @param modules dotted module names; none allows every module
         * @return this builder
         * @throws IllegalArgumentException if a name is not a dotted module name
         */
        public Builder allowModules(String... modules) {
            this.allowModules = dottedNames(modules, "allowModules");
            return this;
        }

        /**
         * Refuses these modules and their submodules, even if allowed: a request reaching one fails
         * with {@link ModuleNotAllowedException}.
         *
         * @param modules dotted module names; none to deny nothing
         * @return this builder
         * @throws IllegalArgumentException if a name is not a dotted module name
         */
        public Builder denyModules(String... modules) {
            this.denyModules = dottedNames(modules, "denyModules");
            return this;
        }

        private static Duration nonNegative(Duration duration, String setting) {
            if (Objects.requireNonNull(duration, setting).isNegative()) {
                throw new IllegalArgumentException(setting + " must not be negative, got " + duration);
            }
            return duration;
        }

        private static List<String> dottedNames(String[] modules, String setting) {
            for (String module : modules) {
                if (module == null || !module.matches("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*")) {
                    throw new IllegalArgumentException(setting + " takes dotted module names, got '" + module + "'");
                }
            }
            return List.of(modules);
        }

        /**
         * Tells {@code listener} of every request's end (a pool uses this for its metrics and health).
         *
         * @param listener the listener, or null for none
         * @return this builder
         */
        public Builder requestListener(RequestListener listener) {
            this.requestListener = listener;
            return this;
        }

        /**
         * The config; every setting was checked when it was set.
         *
         * @return a new immutable config
         */
        public BridgeConfig build() {
            if ((sslCert == null) != (sslKey == null)) {
                throw new IllegalArgumentException("sslCert and sslKey go together (a client certificate and its key)");
            }
            return new BridgeConfig(this);
        }
    }
}
