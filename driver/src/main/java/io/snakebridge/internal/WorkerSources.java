package io.snakebridge.internal;

import io.snakebridge.WorkerStartException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Finds the worker's Python sources: a directory on the classpath is used as is; inside a jar they
 * are extracted once to a cache directory named by their content hash, so no {@code pip install}
 * is needed and an upgrade never runs stale sources.
 */
/** Public: {@link io.snakebridge.SnakeBridge#referenceWorkerPath()} shows where they are. */
public final class WorkerSources {
    static final String PACKAGE = "snakebridge_worker";
    private static volatile Path directory;

    private WorkerSources() {
    }

    /** The directory to put on PYTHONPATH (it contains {@code snakebridge_worker/}). */
    public static Path directory() {
        Path dir = directory;
        if (dir == null) {
            synchronized (WorkerSources.class) {
                dir = directory;
                if (dir == null) {
                    dir = directory = locate();
                }
            }
        }
        return dir;
    }

    private static Path locate() {
        URL marker = WorkerSources.class.getClassLoader().getResource(PACKAGE + "/__main__.py");
        if (marker == null) {
            throw new WorkerStartException("the worker sources (" + PACKAGE + ") are not on the classpath; add snakebridge-python");
        }
        try {
            if ("file".equals(marker.getProtocol())) {
                return Path.of(marker.toURI()).getParent().getParent();
            }
            if ("jar".equals(marker.getProtocol())) {
                JarURLConnection connection = (JarURLConnection) marker.openConnection();
                connection.setUseCaches(false);
                try (JarFile jar = connection.getJarFile()) {
                    return extract(jar, cacheRoot());
                }
            }
        } catch (IOException | URISyntaxException e) {
            throw new WorkerStartException("cannot read the worker sources from " + marker + ": " + e, e);
        }
        throw new WorkerStartException("cannot read the worker sources from " + marker);
    }

    /** Extracts the worker package to {@code root/worker-<content hash>} unless that exists; returns it. */
    static Path extract(JarFile jar, Path root) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        for (JarEntry entry : java.util.Collections.list(jar.entries())) {
            if (entry.getName().startsWith(PACKAGE + "/") && !entry.isDirectory()) {
                try (InputStream in = jar.getInputStream(entry)) {
                    files.put(entry.getName(), in.readAllBytes());
                }
            }
        }
        Path target = root.resolve("worker-" + hash(files));
        if (Files.isDirectory(target)) {
            return target;
        }
        Files.createDirectories(target.getParent());
        Path staging = Files.createTempDirectory(target.getParent(), "extracting-");
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            Path path = staging.resolve(file.getKey());
            Files.createDirectories(path.getParent());
            Files.write(path, file.getValue());
        }
        try {
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException | java.nio.file.DirectoryNotEmptyException e) {
            deleteTree(staging); // another JVM extracted the same content first
        }
        return target;
    }

    private static Path cacheRoot() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("snakebridge");
    }

    private static String hash(Map<String, byte[]> files) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, byte[]> file : files.entrySet()) {
                sha.update(file.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(file.getValue());
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
