package io.snakebridge.internal;

import io.snakebridge.WorkerStartException;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a worker packaged in a jar runs from: {@code <root>/worker-<content hash>}, a copy private
 * to this user, checked against the packaged bytes before each start and extracted again when it
 * differs in any way (a file changed, missing, added, linked, or not this user's alone). Many JVMs
 * may share the cache: a copy is written in a private staging directory and renamed into place,
 * and a bad copy is renamed aside before it is deleted, so no JVM ever sees a half-written one.
 */
final class WorkerCache {
    /** The system property that chooses the cache directory. */
    static final String DIRECTORY_PROPERTY = "snakebridge.cacheDir";
    /** How every refusal ends. */
    static final String CHOOSE_ANOTHER = "choose a private cache directory with -D" + DIRECTORY_PROPERTY + "=<dir> or XDG_CACHE_HOME";
    private static final Logger LOG = LoggerFactory.getLogger(WorkerCache.class);
    private static final String STAGING_PREFIX = "extracting-";
    private static final String SET_ASIDE_PREFIX = "replaced-";
    /** Staging and set-aside directories older than this were left by a JVM that died mid-way. */
    private static final Duration LEFTOVER_AGE = Duration.ofHours(1);
    /** A copy that fails its check this many times in a row (after as many fresh extractions) is an error. */
    private static final int EXTRACTIONS = 3;

    private final Path root;
    private final FileOwnership ownership;

    WorkerCache(Path root, FileOwnership ownership) {
        this.root = root;
        this.ownership = ownership;
    }

    static WorkerCache ofThisJvm() {
        FileOwnership ownership = FileOwnership.ofThisProcess();
        return new WorkerCache(root(System.getProperties(), System.getenv(), ownership), ownership);
    }

    /**
     * {@code -Dsnakebridge.cacheDir}; else {@code $XDG_CACHE_HOME/snakebridge}; else
     * {@code ~/.cache/snakebridge} if there is a home directory to create it in; else (a user
     * without a home, {@code user.home} "?") {@code <java.io.tmpdir>/snakebridge-<uid>}.
     */
    static Path root(Properties properties, Map<String, String> environment, FileOwnership ownership) {
        String chosen = properties.getProperty(DIRECTORY_PROPERTY, "");
        if (!chosen.isBlank()) {
            return Path.of(chosen).toAbsolutePath();
        }
        Path xdg = absolutePath(environment.get("XDG_CACHE_HOME")); // a relative one is invalid: the XDG spec says to ignore it
        if (xdg != null) {
            return xdg.resolve("snakebridge");
        }
        Path home = absolutePath(properties.getProperty("user.home"));
        String unusable = "user.home=" + properties.getProperty("user.home");
        if (home != null && Files.isDirectory(home)) {
            Path root = home.resolve(".cache").resolve("snakebridge");
            try {
                ownership.createPrivateDirectories(root);
                return root;
            } catch (IOException e) {
                unusable = e.toString();
            }
        }
        Path root = Path.of(properties.getProperty("java.io.tmpdir"), "snakebridge-" + ownership.userTag());
        LOG.info("SnakeBridge: no home directory to hold the worker cache ({}); it is {}", unusable, root);
        return root;
    }

    /**
     * A directory holding exactly {@code worker}'s files, owned and writable by this user alone:
     * the cached copy if it checks out, else a fresh one.
     *
     * @throws WorkerStartException if the cache is not private to this user, or cannot be written
     */
    Path verifiedCopyOf(PackagedWorker worker) {
        try {
            ownership.createPrivateDirectories(root);
            ownership.requirePrivateRoot(root);
            Path copy = root.resolve(worker.directoryName());
            for (int extractions = 0; ; extractions++) {
                BasicFileAttributes checked = attributes(copy);
                String problem = problemWith(copy, worker);
                if (problem == null) {
                    return copy;
                }
                if (extractions == EXTRACTIONS) {
                    throw new WorkerStartException("the worker cache " + copy + " still " + problem + " after " + EXTRACTIONS
                            + " fresh extractions: is something else writing to " + root + "?");
                }
                if (checked != null) {
                    LOG.warn("SnakeBridge: the worker cache {} {}; extracting it again", copy, problem);
                    setAside(copy, checked);
                }
                extract(worker, copy);
            }
        } catch (IOException e) {
            throw new WorkerStartException("cannot keep the worker's sources in the cache " + root + ": " + e + "; " + CHOOSE_ANOTHER, e);
        }
    }

    /** What is wrong with the copy at {@code copy}, or null if it holds exactly the worker's files and they are this user's alone. */
    private String problemWith(Path copy, PackagedWorker worker) throws IOException {
        BasicFileAttributes top = attributes(copy);
        if (top == null) {
            return "is missing";
        }
        if (!top.isDirectory()) {
            return "is not a directory";
        }
        Set<String> missing = new TreeSet<>(worker.files().keySet());
        try (Stream<Path> entries = Files.walk(copy)) { // links are not followed: a link is an unexpected entry
            for (Path entry : (Iterable<Path>) entries::iterator) {
                String name = copy.relativize(entry).toString().replace(File.separatorChar, '/');
                String shown = name.isEmpty() ? "the directory itself" : name;
                String ownerProblem = ownership.entryProblem(entry);
                if (ownerProblem != null) {
                    return "has " + shown + " that " + ownerProblem;
                }
                BasicFileAttributes attributes = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (attributes.isDirectory() && (name.isEmpty() || worker.directories().contains(name))) {
                    continue;
                }
                byte[] expected = worker.files().get(name);
                if (expected == null || !attributes.isRegularFile()) {
                    return "holds an unexpected " + shown;
                }
                if (!Arrays.equals(Files.readAllBytes(entry), expected)) {
                    return "has " + shown + " changed";
                }
                missing.remove(name);
            }
        } catch (NoSuchFileException | UncheckedIOException vanished) {
            return "changed while it was being checked"; // another JVM set it aside, say
        }
        return missing.isEmpty() ? null : "lacks " + missing.iterator().next();
    }

    /** Writes the files to a private staging directory, then renames it to {@code copy} unless another JVM did so first. */
    private void extract(PackagedWorker worker, Path copy) throws IOException {
        deleteLeftovers();
        Path staging = Files.createTempDirectory(root, STAGING_PREFIX, ownership.privateDirectory());
        try {
            for (Map.Entry<String, byte[]> file : worker.files().entrySet()) {
                Path path = staging.resolve(file.getKey());
                ownership.createPrivateDirectories(path.getParent());
                try (SeekableByteChannel out = Files.newByteChannel(path, EnumSet.of(StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE), ownership.privateFile())) {
                    ByteBuffer bytes = ByteBuffer.wrap(file.getValue());
                    while (bytes.hasRemaining()) {
                        out.write(bytes);
                    }
                }
            }
            Files.move(staging, copy, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (attributes(copy) == null) {
                throw e;
            }
            // Another JVM's copy got there first: the caller checks it like any other.
        } finally {
            if (Files.exists(staging, LinkOption.NOFOLLOW_LINKS)) {
                deleteTree(staging);
            }
        }
    }

    /** Renames a bad copy aside, then deletes it; not if it has changed since it was {@code checked} (another JVM replaced it). */
    private void setAside(Path copy, BasicFileAttributes checked) throws IOException {
        BasicFileAttributes now = attributes(copy);
        if (now == null || !Objects.equals(now.fileKey(), checked.fileKey())) {
            return;
        }
        Path aside = root.resolve(SET_ASIDE_PREFIX + UUID.randomUUID());
        try {
            Files.move(copy, aside, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException setAsideByAnother) {
            return;
        }
        deleteTree(aside);
    }

    /** Staging and set-aside directories that a JVM which died mid-way left behind. */
    private void deleteLeftovers() throws IOException {
        Instant before = Instant.now().minus(LEFTOVER_AGE);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root, STAGING_PREFIX + "*")) {
            deleteOlder(entries, before);
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root, SET_ASIDE_PREFIX + "*")) {
            deleteOlder(entries, before);
        }
    }

    private static void deleteOlder(DirectoryStream<Path> entries, Instant before) {
        for (Path entry : entries) {
            BasicFileAttributes attributes = attributes(entry);
            if (attributes != null && attributes.lastModifiedTime().compareTo(FileTime.from(before)) < 0) {
                deleteTree(entry);
            }
        }
    }

    private static BasicFileAttributes attributes(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException absent) {
            return null;
        }
    }

    /** Best effort: what cannot be deleted now is a leftover for a later extraction to delete. */
    private static void deleteTree(Path tree) {
        try (Stream<Path> paths = Files.walk(tree)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            LOG.debug("SnakeBridge: cannot delete {} yet: {}", tree, e.toString());
        }
    }

    private static Path absolutePath(String path) {
        try {
            return path == null || path.isEmpty() || !Path.of(path).isAbsolute() ? null : Path.of(path);
        } catch (InvalidPathException e) {
            return null;
        }
    }
}
