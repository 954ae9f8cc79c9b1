package parrot.model;

import org.junit.jupiter.api.Test;
import parrot.config.ConfigLoader;
import parrot.config.ModelConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StateCapacityTest {
    private static ModelConfig m(String json) {
        return ConfigLoader.parseModel("{\"name\": \"m\", " + json + "}");
    }

    @Test
    void mambaStateIsSsmPlusConvWindow() {
        // 2 layers × d_inner 128 × (16 + 4 − 1) floats × 32 bits
        StateCapacity s = StateCapacity.of(m("\"family\": \"mamba\", \"d_model\": 64, \"n_layers\": 2"), 32).orElseThrow();
        assertEquals(2L * 128 * 19, s.stateFloats());
        assertEquals(155_648L, s.bits());
        assertEquals(33_113L, s.copyBoundLength(26));   // ⌊155649 / log2 26⌋
    }

    @Test
    void lstmStateIsHAndC() {
        StateCapacity s = StateCapacity.of(m("\"family\": \"lstm\", \"d_model\": 64, \"n_layers\": 1"), 32).orElseThrow();
        assertEquals(4096, s.bits());
        assertEquals(871, s.copyBoundLength(26));        // ⌊4097 / 4.7004⌋
        assertEquals(2L * 2 * 80, StateCapacity.of(m("\"family\": \"lstm\", \"d_model\": 64, \"n_layers\": 2, \"lstm_hidden\": 80"), 32)
                .orElseThrow().stateFloats());
    }

    @Test
    void boundIsExactAtPowersOfTwo() {
        // alphabet 2: log2 D = 1, so L ≤ bits + 1 exactly; alphabet 4: L ≤ (bits+1)/2
        StateCapacity s = new StateCapacity(1, 32);
        assertEquals(33, s.copyBoundLength(2));
        assertEquals(16, s.copyBoundLength(4));
        assertEquals(0.0, s.errorLowerBound(32, 2));
        assertEquals(0.5, s.errorLowerBound(33, 2), 1e-15);  // 1 − 2^32/2^33: the Corollary's threshold
        assertTrue(s.errorLowerBound(40, 2) > 0.99);
    }

    @Test
    void attentionHasNoFixedState() {
        assertTrue(StateCapacity.of(m("\"family\": \"transformer\""), 32).isEmpty());
        assertTrue(StateCapacity.of(m("\"family\": \"hybrid\", \"blocks\": \"mamba,attn\""), 32).isEmpty());
        StateCapacity s = StateCapacity.of(m("\"family\": \"hybrid\", \"d_model\": 16, \"blocks\": \"mamba*2,lstm\", \"d_state\": 4"), 32)
                .orElseThrow();
        assertEquals(2L * 32 * (4 + 3) + 2 * 16, s.stateFloats());
    }
}
