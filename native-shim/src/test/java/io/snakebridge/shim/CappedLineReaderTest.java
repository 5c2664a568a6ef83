package io.snakebridge.shim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CappedLineReaderTest {

    private static List<String> lines(String text, int maxChars) throws IOException {
        CappedLineReader reader = new CappedLineReader(new StringReader(text), maxChars);
        List<String> lines = new ArrayList<>();
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            lines.add(line);
        }
        return lines;
    }

    @Test
    void aLineEndsOnlyAtNewlineAndCrLfEndsItLikeNewline() throws IOException {
        assertThat(lines("a\r\nb\rc\n\nlast", 100)).containsExactly("a", "b\\rc", "", "last");
    }

    @Test
    void aCarriageReturnAtTheEndOfTheStreamIsKeptEscaped() throws IOException {
        assertThat(lines("x\r", 100)).containsExactly("x\\r");
    }

    @Test
    void controlCharactersAreEscapedVisiblyAndTabAndUnicodeTextAreKept() throws IOException {
        assertThat(lines("\u0000\u0007\t\u001b\u007f\u0085\u009f é 漢 \u2028\u2029\u202a\u202e\u2066\u2069\n", 100))
                .containsExactly("\\x00\\x07\t\\x1b\\x7f\\x85\\x9f é 漢 \\u2028\\u2029\\u202a\\u202e\\u2066\\u2069");
    }

    @Test
    void aLineAtTheCapIsWholeAndOneLongerIsCutInTheMiddleWithTheCount() throws IOException {
        assertThat(lines("abcdefgh\nabcdefghi\nabcdefghijklmnopqrstuvwxyz\n", 8)).containsExactly(
                "abcdefgh", "abcd ... [1 char cut] ... fghi", "abcd ... [18 chars cut] ... wxyz");
    }

    @Test
    void anEscapeNeverSplitsAndCountsItsWidthAgainstTheCap() throws IOException {
        assertThat(lines("ab\u001bcdefghij\nabcdefg\u001bh\n", 8)).containsExactly(
                "ab ... [5 chars cut] ... ghij", "abcd ... [4 chars cut] ... h");
    }
}
