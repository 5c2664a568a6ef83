package io.snakebridge.shim;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Structure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The libc calls the shim needs, loaded once; absent (null) where JNA or libc cannot load. */
final class Posix {
    private static final Logger LOG = LoggerFactory.getLogger(Posix.class);

    /** Linux {@code RLIMIT_AS}: the cap on a process's virtual address space. */
    static final int RLIMIT_AS = 9;

    interface LibC extends Library {
        int kill(int pid, int signal);

        /** Linux only (glibc 2.13+): sets another process's resource limit. */
        int prlimit(int pid, int resource, Rlimit newLimit, Rlimit oldLimit);
    }

    /** {@code struct rlimit}: two {@code rlim_t} (64-bit on 64-bit Linux). */
    @Structure.FieldOrder({"rlim_cur", "rlim_max"})
    public static final class Rlimit extends Structure {
        public long rlim_cur;
        public long rlim_max;
    }

    static final LibC LIBC = load();

    private Posix() {
    }

    private static LibC load() {
        if (!Platform.isLinux() && !Platform.isMac()) {
            LOG.warn("SnakeBridge: signals are not supported on {}; cancel will kill the worker", System.getProperty("os.name"));
            return null;
        }
        try {
            return Native.load("c", LibC.class);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            // Said once, then every caller degrades to what java.lang.Process can do.
            LOG.warn("SnakeBridge: cannot load libc through JNA ({}); cancel will kill the worker", e.toString());
            return null;
        }
    }
}
