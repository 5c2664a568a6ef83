package io.snakebridge.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * The worker package as a jar ships it: each file's path ({@code snakebridge_worker/server.py}) and
 * bytes, held in memory (some 100 KB) so that every start can check the cache against them.
 */
final class PackagedWorker {
    private final SortedMap<String, byte[]> files;
    private final Set<String> directories = new TreeSet<>();
    private final String contentHash;

    PackagedWorker(SortedMap<String, byte[]> files) {
        this.files = Collections.unmodifiableSortedMap(new TreeMap<>(files));
        for (String path : files.keySet()) {
            for (int slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
                directories.add(path.substring(0, slash));
            }
        }
        this.contentHash = hash(this.files);
    }

    static PackagedWorker readFrom(JarFile jar) throws IOException {
        SortedMap<String, byte[]> files = new TreeMap<>();
        for (JarEntry entry : Collections.list(jar.entries())) {
            if (entry.getName().startsWith(WorkerSources.PACKAGE + "/") && !entry.isDirectory()) {
                try (InputStream in = jar.getInputStream(entry)) {
                    files.put(entry.getName(), in.readAllBytes());
                }
            }
        }
        return new PackagedWorker(files);
    }

    /** Each file's path, '/'-separated, and its bytes. */
    SortedMap<String, byte[]> files() {
        return files;
    }

    /** The directories the files are in ({@code snakebridge_worker}), '/'-separated. */
    Set<String> directories() {
        return Collections.unmodifiableSet(directories);
    }

    /** The cache directory for exactly these files: a new release never runs an older one's sources. */
    String directoryName() {
        return "worker-" + contentHash;
    }

    private static String hash(Map<String, byte[]> files) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, byte[]> file : files.entrySet()) {
                sha.update(file.getKey().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(file.getValue());
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
