package io.snakebridge.cli;

import io.snakebridge.BridgeConfig;
import io.snakebridge.internal.WorkerStarter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code snakebridge serve --listen unix:PATH --preload numpy}: a worker server in the foreground, for
 * whoever manages it themselves (systemd, a container). It runs until this command is stopped. With
 * {@code --listen HOST:PORT} it serves remote clients (PROTOCOL.md section 1e), over TLS with a token.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run a worker server (PROTOCOL.md SRV-*) in the foreground: it preloads modules once "
        + "and forks a worker per connection. Its events (ready, each worker's end) are printed as JSON lines.")
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--listen", required = true, paramLabel = "unix:PATH|HOST:PORT",
            description = "Where to listen: unix:PATH, or HOST:PORT for remote clients")
    String listen;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "TLS certificate chain (PEM), for HOST:PORT")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "Its private key (PEM)")
    Path tlsKey;

    @Option(names = "--tls-client-ca", paramLabel = "FILE", description = "Demand client certificates signed by this CA (mutual TLS)")
    Path tlsClientCa;

    @Option(names = "--token-file", paramLabel = "FILE", description = "The token clients must prove they know (at least 16 characters)")
    Path tokenFile;

    @Option(names = "--max-workers", paramLabel = "N", description = "Most workers at once; past it a client is refused (SQLState 53300)")
    Integer maxWorkers;

    @Option(names = "--memory-limit", paramLabel = "BYTES",
            description = "Every worker's address space (RLIMIT_AS); a client's memoryLimitBytes may only lower it")
    Long memoryLimit;

    @Option(names = "--max-refs", paramLabel = "N", description = "Most refs of a session; a client's maxRefs may only lower it")
    Integer maxRefs;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", description = "Close a worker whose client sends no request for this long")
    String idleTimeout;

    @Option(names = "--allow-modules", split = ",", paramLabel = "MODULE",
            description = "The only modules requests may reach, whatever a client's own module policy says")
    List<String> allowModules = new ArrayList<>();

    @Option(names = "--deny-modules", split = ",", paramLabel = "MODULE",
            description = "Modules no request may reach, whatever a client's own module policy says")
    List<String> denyModules = new ArrayList<>();

    @Option(names = "--insecure", description = "Allow a non-loopback address without TLS and a token (a trusted network only)")
    boolean insecure;

    @Option(names = "--preload", split = ",", paramLabel = "MODULE", description = "Modules to import once, before any fork")
    List<String> preload = new ArrayList<>();

    @Option(names = "--python", description = "Interpreter to run the server with (default: ${DEFAULT-VALUE})")
    String python = BridgeConfig.defaults().python();

    @Option(names = "--python-path", split = ",", paramLabel = "DIR", description = "Directories for the application's modules")
    List<Path> pythonPath = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        boolean unix = listen.startsWith("unix:") && listen.length() > "unix:".length();
        if (!unix && !listen.matches(".+:[0-9]+")) {
            spec.commandLine().getErr().println("--listen takes unix:PATH or HOST:PORT, got " + listen);
            return CallCommand.USAGE_ERROR;
        }
        BridgeConfig config = BridgeConfig.builder().python(python).pythonPath(pythonPath.toArray(new Path[0]))
                .preload(preload.toArray(new String[0])).build();
        List<String> options = new ArrayList<>();
        addOption(options, "--tls-cert", tlsCert);
        addOption(options, "--tls-key", tlsKey);
        addOption(options, "--tls-client-ca", tlsClientCa);
        addOption(options, "--token-file", tokenFile);
        addOption(options, "--max-workers", maxWorkers);
        addOption(options, "--memory-limit", memoryLimit); // the server checks every value (REMOTE-6)
        addOption(options, "--max-refs", maxRefs);
        addOption(options, "--idle-timeout", idleTimeout);
        addOption(options, "--allow-modules", allowModules.isEmpty() ? null : String.join(",", allowModules));
        addOption(options, "--deny-modules", denyModules.isEmpty() ? null : String.join(",", denyModules));
        if (insecure) {
            options.add("--insecure");
        }
        Process server = WorkerStarter.serverProcess(config, listen, options) // the server checks the combination (REMOTE-1)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        // Its stdin stays open: the server ends when this command does (end-of-file), as it would with its JVM.
        Thread stopWithUs = new Thread(server::destroy, "snakebridge-serve-stop");
        Runtime.getRuntime().addShutdownHook(stopWithUs);
        try (BufferedReader events = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = events.readLine()) != null) {
                out.println(line);
            }
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(stopWithUs);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it stops the server
            }
        }
        return server.waitFor();
    }

    private static void addOption(List<String> options, String name, Object value) {
        if (value != null) {
            options.add(name);
            options.add(value.toString());
        }
    }
}
