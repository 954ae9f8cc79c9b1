package parrot.config;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ModelConfigTest {
    private static ModelConfig model(String positional, Integer k, List<Integer> windows) {
        ModelConfig d = ModelConfig.defaults("m");
        return new ModelConfig("m", d.family(), d.dModel(), d.nHeads(), d.nLayers(), positional, k, windows,
                d.rotaryPct(), d.ropeBase(), d.intermediateSize(), d.layerNormEps(), d.initStd());
    }

    @Test
    void derivedSizes() {
        ModelConfig m = ModelConfig.defaults("m");
        assertEquals(8, m.headDim());
        assertEquals(256, m.mlpSize());
        assertEquals(2, m.rotaryDims());
    }

    @Test
    void hardAlibiWindowsDefaultToHalfTheHeads() {
        assertArrayEquals(new int[]{1, 2, 3, 4, 0, 0, 0, 0}, model("hard-alibi", null, null).resolvedWindows());
        assertArrayEquals(new int[]{1, 2, 0, 0, 0, 0, 0, 0}, model("hard-alibi", 2, null).resolvedWindows());
        assertArrayEquals(new int[8], model("hard-alibi", 0, null).resolvedWindows());
        assertArrayEquals(new int[]{0, 3, 0, 0, 0, 0, 0, 9},
                model("hard-alibi", null, List.of(0, 3, 0, 0, 0, 0, 0, 9)).resolvedWindows());
        for (String p : new String[]{"nope", "rope", "alibi"}) assertArrayEquals(new int[8], model(p, null, null).resolvedWindows());
    }

    @Test
    void windowsOnlyWithHardAlibi() {
        ConfigException e = assertThrows(ConfigException.class, () -> model("rope", 2, null));
        assertTrue(e.getMessage().startsWith("hard_alibi_heads: "), e.getMessage());
        assertThrows(ConfigException.class, () -> model("hard-alibi", 9, null));
        assertThrows(ConfigException.class, () -> model("hard-alibi", null, List.of(1, 2, 3, 4, 5, 6, 7, -1)));
    }

    @Test
    void withNameKeepsTheRest() {
        ModelConfig m = model("hard-alibi", null, List.of(1, 0, 0, 0, 0, 0, 0, 0)).withName("other");
        assertEquals("other", m.name());
        assertEquals(List.of(1, 0, 0, 0, 0, 0, 0, 0), m.windows());
    }
}
