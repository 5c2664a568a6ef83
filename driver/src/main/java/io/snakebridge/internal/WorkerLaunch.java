package io.snakebridge.internal;

import io.snakebridge.BridgeConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How a worker is started: an isolated interpreter ({@code -I}: no working directory or user
 * site-packages on {@code sys.path}, no {@code PYTHON*} variables) whose bootstrap puts exactly the
 * worker's sources and the configured {@code pythonPath} first on {@code sys.path}, with an
 * environment made of an allow-list of the JVM's variables and what the configuration adds.
 */
final class WorkerLaunch {
    /**
     * The JVM's variables every worker gets (README "Worker environment"): what finds programs and
     * the user's files, the locale, time zone and temp directory, and the thread counts that keep
     * BLAS/OpenMP from starting a thread per core in each of a pool's workers. {@code LC_*} is a prefix.
     */
    static final List<String> INHERITED_BY_DEFAULT = List.of("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_*", "TZ",
            "TMPDIR", "TEMP", "TMP", "SYSTEMROOT", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS");

    /**
     * Run as {@code python -I -c BOOTSTRAP <sources> <pythonPath>... [-- <worker arguments>]}. The
     * worker's own modules are imported without writing bytecode next to them: the cache holds
     * exactly the verified sources.
     */
    static final String BOOTSTRAP = String.join("\n",
            "import sys",
            "end = sys.argv.index('--') if '--' in sys.argv else len(sys.argv)",
            "sys.path[0:0], arguments = sys.argv[1:end], sys.argv[end + 1:]",
            "del sys.argv[1:]",
            "no_bytecode = sys.dont_write_bytecode",
            "sys.dont_write_bytecode = True",
            "from " + WorkerSources.PACKAGE + ".__main__ import main",
            "sys.dont_write_bytecode = no_bytecode",
            "sys.exit(main(arguments))");

    private WorkerLaunch() {
    }

    static List<String> command(BridgeConfig config, Path workerSources) {
        List<String> command = new ArrayList<>(List.of(config.python(), "-I", "-c", BOOTSTRAP, workerSources.toString()));
        config.pythonPath().forEach(p -> command.add(p.toAbsolutePath().toString()));
        return command;
    }

    /** The same isolated start, running a worker server (PROTOCOL.md SRV-1) that listens at {@code socket}. */
    static List<String> serverCommand(BridgeConfig config, Path workerSources, Path socket) {
        return serverCommand(config, workerSources, "unix:" + socket, List.of());
    }

    /** A server listening at {@code listen} ({@code unix:PATH} or {@code HOST:PORT}) with further {@code options} (PROTOCOL.md 1e). */
    static List<String> serverCommand(BridgeConfig config, Path workerSources, String listen, List<String> options) {
        List<String> command = command(config, workerSources);
        command.addAll(List.of("--", "serve", "--listen", listen));
        command.addAll(options);
        if (!config.preload().isEmpty()) {
            command.addAll(List.of("--preload", String.join(",", config.preload())));
        }
        return command;
    }

    /** The allow-listed and the configured variables of {@code jvmEnvironment}, then the configured values over them. */
    static Map<String, String> environment(BridgeConfig config, Map<String, String> jvmEnvironment) {
        Map<String, String> environment = new TreeMap<>();
        jvmEnvironment.forEach((name, value) -> {
            if (inheritsByDefault(name) || config.inheritEnvironment().contains(name)) {
                environment.put(name, value);
            }
        });
        environment.putAll(config.workerEnvironment());
        return environment;
    }

    static boolean inheritsByDefault(String name) {
        for (String allowed : INHERITED_BY_DEFAULT) {
            if (allowed.endsWith("*") ? name.startsWith(allowed.substring(0, allowed.length() - 1)) : name.equals(allowed)) {
                return true;
            }
        }
        return false;
    }
}
