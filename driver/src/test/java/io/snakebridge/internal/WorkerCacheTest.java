package io.snakebridge.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.snakebridge.WorkerStartException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerCacheTest {
    /** A user id no one has: the checks as another user would run them. */
    private static final long SOMEONE_ELSE = 54321;

    @TempDir
    Path dir;

    private final FileOwnership me = FileOwnership.ofThisProcess();

    private static PackagedWorker worker(String mainSource) {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("snakebridge_worker/__main__.py", mainSource.getBytes(StandardCharsets.UTF_8));
        files.put("snakebridge_worker/defaults.json", "{}".getBytes(StandardCharsets.UTF_8));
        return new PackagedWorker(files);
    }

    private WorkerCache cache() {
        return new WorkerCache(dir.resolve("cache"), me);
    }

    private static String mode(Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
    }

    private static Object inode(Path path) throws Exception {
        return Files.getAttribute(path, "unix:ino");
    }

    @Test
    void onlyTheWorkerPackageIsReadFromTheJar() throws Exception {
        Path jar = dir.resolve("a.jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            out.putNextEntry(new JarEntry("snakebridge_worker/__main__.py"));
            out.write("print('v1')".getBytes(StandardCharsets.UTF_8));
            out.putNextEntry(new JarEntry("io/snakebridge/Other.class"));
            out.write(new byte[] {1, 2, 3});
        }
        try (JarFile opened = new JarFile(jar.toFile())) {
            assertThat(PackagedWorker.readFrom(opened).files()).containsOnlyKeys("snakebridge_worker/__main__.py");
        }
    }

    @Test
    void theWorkerIsExtractedOnceToAPrivateDirectoryNamedByItsContent() throws Exception {
        Path first = cache().verifiedCopyOf(worker("print('v1')"));
        Object extracted = inode(first);
        assertThat(cache().verifiedCopyOf(worker("print('v1')"))).isEqualTo(first);
        assertThat(inode(first)).as("not extracted again").isEqualTo(extracted);
        assertThat(first.resolve("snakebridge_worker/__main__.py")).hasContent("print('v1')");
        assertThat(mode(dir.resolve("cache"))).isEqualTo("rwx------");
        assertThat(mode(first.resolve("snakebridge_worker"))).isEqualTo("rwx------");
        assertThat(mode(first.resolve("snakebridge_worker/__main__.py"))).isEqualTo("rw-------");

        Path second = cache().verifiedCopyOf(worker("print('v2')"));
        assertThat(second).isNotEqualTo(first);
        assertThat(second.resolve("snakebridge_worker/__main__.py")).hasContent("print('v2')");
        try (Stream<Path> entries = Files.list(dir.resolve("cache"))) {
            assertThat(entries).allMatch(p -> p.getFileName().toString().startsWith("worker-")); // no staging left behind
        }
    }

    @Test
    void aModifiedFileInTheCacheIsDetectedAndTheWorkerExtractedAgain() throws Exception {
        Path copy = cache().verifiedCopyOf(worker("print('v1')"));
        Files.writeString(copy.resolve("snakebridge_worker/__main__.py"), "print('planted')");
        assertThat(cache().verifiedCopyOf(worker("print('v1')")).resolve("snakebridge_worker/__main__.py")).hasContent("print('v1')");
    }

    @Test
    void aDeletedFileInTheCacheIsExtractedAgain() throws Exception {
        Path copy = cache().verifiedCopyOf(worker("print('v1')"));
        Files.delete(copy.resolve("snakebridge_worker/defaults.json"));
        assertThat(cache().verifiedCopyOf(worker("print('v1')")).resolve("snakebridge_worker/defaults.json")).hasContent("{}");
    }

    @Test
    void aFilePlantedInTheCacheIsDetectedAndTheWorkerExtractedAgain() throws Exception {
        Path copy = cache().verifiedCopyOf(worker("print('v1')"));
        Files.writeString(copy.resolve("statistics.py"), "planted = True"); // beside the package: first on sys.path
        assertThat(cache().verifiedCopyOf(worker("print('v1')")).resolve("statistics.py")).doesNotExist();

        Path bytecode = Files.createDirectories(copy.resolve("snakebridge_worker/__pycache__")).resolve("__main__.cpython-311.pyc");
        Files.write(bytecode, new byte[] {1, 2, 3}); // Python would run it instead of the checked source
        assertThat(cache().verifiedCopyOf(worker("print('v1')")).resolve("snakebridge_worker/__pycache__")).doesNotExist();
    }

    @Test
    void aLinkInTheCacheIsNotFollowedButReplacedByTheFile() throws Exception {
        Path copy = cache().verifiedCopyOf(worker("print('v1')"));
        Path main = copy.resolve("snakebridge_worker/__main__.py");
        Path elsewhere = Files.writeString(dir.resolve("elsewhere.py"), "print('v1')"); // the same bytes, for now
        Files.delete(main);
        Files.createSymbolicLink(main, elsewhere);
        cache().verifiedCopyOf(worker("print('v1')"));
        assertThat(Files.isSymbolicLink(main)).isFalse();
    }

    @Test
    void aCacheRootWritableByItsGroupOrOthersIsRefused() throws Exception {
        Path root = Files.createDirectories(dir.resolve("cache"));
        for (String mode : new String[] {"rwxrwx---", "rwx---rwx"}) {
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString(mode));
            assertThatThrownBy(() -> cache().verifiedCopyOf(worker("print('v1')"))).isInstanceOf(WorkerStartException.class)
                    .hasMessageContaining(root.toRealPath() + " is writable by")
                    .hasMessageContaining("chmod 700").hasMessageContaining("-Dsnakebridge.cacheDir=");
        }
    }

    @Test
    void aCacheRootOwnedBySomeoneElseIsRefused() throws Exception {
        Path root = Files.createDirectories(dir.resolve("cache"));
        WorkerCache seenBySomeoneElse = new WorkerCache(root, new FileOwnership(SOMEONE_ELSE, true));
        assertThatThrownBy(() -> seenBySomeoneElse.verifiedCopyOf(worker("print('v1')"))).isInstanceOf(WorkerStartException.class)
                .hasMessageContaining(root.toRealPath() + " belongs to uid " + Files.getAttribute(root, "unix:uid"))
                .hasMessageContaining("not to this user (uid " + SOMEONE_ELSE + ")");
    }

    @Test
    void aCacheUnderAParentWritableByOthersIsRefusedUnlessTheParentIsSticky() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        WorkerCache cache = new WorkerCache(shared.resolve("snakebridge"), me);
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> cache.verifiedCopyOf(worker("print('v1')"))).isInstanceOf(WorkerStartException.class)
                .hasMessageContaining(shared.toRealPath() + ", a parent of the worker cache").hasMessageContaining("other users");
        Files.setAttribute(shared, "unix:mode", 01777); // like /tmp: others cannot move this user's entries
        assertThat(cache.verifiedCopyOf(worker("print('v1')"))).isDirectory();
    }

    @Test
    void aParentWritableByItsGroupIsRefusedUnlessThatIsTheOwnersPrivateGroup() throws Exception {
        Path grouped = Files.createDirectories(dir.resolve("grouped"));
        WorkerCache cache = new WorkerCache(grouped.resolve("snakebridge"), me);
        Files.setPosixFilePermissions(grouped, PosixFilePermissions.fromString("rwxrwx---"));
        PosixFileAttributes attributes = Files.readAttributes(grouped, PosixFileAttributes.class);
        assumeThat(attributes.group().getName()).as("a user private group (as root:root)").isEqualTo(attributes.owner().getName());
        assertThat(cache.verifiedCopyOf(worker("print('v1')"))).isDirectory();

        try {
            GroupPrincipal another = grouped.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName("daemon");
            Files.setAttribute(grouped, "posix:group", another);
        } catch (IOException e) {
            Assumptions.abort("this user cannot give a directory to the group daemon: " + e);
        }
        assertThatThrownBy(() -> cache.verifiedCopyOf(worker("print('v1')"))).isInstanceOf(WorkerStartException.class)
                .hasMessageContaining(grouped.toRealPath() + ", a parent of the worker cache").hasMessageContaining("its group daemon");
    }

    @Test
    void stagingAndSetAsideDirectoriesLeftByADeadJvmAreDeletedOnceOld() throws Exception {
        Path root = Files.createDirectories(dir.resolve("cache"), me.privateDirectory());
        Path old = Files.createDirectories(root.resolve("extracting-123/snakebridge_worker"));
        Files.setLastModifiedTime(old.getParent(), FileTime.from(Instant.now().minus(Duration.ofHours(2))));
        Path oldAside = Files.createDirectories(root.resolve("replaced-456"));
        Files.setLastModifiedTime(oldAside, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
        Path recent = Files.createDirectories(root.resolve("extracting-789")); // another JVM may be writing it now
        cache().verifiedCopyOf(worker("print('v1')"));
        assertThat(old.getParent()).doesNotExist();
        assertThat(oldAside).doesNotExist();
        assertThat(recent).exists();
    }

    @Test
    void aParentOwnedBySomeoneOtherThanThisUserOrRootIsRefused() throws Exception {
        Path theirs = Files.createDirectories(dir.resolve("theirs"));
        Path root = Files.createDirectories(theirs.resolve("snakebridge"), me.privateDirectory());
        long myUid = (Integer) Files.getAttribute(root, "unix:uid");
        assumeThat(myUid).as("only root can give a directory away to test this").isZero();
        Files.setAttribute(theirs, "unix:uid", (int) SOMEONE_ELSE);
        Files.setAttribute(root, "unix:uid", (int) SOMEONE_ELSE + 1);
        WorkerCache cache = new WorkerCache(root, new FileOwnership(SOMEONE_ELSE + 1, true));
        assertThatThrownBy(() -> cache.verifiedCopyOf(worker("print('v1')"))).isInstanceOf(WorkerStartException.class)
                .hasMessageContaining(theirs.toRealPath() + ", a parent of the worker cache").hasMessageContaining("belongs to uid " + SOMEONE_ELSE);
    }

    @Test
    void aCachedFileOwnedBySomeoneElseIsExtractedAgain() throws Exception {
        Path copy = cache().verifiedCopyOf(worker("print('v1')"));
        Path main = copy.resolve("snakebridge_worker/__main__.py");
        long myUid = (Integer) Files.getAttribute(main, "unix:uid");
        assumeThat(myUid).as("only root can give a file away to test this").isZero();
        Files.setAttribute(main, "unix:uid", (int) SOMEONE_ELSE); // its owner could change it after the check
        cache().verifiedCopyOf(worker("print('v1')"));
        assertThat(Files.getAttribute(main, "unix:uid")).isEqualTo((int) myUid);
    }

    @Test
    void withoutPosixModesNothingIsCheckedOrRefused() throws Exception {
        Path root = Files.createDirectories(dir.resolve("cache"));
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxrwxrwx"));
        WorkerCache cache = new WorkerCache(root, new FileOwnership(SOMEONE_ELSE, false));
        assertThat(cache.verifiedCopyOf(worker("print('v1')")).resolve("snakebridge_worker/__main__.py")).hasContent("print('v1')");
    }

    @Test
    void theCacheIsTheChosenDirectoryElseUnderXdgCacheHomeElseUnderTheHomeDirectory() throws Exception {
        Path home = Files.createDirectories(dir.resolve("home"));
        Properties properties = properties(home.toString());
        Map<String, String> xdg = Map.of("XDG_CACHE_HOME", dir.resolve("xdg").toString());
        assertThat(WorkerCache.root(properties, Map.of(), me)).isEqualTo(home.resolve(".cache/snakebridge"));
        assertThat(WorkerCache.root(properties, xdg, me)).isEqualTo(dir.resolve("xdg/snakebridge"));
        assertThat(WorkerCache.root(properties, Map.of("XDG_CACHE_HOME", "relative/cache"), me))
                .as("a relative XDG_CACHE_HOME is ignored").isEqualTo(home.resolve(".cache/snakebridge"));
        properties.setProperty(WorkerCache.DIRECTORY_PROPERTY, dir.resolve("chosen").toString());
        assertThat(WorkerCache.root(properties, xdg, me)).isEqualTo(dir.resolve("chosen"));
    }

    @Test
    void withoutAUsableHomeTheCacheIsPerUserInTheTempDirectory() throws Exception {
        Path expected = dir.resolve("tmp").resolve("snakebridge-" + me.userTag());
        Path cannotHoldACache = Files.createDirectories(dir.resolve("home"));
        Files.writeString(cannotHoldACache.resolve(".cache"), "a file, not a directory");
        for (String home : new String[] {"?", "", "relative", dir.resolve("no-such-home").toString(), cannotHoldACache.toString()}) {
            assertThat(WorkerCache.root(properties(home), Map.of(), me)).as("user.home=%s", home).isEqualTo(expected);
        }
        assertThat(dir.resolve("no-such-home")).doesNotExist();
    }

    private Properties properties(String home) {
        Properties properties = new Properties();
        properties.setProperty("user.home", home);
        properties.setProperty("java.io.tmpdir", dir.resolve("tmp").toString());
        return properties;
    }
}
