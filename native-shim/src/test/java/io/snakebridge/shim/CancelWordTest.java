package io.snakebridge.shim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cancel word's layout (PROTOCOL.md CANCEL-2), read through the file as another process maps it. */
class CancelWordTest {

    @Test
    void theTargetIsALittleEndianLongAtByteZeroAndTheWorkersAcknowledgementIsReadAtByteEight(@TempDir Path dir) throws Exception {
        try (CancelWord word = CancelWord.create(dir)) {
            assertThat(word.file()).hasParent(dir);
            assertThat(Files.size(word.file())).isEqualTo(16);
            word.target(0x0102030405060708L);
            try (FileChannel other = FileChannel.open(word.file(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer shared = other.map(FileChannel.MapMode.READ_WRITE, 0, 16).order(ByteOrder.LITTLE_ENDIAN);
                assertThat(shared.get(0)).isEqualTo((byte) 0x08);
                assertThat(shared.getLong(0)).isEqualTo(0x0102030405060708L);
                assertThat(word.taken()).isZero();
                shared.putLong(8, 42); // as the worker acknowledges a SIGINT for request 42
            }
            assertThat(word.taken()).isEqualTo(42);
        }
    }

    @Test
    void theFileIsTheUsersAloneAndCloseRemovesItIfTheWorkerDidNot(@TempDir Path dir) throws Exception {
        CancelWord word = CancelWord.create(dir);
        if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(word.file()))).isEqualTo("rw-------");
        }
        word.close();
        assertThat(word.file()).doesNotExist();
        word.close(); // the worker may have removed it first: harmless
    }
}
