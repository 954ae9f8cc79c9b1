package parrot.config;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The Mamba / LSTM / hybrid fields of a model config: defaults, block patterns and field-named errors. */
class StackConfigTest {
    private static ModelConfig model(String fields, String... overrides) {
        String json = "{\"name\": \"e\", \"models\": [{\"name\": \"m\"" + (fields.isEmpty() ? "" : ", " + fields) + "}]}";
        return ConfigLoader.parse(json, List.of(overrides)).models().get(0);
    }

    private static void fails(String fields, String prefix, String... overrides) {
        ConfigException e = assertThrows(ConfigException.class, () -> model(fields, overrides));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith(prefix), "expected '" + prefix + "...', got: " + e.getMessage());
    }

    @Test
    void familiesStackTheirBlocks() {
        ModelConfig t = model("");
        assertEquals(List.of("attn", "attn"), t.stack());
        ModelConfig m = model("\"family\": \"mamba\", \"n_layers\": 3");
        assertEquals(List.of("mamba", "mamba", "mamba"), m.stack());
        assertEquals(16, m.dState());
        assertEquals(4, m.dConv());
        assertEquals(128, m.dInner());
        assertEquals(4, m.resolvedDtRank());          // ceil(64/16)
        assertEquals("layernorm", m.norm());
        assertEquals(List.of("lstm"), model("\"family\": \"lstm\", \"n_layers\": 1").stack());
        assertEquals(64, model("\"family\": \"lstm\"").lstmSize());
        assertEquals(5, model("\"family\": \"mamba\", \"d_model\": 65").resolvedDtRank());
    }

    @Test
    void hybridPatterns() {
        ModelConfig h = model("\"family\": \"hybrid\", \"blocks\": \"mamba,mamba,attn,mamba\"");
        assertEquals(List.of("mamba", "mamba", "attn", "mamba"), h.stack());
        assertEquals(4, h.nLayers());
        assertEquals(List.of("mamba", "mamba", "mamba", "mamba"), model("\"family\": \"hybrid\", \"blocks\": \"mamba*4\"").stack());
        assertEquals(List.of("mamba", "mamba", "mamba", "attn", "lstm"),
                model("\"family\": \"hybrid\", \"blocks\": \" mamba * 3 , attn,lstm\"").stack());
        assertEquals(2, model("\"family\": \"hybrid\", \"blocks\": \"mamba,attn\", \"n_layers\": 2").nLayers());
        // one override line turns a model into a hybrid
        assertEquals(List.of("attn", "mamba"), model("", "models.m.family=hybrid", "models.m.blocks=attn,mamba").stack());
    }

    @Test
    void roundTripsThroughJson() {
        for (String f : new String[]{"\"family\": \"hybrid\", \"blocks\": \"mamba*2,attn\", \"dt_rank\": 3",
                "\"family\": \"mamba\", \"norm\": \"rmsnorm\", \"d_state\": 8", "\"family\": \"lstm\", \"lstm_hidden\": 32", ""}) {
            ModelConfig m = model(f);
            assertEquals(m, ConfigLoader.parseModel(ConfigLoader.toJson(m)), f);
        }
    }

    @Test
    void dtRankIsAutoOrAnInteger() {
        assertEquals(8, model("\"family\": \"mamba\", \"dt_rank\": 8").resolvedDtRank());
        assertEquals(8, model("\"family\": \"mamba\", \"dt_rank\": \"8\"").resolvedDtRank());
        assertEquals(6, model("\"family\": \"mamba\"", "models.m.dt_rank=6").resolvedDtRank());
        fails("\"family\": \"mamba\", \"dt_rank\": \"big\"", "models[0].dt_rank: must be \"auto\" or a positive integer");
        fails("\"family\": \"mamba\", \"dt_rank\": 0", "models[0].dt_rank: must be >= 1");
        fails("\"family\": \"mamba\", \"dt_rank\": 1.5", "models[0].dt_rank: must be \"auto\" or a positive integer");
    }

    @Test
    void badValuesNameTheirField() {
        fails("\"family\": \"hybrid\"", "models[0].blocks: required with family hybrid");
        fails("\"blocks\": \"mamba*2\"", "models[0].blocks: only used with family hybrid");
        fails("\"family\": \"hybrid\", \"blocks\": \"mamba,ssm\"", "models[0].blocks: unknown block type 'ssm'");
        fails("\"family\": \"hybrid\", \"blocks\": \"mamba*x\"", "models[0].blocks: bad repeat");
        fails("\"family\": \"hybrid\", \"blocks\": \"mamba*0\"", "models[0].blocks: repeat count must be >= 1");
        fails("\"family\": \"hybrid\", \"blocks\": \"mamba,,attn\"", "models[0].blocks: unknown block type ''");
        fails("\"family\": \"hybrid\", \"blocks\": \"mamba,attn\", \"n_layers\": 3", "models[0].n_layers: family hybrid takes its depth");
        fails("\"family\": \"mamba\", \"n_layers\": 0", "models[0].n_layers: must be in 1..100000");
        fails("\"family\": \"mamba\", \"d_state\": 0", "models[0].d_state: must be >= 1");
        fails("\"family\": \"mamba\", \"d_conv\": 0", "models[0].d_conv: must be >= 1");
        fails("\"family\": \"mamba\", \"expand\": 0", "models[0].expand: must be >= 1");
        fails("\"family\": \"mamba\", \"norm\": \"batchnorm\"", "models[0].norm: unknown value 'batchnorm'; allowed: layernorm, rmsnorm");
        fails("\"norm\": \"rmsnorm\"", "models[0].norm: rmsnorm is for Mamba blocks");
        fails("\"family\": \"lstm\", \"norm\": \"rmsnorm\"", "models[0].norm: rmsnorm is for Mamba blocks");
        fails("\"family\": \"mamba\", \"lstm_hidden\": 32", "models[0].lstm_hidden: only used with lstm blocks");
        fails("\"family\": \"hybrid\", \"blocks\": \"lstm,mamba\", \"lstm_hidden\": 32", "models[0].lstm_hidden: an lstm block of a hybrid");
        fails("\"family\": \"lstm\", \"lstm_hidden\": -1", "models[0].lstm_hidden: must be >= 1");
        fails("\"family\": \"lstm\", \"lstm_hidden\": 0", "models[0].lstm_hidden: must be >= 1");
        fails("\"intermediate_size\": 0", "models[0].intermediate_size: must be >= 1");
        fails("\"family\": \"mamba\", \"positional\": \"rope\"", "models[0].positional: only used with attention blocks");
        fails("\"family\": \"mamba\", \"windows\": [1, 0, 0, 0, 0, 0, 0, 0]", "models[0].windows: only used with attention blocks");
        fails("\"family\": \"lstm\", \"hard_alibi_heads\": 2", "models[0].hard_alibi_heads: only used with attention blocks");
    }

    @Test
    void attentionChecksOnlyApplyToAttention() {
        // a Mamba of width 100 needs no head split; a hybrid with attention does
        assertEquals(100, model("\"family\": \"mamba\", \"d_model\": 100").dModel());
        fails("\"family\": \"hybrid\", \"blocks\": \"mamba,attn\", \"d_model\": 100", "models[0].d_model: 100 is not divisible by n_heads 8");
    }
}
