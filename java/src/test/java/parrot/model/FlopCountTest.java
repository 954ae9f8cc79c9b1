package parrot.model;

import org.junit.jupiter.api.Test;
import parrot.config.ConfigLoader;
import parrot.config.ModelConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** FlopCount against counts done by hand for tiny configs of each family (vocabulary 5). */
class FlopCountTest {
    private static ModelConfig m(String json) {
        return ConfigLoader.parseModel("{\"name\": \"m\", " + json + "}");
    }

    @Test
    void transformerByHand() {
        // d 8, 2 heads of 4, MLP 32, head 0 sees only itself (window 1), head 1 is causal; rows of 4 tokens
        var f = FlopCount.of(m("\"family\": \"transformer\", \"d_model\": 8, \"n_heads\": 2, \"n_layers\": 1, "
                + "\"positional\": \"hard-alibi\", \"hard_alibi_heads\": 1"), 5, 4);
        // qkv 8→24, dense 8→8, up 8→32, down 32→8, head 8→5: 2·Σ k·n forward
        double linFwd = 2.0 * (8 * 24 + 8 * 8 + 8 * 32 + 32 * 8 + 8 * 5);
        assertEquals(1616, linFwd);
        assertEquals(linFwd, f.parts().get("linear")[0]);
        assertEquals(2 * linFwd, f.parts().get("linear")[1]);
        // keys per query: head 0 always 1; head 1 (1+2+3+4)/4 = 2.5; 3.5 pairs × head_dim 4 × (4 fwd, 8 bwd)
        assertEquals(56, f.parts().get("attention")[0]);
        assertEquals(112, f.parts().get("attention")[1]);
        assertEquals(1616 + 3232 + 56 + 112, f.perToken());
    }

    @Test
    void mambaByHand() {
        // d 8 → d_inner 16, d_state 4, d_conv 3, dt_rank ceil(8/16) = 1
        var f = FlopCount.of(m("\"family\": \"mamba\", \"d_model\": 8, \"n_layers\": 1, \"d_state\": 4, \"d_conv\": 3"), 5, 64);
        // in_proj 8→32, x_proj 16→(1+4+4), dt_proj 1→16, out_proj 16→8, tied head 8→5
        assertEquals(2.0 * (8 * 32 + 16 * 9 + 16 + 16 * 8 + 8 * 5), f.parts().get("linear")[0]);
        assertEquals(1168, f.parts().get("linear")[0]);
        assertEquals(2 * 3 * 16, f.parts().get("conv1d")[0]);
        assertEquals(4 * 3 * 16, f.parts().get("conv1d")[1]);
        assertEquals(7 * 16 * 4, f.parts().get("scan")[0]);
        assertEquals(19 * 16 * 4, f.parts().get("scan")[1]);
        assertEquals(1168 + 96 + 448, f.forward());
        assertEquals(2336 + 192 + 1216, f.backward());
    }

    @Test
    void lstmByHand() {
        // x·W_ih 8→32 and head 8→5 as linears; h·W_hh 8→32 every step
        var f = FlopCount.of(m("\"family\": \"lstm\", \"d_model\": 8, \"n_layers\": 1"), 5, 64);
        assertEquals(2.0 * (8 * 32 + 8 * 5), f.parts().get("linear")[0]);
        assertEquals(512, f.parts().get("lstm_recurrent")[0]);
        assertEquals(1024, f.parts().get("lstm_recurrent")[1]);
        assertEquals(592 + 1184 + 512 + 1024, f.perToken());
    }

    @Test
    void hybridAddsItsBlocks() {
        String shape = "\"d_model\": 8, \"n_heads\": 2, \"d_state\": 4, \"d_conv\": 3";
        var mamba = FlopCount.of(m("\"family\": \"mamba\", \"n_layers\": 1, " + shape), 5, 4);
        var hybrid = FlopCount.of(m("\"family\": \"hybrid\", \"blocks\": \"mamba,attn\", \"positional\": \"nope\", " + shape), 5, 4);
        var attn = FlopCount.of(m("\"family\": \"transformer\", \"n_layers\": 1, \"positional\": \"nope\", " + shape), 5, 4);
        // the hybrid is the Mamba model plus one attention block (the head counted once)
        assertEquals(mamba.perToken() + attn.perToken() - 6.0 * 8 * 5, hybrid.perToken());
        assertEquals(FlopCount.attendedKeys(0, 4), 2.5);
        assertEquals(FlopCount.attendedKeys(3, 4), 2.25);   // 1, 2, 3, 3
    }
}
