package parrot.hf;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The tiny byte-level BPE tokenizer.json (NFC normalizer, ByteLevel pre-tokenizer, special and whitespace added
 * tokens, in the real file format) gives through Hugging Face's tokenizers the ids the fixtures script's own BPE
 * computes, and decodes back to the text.
 */
class HfTokenizerTest {
    static HfTokenizer tok;

    @BeforeAll
    static void load() {
        tok = HfTokenizer.load(HfModelTest.fixture("pythia-tiny"));
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    @Test
    void encodesAsTheReferenceBpeAndDecodesBack() throws IOException {
        JsonNode cases = HfModelTest.JSON.readTree(HfModelTest.fixture("tokenizer-cases.json").toFile()).get("cases");
        assertEquals(7, cases.size());
        for (JsonNode c : cases) {
            String text = c.get("text").asText();
            int[] want = new int[c.get("ids").size()];
            for (int i = 0; i < want.length; i++) want[i] = c.get("ids").get(i).asInt();
            assertArrayEquals(want, tok.encode(text), text);
            assertEquals(text, tok.decode(want), text);
        }
    }

    @Test
    void specialTokensAreKeptAndLongTextsAreNotTruncated() {
        assertEquals("<|endoftext|>", tok.decode(new int[]{0}));
        String longText = "the cat and the hat ".repeat(300);   // far past 512 tokens
        int[] ids = tok.encode(longText);
        assertEquals(longText, tok.decode(ids));
        // "the" opens with two tokens where " the" is one, and the trailing space is one more
        assertEquals(300 * tok.encode(" the cat and the hat").length + 2, ids.length, "no token dropped");
    }

    @Test
    void badPathsAreOneLine(@TempDir Path tmp) throws IOException {
        HfModelTest.assertOneLine(assertThrows(HfException.class, () -> HfTokenizer.load(tmp)), "no such file");
        Path bad = tmp.resolve("tokenizer.json");
        Files.writeString(bad, "{\"model\": 3}");
        HfModelTest.assertOneLine(assertThrows(HfException.class, () -> HfTokenizer.load(bad)),
                "not a tokenizer.json the tokenizers library can read");
    }
}
