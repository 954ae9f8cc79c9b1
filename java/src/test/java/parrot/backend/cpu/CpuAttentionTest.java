package parrot.backend.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import parrot.backend.AttentionSpec;
import parrot.backend.Backend;
import parrot.backend.Tensor;
import parrot.backend.cpu.common.AttentionSimd;
import parrot.backend.cpu.common.Simd;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The float32 CPU backend's attention (the vector kernels of AttentionSimd, which the gradient checks on the
 * float64 twin never run) against the float64 twin's plain loops: forward, lse and the backward's dqkv, which
 * accumulates onto what dqkv held, for every masking scheme, lengths around the vector width and head dims
 * below, at and above it; and bitwise the same when the (batch, head) pairs are split differently.
 */
class CpuAttentionTest {
    private static final Backend F32 = new CpuBackend(), F64 = new parrot.backend.cpu.f64.CpuBackend();
    private static final int B = 2, H = 4;
    private static final double TOL = 2e-5;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String scheme : AttentionTilingTest.SCHEMES)
            for (int len : new int[]{1, 5, 9, 17, 70})
                for (int hd : new int[]{3, 8, 16})
                    out.add(Arguments.of(scheme, len, hd));
        return out.stream();
    }

    private static Tensor f32(float[] v, int... shape) {
        Tensor t = F32.zeros(shape);
        F32.upload(t, v);
        return t;
    }

    /**
     * The quickstart's heads (64 / 8 = 8 wide) take the vector kernels on every host, AVX-512 included: with a
     * 16-float species they did not, and attention was half of a training step there.
     */
    @Test
    void theQuickstartsHeadWidthTakesTheVectorKernels() {
        assertTrue(Simd.vectorized(), "the tests run with the vector module");
        AttentionSpec spec = AttentionTilingTest.spec("hard-alibi", 8);
        int len = 9, rows = len, width = 3 * H * 8;
        float[] qkv = AttentionTilingTest.randomFloats(new Random(5), rows * width, 1);
        assertTrue(AttentionSimd.forward(new float[rows * H * 8], new float[H * len], qkv, spec, len, 0, H),
                "head_dim 8 ran on the plain path");
    }

    @ParameterizedTest(name = "{0} T={1} hd={2}")
    @MethodSource("cases")
    void matchesTheFloat64Reference(String scheme, int len, int hd) {
        assertTrue(Simd.vectorized(), "the tests run with the vector module");
        AttentionSpec spec = AttentionTilingTest.spec(scheme, hd);
        Random rnd = new Random(31L * len + hd + scheme.hashCode());
        int rows = B * len, width = 3 * H * hd, owidth = H * hd;
        float[] qkv = AttentionTilingTest.randomFloats(rnd, rows * width, 1.5);
        float[] dout = AttentionTilingTest.randomFloats(rnd, rows * owidth, 1);
        float[] dqkv0 = AttentionTilingTest.randomFloats(rnd, rows * width, 1);

        Tensor rq = AttentionTilingTest.upload(AttentionTilingTest.toDoubles(qkv), rows, width);
        Tensor rOut = F64.zeros(rows, owidth), rLse = F64.zeros(B, H, len);
        Tensor rdq = AttentionTilingTest.upload(AttentionTilingTest.toDoubles(dqkv0), rows, width);
        F64.attentionForward(rOut, rLse, rq, spec, B, len);
        F64.attentionBackward(rdq, AttentionTilingTest.upload(AttentionTilingTest.toDoubles(dout), rows, owidth), rq,
                rOut, rLse, spec, B, len);

        Tensor q = f32(qkv, rows, width), o = F32.zeros(rows, owidth), lse = F32.zeros(B, H, len);
        Tensor dq = f32(dqkv0, rows, width);
        F32.attentionForward(o, lse, q, spec, B, len);
        F32.attentionBackward(dq, f32(dout, rows, owidth), q, o, lse, spec, B, len);
        AttentionTilingTest.close("out", F64.toDoubles(rOut), F32.toFloats(o), TOL);
        AttentionTilingTest.close("lse", F64.toDoubles(rLse), F32.toFloats(lse), TOL);
        AttentionTilingTest.close("dqkv", F64.toDoubles(rdq), F32.toFloats(dq), TOL);

        // one (batch, head) pair at a time: the same bits as the backend's split (where the vector kernels run:
        // head_dim a multiple of the vector width; elsewhere the plain path did the work above)
        float[] o1 = new float[rows * owidth], l1 = new float[B * H * len], d1 = dqkv0.clone();
        for (int bh = 0; bh < B * H; bh++)
            if (!AttentionSimd.forward(o1, l1, qkv, spec, len, bh, bh + 1)) return;
        for (int bh = B * H - 1; bh >= 0; bh--) AttentionSimd.backward(d1, dout, qkv, o1, l1, spec, len, bh, bh + 1);
        assertArrayEquals(F32.toFloats(o), o1, "out split by pair");
        assertArrayEquals(F32.toFloats(lse), l1, "lse split by pair");
        assertArrayEquals(F32.toFloats(dq), d1, "dqkv split by pair");
    }
}
