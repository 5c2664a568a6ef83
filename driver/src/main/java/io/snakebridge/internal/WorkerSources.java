package io.snakebridge.internal;

import io.snakebridge.WorkerStartException;
import java.io.IOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.jar.JarFile;

/**
 * Finds the worker's Python sources: a directory on the classpath is used as is; sources in a jar
 * run from a private copy in the {@link WorkerCache}, checked before each start, so no
 * {@code pip install} is needed, an upgrade never runs stale sources, and no one else's files do.
 * Public: {@link io.snakebridge.SnakeBridge#referenceWorkerPath()} shows where they are.
 */
public final class WorkerSources {
    static final String PACKAGE = "snakebridge_worker";
    private static volatile Supplier<Path> directory;

    private WorkerSources() {
    }

    /**
     * The directory to put first on {@code sys.path} (it contains {@code snakebridge_worker/}); for
     * sources in a jar, checked (and extracted again if need be) at each call.
     *
     * @throws WorkerStartException if the sources are missing or the cache is not private to this user
     */
    public static Path directory() {
        Supplier<Path> located = directory;
        if (located == null) {
            synchronized (WorkerSources.class) {
                located = directory;
                if (located == null) {
                    located = directory = locate();
                }
            }
        }
        return located.get();
    }

    private static Supplier<Path> locate() {
        URL marker = WorkerSources.class.getClassLoader().getResource(PACKAGE + "/__main__.py");
        if (marker == null) {
            throw new WorkerStartException("the worker sources (" + PACKAGE + ") are not on the classpath; add snakebridge-python");
        }
        try {
            if ("file".equals(marker.getProtocol())) {
                Path sources = Path.of(marker.toURI()).getParent().getParent();
                return () -> sources;
            }
            if ("jar".equals(marker.getProtocol())) {
                JarURLConnection connection = (JarURLConnection) marker.openConnection();
                connection.setUseCaches(false);
                PackagedWorker worker;
                try (JarFile jar = connection.getJarFile()) {
                    worker = PackagedWorker.readFrom(jar);
                }
                WorkerCache cache = WorkerCache.ofThisJvm();
                return () -> cache.verifiedCopyOf(worker);
            }
        } catch (IOException | URISyntaxException e) {
            throw new WorkerStartException("cannot read the worker sources from " + marker + ": " + e, e);
        }
        throw new WorkerStartException("cannot read the worker sources from " + marker);
    }
}
