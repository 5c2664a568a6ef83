package io.snakebridge.shim;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The cancel word of one worker (PROTOCOL.md CANCEL-2): 16 bytes of a file that this JVM and the
 * worker both map, through which a SIGINT names the request it cancels. A signal carries no data,
 * so {@link #target} writes the request's id before the signal is sent; the worker writes back the
 * target of each SIGINT it takes ({@link #taken}). The worker removes the file once it has mapped
 * it; {@link #close} removes it if the worker never did.
 */
public final class CancelWord implements AutoCloseable {
    /** The variable that names the file to a spawned worker. */
    public static final String ENVIRONMENT_VARIABLE = "SNAKEBRIDGE_CANCEL_WORD";
    private static final int SIZE = 16;
    private static final int TAKEN = 8;

    private final Path file;
    private final MappedByteBuffer word;

    private CancelWord(Path file, MappedByteBuffer word) {
        this.file = file;
        this.word = word;
    }

    /**
     * A new word in a new file in {@code directory}, which should be this user's alone: a process
     * that can write the word can point a cancel at another request of the same worker.
     *
     * @throws IOException if the file cannot be made or mapped
     */
    public static CancelWord create(Path directory) throws IOException {
        Path file = Files.createTempFile(directory, "cancel-", ".word"); // mode 0600 on POSIX
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MappedByteBuffer word = channel.map(FileChannel.MapMode.READ_WRITE, 0, SIZE); // grows the file to SIZE zero bytes
            word.order(ByteOrder.LITTLE_ENDIAN);
            return new CancelWord(file, word);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
    }

    /** Where the word is, for the worker to map: removed by the worker once it has. */
    public Path file() {
        return file;
    }

    /** Names the request the next SIGINT cancels. Callers serialize their writes (one at a time, then the signal). */
    public void target(long requestId) {
        word.putLong(0, requestId);
    }

    /** The target of the last SIGINT the worker has taken, 0 before the first. */
    public long taken() {
        return word.getLong(TAKEN);
    }

    /** Removes the file if the worker never did (it never started, or could not map it). */
    @Override
    public void close() {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // 16 bytes left in the user's private directory: not worth failing a worker's end for
        }
    }
}
