package parrot.errors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Jackson's errors said in words: the JSON field and kind, never a Java type name. */
class ErrorTextTest {
    record Point(int step, double loss) {
    }

    record State(List<Point> curve, Map<String, Integer> counts, int steps) {
    }

    /** What the fault suite counts as a leaked trace or Java name. */
    static final Pattern JAVA = Pattern.compile("\\bjava\\.(lang|io|nio|util)\\.|parrot\\.[a-z]+\\.[A-Z]|`|Exception\\b|JsonToken");

    private static String parse(String json) {
        Exception e = assertThrows(Exception.class, () -> new ObjectMapper().readValue(json, State.class));
        return ErrorText.of(e);
    }

    @Test
    void aStringWhereAListBelongsNamesTheFieldAndTheKind() {
        String s = parse("{\"curve\": \"cosine\", \"counts\": {}, \"steps\": 1}");
        assertFalse(JAVA.matcher(s).find(), s);
        assertTrue(s.contains("field curve") && s.contains("a list"), s);
    }

    @Test
    void nestedFieldsAndNumbers() {
        String s = parse("{\"curve\": [{\"step\": 1, \"loss\": 0.5}, {\"step\": \"x\", \"loss\": 1}], \"counts\": {}, \"steps\": 1}");
        assertFalse(JAVA.matcher(s).find(), s);
        assertTrue(s.contains("field curve[1].step") && s.contains("a whole number"), s);
        String m = parse("{\"curve\": [], \"counts\": [1], \"steps\": 1}");
        assertFalse(JAVA.matcher(m).find(), m);
        assertTrue(m.contains("field counts") && m.contains("an object"), m);
    }

    @Test
    void typesInWords() {
        assertEquals("a list", ErrorText.typeInWords("java.util.ArrayList<parrot.results.LossPoint>"));
        assertEquals("a list", ErrorText.typeInWords("float[]"));
        assertEquals("an object", ErrorText.typeInWords("parrot.results.RunResult"));
        assertEquals("a number", ErrorText.typeInWords("double"));
    }
}
