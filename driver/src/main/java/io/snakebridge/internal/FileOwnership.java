package io.snakebridge.internal;

import io.snakebridge.WorkerStartException;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Whether the worker cache is this user's alone, so that no one else can plant or swap the code
 * that runs as this user. POSIX only: where the file system has no owners and modes (Windows),
 * every check passes.
 */
final class FileOwnership {
    private static final int GROUP_WRITE = 0020;
    private static final int OTHER_WRITE = 0002;
    private static final int STICKY = 01000;
    private static final long ROOT = 0;
    /** What {@code uid} is when this JVM cannot tell its user's id: owners are then not checked. */
    private static final long UNKNOWN = -1;

    private final long uid;
    private final boolean posix;

    /** The checks for a process of user {@code uid} (a parameter so tests can play someone else). */
    FileOwnership(long uid, boolean posix) {
        this.uid = uid;
        this.posix = posix;
    }

    static FileOwnership ofThisProcess() {
        boolean posix = Path.of("").getFileSystem().supportedFileAttributeViews().contains("unix");
        return new FileOwnership(posix ? currentUid() : UNKNOWN, posix);
    }

    /** Whether files have owners and modes here (POSIX), which is also where workers take signals. */
    boolean posix() {
        return posix;
    }

    /** This process's user id, or its name where the id is unknown: it names the temp-directory cache. */
    String userTag() {
        return uid != UNKNOWN ? Long.toString(uid) : System.getProperty("user.name");
    }

    /** Creates {@code dir} and any missing parents, each this user's alone. */
    void createPrivateDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir, privateDirectory());
        } catch (FileAlreadyExistsException raced) {
            if (!Files.isDirectory(dir)) {
                throw raced;
            }
        }
    }

    /** Creation attributes of a directory only this user may read, write or enter (none where there are no modes). */
    FileAttribute<?>[] privateDirectory() {
        return onlyOwner("rwx------");
    }

    /** Creation attributes of a file only this user may read or write. */
    FileAttribute<?>[] privateFile() {
        return onlyOwner("rw-------");
    }

    private FileAttribute<?>[] onlyOwner(String permissions) {
        return posix ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions))}
                : new FileAttribute<?>[0];
    }

    /**
     * Refuses a cache root that someone else could write to: the root (as its real path) must be
     * owned by this user and writable by no one else; every directory above it must be owned by
     * this user or root, and not writable by others unless sticky like /tmp, nor by its group
     * unless that is the owner's private group (named as the owner, as Debian's OpenSSH allows).
     *
     * @throws WorkerStartException saying what is wrong and how to fix it
     */
    void requirePrivateRoot(Path root) throws IOException {
        if (!posix) {
            return;
        }
        requireOwnLinks(root.toAbsolutePath());
        Path real = root.toRealPath();
        String problem = problem(real, false);
        if (problem != null) {
            throw new WorkerStartException("the worker cache " + real + " " + problem + ": they could replace the worker that"
                    + " runs as you; remove it or make it yours alone (chmod 700 " + real + "), or " + WorkerCache.CHOOSE_ANOTHER);
        }
        for (Path parent = real.getParent(); parent != null; parent = parent.getParent()) {
            problem = problem(parent, true);
            if (problem != null) {
                throw new WorkerStartException(parent + ", a parent of the worker cache " + real + ", " + problem
                        + ": they could put their own worker in the cache's place; " + WorkerCache.CHOOSE_ANOTHER);
            }
        }
    }

    /**
     * Every symbolic link on the way to {@code path} must be this user's or root's: the checks above
     * judge where a link points now, and whoever owns a link (in a sticky {@code /tmp}, say) can point
     * it elsewhere afterwards.
     */
    private void requireOwnLinks(Path path) throws IOException {
        Path prefix = path.getRoot();
        for (Path name : prefix.relativize(path)) {
            prefix = prefix.resolve(name);
            if (Files.isSymbolicLink(prefix)) {
                long owner = ((Number) Files.getAttribute(prefix, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue();
                if (uid != UNKNOWN && owner != uid && owner != ROOT) {
                    throw new WorkerStartException("the link " + prefix + " on the way to " + path + " belongs to uid " + owner
                            + ", not to this user: they could point it elsewhere; " + WorkerCache.CHOOSE_ANOTHER);
                }
            }
        }
    }

    /** Why an entry of the extracted worker (not followed if a link) is not this user's alone, or null. */
    String entryProblem(Path entry) throws IOException {
        return posix ? problem(entry, false) : null;
    }

    /**
     * Who else could write to {@code path} ("belongs to uid 1001 (bob), ...", "is writable by its
     * group staff (mode 775)"), or null. A parent may also belong to root, be sticky (others cannot
     * move this user's entries), or be writable by the owner's private group.
     */
    private String problem(Path path, boolean parent) throws IOException {
        Map<String, Object> attributes = Files.readAttributes(path, "unix:uid,mode,owner,group", LinkOption.NOFOLLOW_LINKS);
        long owner = ((Number) attributes.get("uid")).longValue();
        if (uid != UNKNOWN && owner != uid && !(parent && owner == ROOT)) {
            return "belongs to uid " + owner + " (" + name(attributes, "owner") + "), not to this user (uid " + uid + ")"
                    + (parent ? " or root" : "");
        }
        int mode = (Integer) attributes.get("mode");
        String octal = " (mode " + Integer.toOctalString(mode & 07777) + ")";
        if (parent && (mode & STICKY) != 0) {
            return null;
        }
        if ((mode & OTHER_WRITE) != 0) {
            return "is writable by other users" + octal;
        }
        boolean ownersPrivateGroup = name(attributes, "group").equals(name(attributes, "owner"));
        if ((mode & GROUP_WRITE) != 0 && !(parent && ownersPrivateGroup)) {
            return "is writable by its group " + name(attributes, "group") + octal;
        }
        return null;
    }

    private static String name(Map<String, Object> attributes, String principal) {
        return ((UserPrincipal) attributes.get(principal)).getName();
    }

    private static long currentUid() {
        try {
            return new com.sun.security.auth.module.UnixSystem().getUid();
        } catch (LinkageError | RuntimeException e) {
            // A runtime without the jdk.security.auth module: modes are still checked.
            LoggerFactory.getLogger(FileOwnership.class).warn("SnakeBridge: cannot tell this process's user id ({});"
                    + " the worker cache's owner is not checked", e.toString());
            return UNKNOWN;
        }
    }
}
