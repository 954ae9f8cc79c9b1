package parrot.bench;

import org.junit.jupiter.api.Test;
import parrot.backend.cpu.CpuBackend;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpProfileTest {
    @Test
    void countsEachOpOfTheTimedStepsOnly() {
        try (CpuBackend cpu = new CpuBackend()) {
            OpProfile prof = OpProfile.around(cpu);
            int steps = 3;
            TrainingBench.run(prof.backend(), TrainingBench.SMALL, 2, steps, prof::reset);
            List<OpProfile.Op> ops = prof.ops(steps);
            Map<String, OpProfile.Op> byName = ops.stream().collect(Collectors.toMap(OpProfile.Op::name, o -> o));
            // 2 layers × (qkv, attention out, MLP up, MLP down) + the LM head; one optimizer step a training step.
            // Counts of the 2 warm-up steps would make these 9·5/3 and 5/3.
            assertEquals(9.0, byName.get("linearForward").callsPerStep());
            assertEquals(9.0, byName.get("linearBackward").callsPerStep());
            assertEquals(2.0, byName.get("attentionForward").callsPerStep());
            assertEquals(1.0, byName.get("adamw").callsPerStep());
            double sum = 0;
            for (int i = 0; i < ops.size(); i++) {
                OpProfile.Op o = ops.get(i);
                assertTrue(o.share() >= 0 && o.msPerStep() >= 0, o.toString());
                if (i > 0) assertTrue(o.share() <= ops.get(i - 1).share(), "sorted by share");
                sum += o.share();
            }
            assertTrue(sum > 0.5 && sum <= 1.0, "ops' shares of the wall time: " + sum);
            assertTrue(byName.get("linearForward").msPerStep() > 0);
        }
    }
}
