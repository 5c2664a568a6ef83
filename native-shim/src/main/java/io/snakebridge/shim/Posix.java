package io.snakebridge.shim;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The libc calls the shim needs, loaded once; absent (null) where JNA or libc cannot load. */
final class Posix {
    private static final Logger LOG = LoggerFactory.getLogger(Posix.class);

    interface LibC extends Library {
        int kill(int pid, int signal);
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
