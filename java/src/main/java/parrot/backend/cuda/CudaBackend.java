package parrot.backend.cuda;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jcuda.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import parrot.backend.AdamWParams;
import parrot.backend.AttentionSpec;
import parrot.backend.Backend;
import parrot.backend.RopeSpec;
import parrot.backend.Tensor;

/**
 * The GPU backend: float32 tensors in device memory, PTX kernels from cuda-kernels/ loaded through the JCuda
 * driver API, GEMM by cuBLAS (JCublas2) or by the built-in tiled kernel, everything on one stream.
 *
 * <p>Use from one thread at a time (any thread: the context is bound on first use). Kernel launches are
 * asynchronous; the calls that return host data (toFloats, sumSquares, crossEntropy, …) synchronize.
 * Shapes are checked on the host before every launch, since a wrong size on the device corrupts silently.
 */
public final class CudaBackend implements Backend {
    private static final Logger LOG = LoggerFactory.getLogger(CudaBackend.class);

    private final CudaContext ctx;
    private final String arch;
    private final Map<String, CudaModule> modules = new LinkedHashMap<>();
    private final ElementwiseKernels elementwise;
    private final EmbeddingKernels embedding;
    private final LinearKernels linear;
    private final LayerNormKernels layerNorm;
    private final RopeKernels rope;
    private final AttentionKernels attention;
    private final CrossEntropyKernels crossEntropy;
    private final OptimizerKernels optimizer;
    private final Gemm gemm;
    private final String gemmDescription;
    private final Set<CudaTensor> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean closed;

    /**
     * Device 0, GEMM from PARROT_GEMM / -Dparrot.gemm (default auto), attention kernels from PARROT_ATTENTION /
     * -Dparrot.attention (default fp32).
     */
    public CudaBackend() {
        this(0, GemmMode.fromEnvironment());
    }

    public CudaBackend(int ordinal) {
        this(ordinal, GemmMode.fromEnvironment());
    }

    public CudaBackend(int ordinal, GemmMode gemmMode) {
        this(ordinal, gemmMode, AttentionPrecision.fromEnvironment());
    }

    public CudaBackend(int ordinal, GemmMode gemmMode, AttentionPrecision attentionPrecision) {
        ctx = new CudaContext(ordinal);
        try {
            arch = PtxResources.archFor(ctx.ccMajor, ctx.ccMinor);
            if (arch == null)
                throw new CudaException("cuda:" + ordinal + " (" + ctx.deviceName + ") has compute capability "
                        + ctx.ccMajor + "." + ctx.ccMinor + "; parrot's kernels need 8.0 or newer");
            for (String family : KernelFamilies.names())
                modules.put(family, new CudaModule(family, arch, KernelFamilies.kernels(family), ctx.driverVersion));
            elementwise = new ElementwiseKernels(ctx, modules.get(ElementwiseKernels.FAMILY));
            embedding = new EmbeddingKernels(ctx, modules.get(EmbeddingKernels.FAMILY));
            linear = new LinearKernels(ctx, modules.get(LinearKernels.FAMILY));
            layerNorm = new LayerNormKernels(ctx, modules.get(LayerNormKernels.FAMILY));
            rope = new RopeKernels(ctx, modules.get(RopeKernels.FAMILY));
            attention = new AttentionKernels(ctx, modules.get(AttentionKernels.FAMILY),
                    modules.get(AttentionKernels.FLASH_FAMILY), attentionPrecision);
            crossEntropy = new CrossEntropyKernels(ctx, modules.get(CrossEntropyKernels.FAMILY), elementwise);
            optimizer = new OptimizerKernels(ctx, modules.get(OptimizerKernels.FAMILY));
            String[] why = new String[1];
            gemm = chooseGemm(gemmMode, why);
            gemmDescription = why[0];
        } catch (RuntimeException | Error e) {
            modules.values().forEach(CudaModule::close);
            ctx.close();
            throw e;
        }
        long[] mem = ctx.memInfo();
        LOG.info("CUDA backend {}: compute capability {}.{}, {} SMs, driver API {}, PTX {}, {} MiB free of {} MiB, "
                        + "GEMM {}, attention {}", name(), ctx.ccMajor, ctx.ccMinor, ctx.multiprocessors,
                CudaContext.versionString(ctx.driverVersion), arch, mem[0] >> 20, mem[1] >> 20, gemmDescription,
                attentionPrecision.name().toLowerCase(java.util.Locale.ROOT));
    }

    private Gemm chooseGemm(GemmMode mode, String[] description) {
        if (mode == GemmMode.BUILTIN) {
            description[0] = "builtin (forced)";
            LOG.info("GEMM: built-in tiled kernel (forced)");
            return linear.builtinGemm();
        }
        try {
            CublasGemm c = new CublasGemm(ctx.stream);
            description[0] = "cublas " + c.version();
            LOG.info("GEMM: cuBLAS {} (FP32)", c.version());
            return c;
        } catch (Throwable t) {
            if (mode == GemmMode.CUBLAS) {
                if (t instanceof CudaException ce) throw ce;
                throw new CudaException("cuBLAS was forced but could not start: " + t, -1, t);
            }
            description[0] = "builtin (cuBLAS unavailable: " + t.getMessage() + ")";
            LOG.warn("GEMM: cuBLAS unavailable ({}); using the built-in tiled kernel", t.getMessage());
            return linear.builtinGemm();
        }
    }

    /** "cublas 12.x.y", "builtin (forced)" or "builtin (cuBLAS unavailable: …)". */
    public String gemmDescription() {
        return gemmDescription;
    }

    /** Which attention kernels this backend runs (PARROT_ATTENTION). */
    public AttentionPrecision attentionPrecision() {
        return attention.precision();
    }

    /** "sm_80" or "sm_90": which PTX this device runs. */
    public String ptxArch() {
        return arch;
    }

    /** Waits until every queued op has finished (for timing). */
    public void synchronize() {
        ctx.makeCurrent();
        ctx.synchronize("synchronize()");
    }

    /** Fills a float tensor with v on the device (e.g. NaN to poison outputs in tests). */
    public void fill(Tensor t, float v) {
        ctx.makeCurrent();
        elementwise.fill(f32(t, "t"), v);
    }

    @Override
    public String name() {
        return "cuda:" + ctx.ordinal + " (" + ctx.deviceName + ")";
    }

    @Override
    public Tensor.DType dtype() {
        return Tensor.DType.F32;
    }

    // ---- tensors ---------------------------------------------------------------------------------------------

    @Override
    public Tensor zeros(int... shape) {
        return allocate(shape, Tensor.DType.F32);
    }

    @Override
    public Tensor zerosInt(int... shape) {
        return allocate(shape, Tensor.DType.I32);
    }

    private CudaTensor allocate(int[] shape, Tensor.DType dtype) {
        ensureOpen();
        ctx.makeCurrent();
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + java.util.Arrays.toString(shape));
            n *= d;
            if (n > Integer.MAX_VALUE)
                throw new IllegalArgumentException("tensor of shape " + java.util.Arrays.toString(shape)
                        + " has more than 2^31-1 elements");
        }
        CudaTensor t = new CudaTensor(this, ctx.alloc(n * 4, dtype + java.util.Arrays.toString(shape)), shape, dtype);
        ctx.memsetZero(t.ptr(), n);
        live.add(t);
        return t;
    }

    @Override
    public void release(Tensor t) {
        CudaTensor c = own(t, "t");
        ctx.makeCurrent();
        ctx.free(c.ptr());
        c.markReleased();
        live.remove(c);
    }

    @Override
    public void upload(Tensor dst, float[] src) {
        CudaTensor d = f32(dst, "dst");
        requireLength(d, src.length, "upload dst");
        ctx.makeCurrent();
        ctx.upload(d.ptr(), Pointer.to(src), d.bytes());
    }

    @Override
    public void upload(Tensor dst, double[] src) {
        float[] f = new float[src.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) src[i];
        upload(dst, f);
    }

    @Override
    public void uploadInts(Tensor dst, int[] src) {
        CudaTensor d = i32(dst, "dst");
        requireLength(d, src.length, "uploadInts dst");
        ctx.makeCurrent();
        ctx.upload(d.ptr(), Pointer.to(src), d.bytes());
    }

    @Override
    public float[] toFloats(Tensor src) {
        CudaTensor s = f32(src, "src");
        float[] r = new float[s.length()];
        ctx.makeCurrent();
        ctx.download(Pointer.to(r), s.ptr(), s.bytes());
        return r;
    }

    @Override
    public double[] toDoubles(Tensor src) {
        float[] f = toFloats(src);
        double[] r = new double[f.length];
        for (int i = 0; i < f.length; i++) r[i] = f[i];
        return r;
    }

    @Override
    public int[] toInts(Tensor src) {
        CudaTensor s = i32(src, "src");
        int[] r = new int[s.length()];
        ctx.makeCurrent();
        ctx.download(Pointer.to(r), s.ptr(), s.bytes());
        return r;
    }

    @Override
    public void zero(Tensor t) {
        CudaTensor c = own(t, "t");
        ctx.makeCurrent();
        ctx.memsetZero(c.ptr(), c.size());
    }

    @Override
    public void copy(Tensor dst, Tensor src) {
        CudaTensor d = own(dst, "dst"), s = own(src, "src");
        if (d.dtype() != s.dtype()) throw new IllegalArgumentException("copy: dtype " + d.dtype() + " ← " + s.dtype());
        requireLength(d, s.size(), "copy dst");
        ctx.makeCurrent();
        ctx.copyDtoD(d.ptr(), s.ptr(), d.bytes());
    }

    // ---- elementwise ---------------------------------------------------------------------------------------------

    @Override
    public void add(Tensor out, Tensor a, Tensor b) {
        CudaTensor o = f32(out, "out"), x = f32(a, "a"), y = f32(b, "b");
        requireLength(x, o.size(), "add a");
        requireLength(y, o.size(), "add b");
        ctx.makeCurrent();
        elementwise.add(o, x, y);
    }

    @Override
    public void accumulate(Tensor dst, Tensor src) {
        CudaTensor d = f32(dst, "dst"), s = f32(src, "src");
        requireLength(s, d.size(), "accumulate src");
        ctx.makeCurrent();
        elementwise.accumulate(d, s);
    }

    @Override
    public void scale(Tensor t, double s) {
        CudaTensor c = f32(t, "t");
        ctx.makeCurrent();
        elementwise.scale(c, (float) s);
    }

    @Override
    public double sumSquares(Tensor t) {
        CudaTensor c = f32(t, "t");
        ctx.makeCurrent();
        return elementwise.sumSquares(c);
    }

    @Override
    public void geluForward(Tensor out, Tensor in) {
        CudaTensor o = f32(out, "out"), i = f32(in, "in");
        requireLength(i, o.size(), "gelu in");
        ctx.makeCurrent();
        elementwise.geluForward(o, i);
    }

    @Override
    public void geluBackward(Tensor din, Tensor dout, Tensor in) {
        if (din == null) return;
        CudaTensor di = f32(din, "din"), d = f32(dout, "dout"), i = f32(in, "in");
        requireLength(d, di.size(), "gelu dout");
        requireLength(i, di.size(), "gelu in");
        ctx.makeCurrent();
        elementwise.geluBackward(di, d, i);
    }

    // ---- layers ----------------------------------------------------------------------------------------------

    @Override
    public void embeddingForward(Tensor out, Tensor tokens, Tensor table) {
        CudaTensor o = f32(out, "out"), tok = i32(tokens, "tokens"), tab = f32(table, "table");
        int c = lastDim(tab, "table");
        int v = rows(tab, c, "table");
        int n = tok.length();
        requireLength(o, (long) n * c, "embedding out");
        ctx.makeCurrent();
        embedding.forward(o, tok, tab, n, c, v);
    }

    @Override
    public void embeddingBackward(Tensor dtable, Tensor dout, Tensor tokens) {
        if (dtable == null) return;
        CudaTensor dt = f32(dtable, "dtable"), d = f32(dout, "dout"), tok = i32(tokens, "tokens");
        int c = lastDim(dt, "dtable");
        int v = rows(dt, c, "dtable");
        int n = tok.length();
        requireLength(d, (long) n * c, "embedding dout");
        ctx.makeCurrent();
        embedding.backward(dt, d, tok, n, c, v);
    }

    @Override
    public void linearForward(Tensor out, Tensor in, Tensor weight, Tensor bias) {
        CudaTensor o = f32(out, "out"), x = f32(in, "in"), w = f32(weight, "weight"), b = optF32(bias, "bias");
        int[] oi = weightDims(w);
        int outF = oi[0], inF = oi[1];
        int n = rows(x, inF, "in");
        requireLength(o, (long) n * outF, "linear out");
        if (b != null) requireLength(b, outF, "linear bias");
        ctx.makeCurrent();
        if (n == 0 || outF == 0) return;
        if (inF == 0) ctx.memsetZero(o.ptr(), o.size());
        else gemm.gemm(false, true, n, outF, inF, 1f, x.ptr(), inF, w.ptr(), inF, 0f, o.ptr(), outF);
        if (b != null) linear.biasAdd(o, b, n, outF);
    }

    @Override
    public void linearBackward(Tensor din, Tensor dweight, Tensor dbias, Tensor dout, Tensor in, Tensor weight) {
        CudaTensor w = f32(weight, "weight"), d = f32(dout, "dout");
        int[] oi = weightDims(w);
        int outF = oi[0], inF = oi[1];
        int n = rows(d, outF, "dout");
        CudaTensor di = optF32(din, "din"), dw = optF32(dweight, "dweight"), db = optF32(dbias, "dbias");
        CudaTensor x = dw != null ? f32(in, "in") : null;
        if (di != null) requireLength(di, (long) n * inF, "linear din");
        if (x != null) requireLength(x, (long) n * inF, "linear in");
        if (dw != null) requireLength(dw, (long) outF * inF, "linear dweight");
        if (db != null) requireLength(db, outF, "linear dbias");
        ctx.makeCurrent();
        if (n == 0 || outF == 0 || inF == 0) return;
        if (di != null) gemm.gemm(false, false, n, inF, outF, 1f, d.ptr(), outF, w.ptr(), inF, 1f, di.ptr(), inF);
        if (dw != null) gemm.gemm(true, false, outF, inF, n, 1f, d.ptr(), outF, x.ptr(), inF, 1f, dw.ptr(), inF);
        if (db != null) linear.biasGrad(db, d, n, outF);
    }

    @Override
    public void layerNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor in, Tensor weight, Tensor bias,
                                 double eps) {
        CudaTensor o = f32(out, "out"), mu = f32(mean, "mean"), rs = f32(rstd, "rstd"), x = f32(in, "in");
        CudaTensor w = optF32(weight, "weight"), b = optF32(bias, "bias");
        int c = lastDim(x, "in");
        int n = rows(x, c, "in");
        requireLength(o, x.size(), "layernorm out");
        requireLength(mu, n, "layernorm mean");
        requireLength(rs, n, "layernorm rstd");
        if (w != null) requireLength(w, c, "layernorm weight");
        if (b != null) requireLength(b, c, "layernorm bias");
        ctx.makeCurrent();
        layerNorm.forward(o, mu, rs, x, w, b, n, c, (float) eps);
    }

    @Override
    public void layerNormBackward(Tensor din, Tensor dweight, Tensor dbias, Tensor dout, Tensor in, Tensor weight,
                                  Tensor mean, Tensor rstd) {
        CudaTensor d = f32(dout, "dout"), x = f32(in, "in"), mu = f32(mean, "mean"), rs = f32(rstd, "rstd");
        CudaTensor w = optF32(weight, "weight");
        CudaTensor di = optF32(din, "din"), dw = optF32(dweight, "dweight"), db = optF32(dbias, "dbias");
        int c = lastDim(x, "in");
        int n = rows(x, c, "in");
        requireLength(d, x.size(), "layernorm dout");
        requireLength(mu, n, "layernorm mean");
        requireLength(rs, n, "layernorm rstd");
        if (w != null) requireLength(w, c, "layernorm weight");
        if (di != null) requireLength(di, x.size(), "layernorm din");
        if (dw != null) requireLength(dw, c, "layernorm dweight");
        if (db != null) requireLength(db, c, "layernorm dbias");
        ctx.makeCurrent();
        layerNorm.backward(di, dw, db, d, x, w, mu, rs, n, c);
    }

    // ---- attention -------------------------------------------------------------------------------------------

    @Override
    public void ropeForward(Tensor out, Tensor qkv, RopeSpec spec, int batch, int seqLen, int posOffset) {
        CudaTensor o = f32(out, "out"), q = f32(qkv, "qkv");
        long size = (long) batch * seqLen * 3 * spec.heads() * spec.headDim();
        requireLength(q, size, "rope qkv");
        requireLength(o, size, "rope out");
        requireNonNegative(posOffset, "posOffset");
        ctx.makeCurrent();
        rope.forward(o, q, spec, batch, seqLen, posOffset);
    }

    @Override
    public void ropeBackward(Tensor dqkv, Tensor dout, RopeSpec spec, int batch, int seqLen, int posOffset) {
        if (dqkv == null) return;
        CudaTensor dq = f32(dqkv, "dqkv"), d = f32(dout, "dout");
        long size = (long) batch * seqLen * 3 * spec.heads() * spec.headDim();
        requireLength(dq, size, "rope dqkv");
        requireLength(d, size, "rope dout");
        requireNonNegative(posOffset, "posOffset");
        ctx.makeCurrent();
        rope.backward(dq, d, spec, batch, seqLen, posOffset);
    }

    @Override
    public void attentionForward(Tensor out, Tensor lse, Tensor qkv, AttentionSpec spec, int batch, int seqLen) {
        AttentionKernels.checkSpec(spec);
        CudaTensor o = f32(out, "out"), l = f32(lse, "lse"), q = f32(qkv, "qkv");
        long rows = (long) batch * seqLen;
        requireLength(q, rows * 3 * spec.width(), "attention qkv");
        requireLength(o, rows * spec.width(), "attention out");
        requireLength(l, rows * spec.heads(), "attention lse");
        ctx.makeCurrent();
        attention.forward(o, l, q, spec, batch, seqLen);
    }

    @Override
    public void attentionBackward(Tensor dqkv, Tensor dout, Tensor qkv, Tensor out, Tensor lse, AttentionSpec spec,
                                  int batch, int seqLen) {
        if (dqkv == null) return;
        AttentionKernels.checkSpec(spec);
        CudaTensor dq = f32(dqkv, "dqkv"), d = f32(dout, "dout"), q = f32(qkv, "qkv"), o = f32(out, "out");
        CudaTensor l = f32(lse, "lse");
        long rows = (long) batch * seqLen;
        requireLength(q, rows * 3 * spec.width(), "attention qkv");
        requireLength(dq, rows * 3 * spec.width(), "attention dqkv");
        requireLength(o, rows * spec.width(), "attention out");
        requireLength(d, rows * spec.width(), "attention dout");
        requireLength(l, rows * spec.heads(), "attention lse");
        ctx.makeCurrent();
        attention.backward(dq, d, q, o, l, spec, batch, seqLen);
    }

    @Override
    public void attentionDecode(Tensor out, Tensor qkv, Tensor kCache, Tensor vCache, AttentionSpec spec, int batch,
                                int pos) {
        AttentionKernels.checkSpec(spec);
        CudaTensor o = f32(out, "out"), q = f32(qkv, "qkv"), kc = f32(kCache, "kCache"), vc = f32(vCache, "vCache");
        requireLength(q, (long) batch * 3 * spec.width(), "decode qkv");
        requireLength(o, (long) batch * spec.width(), "decode out");
        long perLen = (long) batch * spec.width();
        if (perLen == 0) return;
        if (kc.size() % perLen != 0)
            throw new IllegalArgumentException("kCache " + kc + " is not [batch=" + batch + ", heads=" + spec.heads()
                    + ", maxLen, headDim=" + spec.headDim() + "]");
        int maxLen = (int) (kc.size() / perLen);
        requireLength(vc, kc.size(), "decode vCache");
        if (pos < 0 || pos >= maxLen)
            throw new IllegalArgumentException("decode position " + pos + " outside the cache (maxLen " + maxLen + ")");
        ctx.makeCurrent();
        attention.decode(o, q, kc, vc, spec, batch, maxLen, pos);
    }

    // ---- loss and optimizer ----------------------------------------------------------------------------------

    @Override
    public double crossEntropy(Tensor dlogits, Tensor logits, Tensor targets, double gradScale) {
        CudaTensor lg = f32(logits, "logits"), t = i32(targets, "targets"), dl = optF32(dlogits, "dlogits");
        int v = lastDim(lg, "logits");
        int n = rows(lg, v, "logits");
        requireLength(t, n, "crossEntropy targets");
        if (dl != null) requireLength(dl, lg.size(), "crossEntropy dlogits");
        ctx.makeCurrent();
        return crossEntropy.crossEntropy(dl, lg, t, n, v, (float) gradScale);
    }

    @Override
    public void argmax(Tensor out, Tensor logits) {
        CudaTensor o = i32(out, "out"), lg = f32(logits, "logits");
        int v = lastDim(lg, "logits");
        int n = rows(lg, v, "logits");
        requireLength(o, n, "argmax out");
        ctx.makeCurrent();
        crossEntropy.argmax(o, lg, n, v);
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWParams hp, double weightDecay, int step,
                      double lr) {
        CudaTensor p = f32(param, "param"), g = f32(grad, "grad"), mm = f32(m, "m"), vv = f32(v, "v");
        requireLength(g, p.size(), "adamw grad");
        requireLength(mm, p.size(), "adamw m");
        requireLength(vv, p.size(), "adamw v");
        if (step < 1) throw new IllegalArgumentException("AdamW step counts from 1, got " + step);
        ctx.makeCurrent();
        optimizer.adamw(p, g, mm, vv, hp, weightDecay, step, lr);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        ctx.makeCurrent();
        List<RuntimeException> errors = new ArrayList<>();
        try {
            ctx.synchronize("close");
        } catch (RuntimeException e) {
            errors.add(e);
        }
        for (CudaTensor t : live) {
            try {
                ctx.free(t.ptr());
                t.markReleased();
            } catch (RuntimeException e) {
                errors.add(e);
            }
        }
        live.clear();
        try {
            gemm.close();
            modules.values().forEach(CudaModule::close);
        } catch (RuntimeException e) {
            errors.add(e);
        }
        ctx.close();
        if (!errors.isEmpty()) LOG.warn("closing {}: {}", name(), errors.get(0).getMessage());
    }

    // ---- checks ----------------------------------------------------------------------------------------------

    private void ensureOpen() {
        if (closed) throw new IllegalStateException(name() + " is closed");
    }

    private CudaTensor own(Tensor t, String what) {
        ensureOpen();
        if (t == null) throw new NullPointerException(what + " is null");
        if (!(t instanceof CudaTensor c) || c.owner() != this)
            throw new IllegalArgumentException(what + " (" + Tensor.describe(t) + ") does not belong to " + name());
        if (c.released()) throw new IllegalStateException(what + " " + c + " used after release");
        return c;
    }

    private CudaTensor f32(Tensor t, String what) {
        CudaTensor c = own(t, what);
        if (c.dtype() != Tensor.DType.F32) throw new IllegalArgumentException(what + " must be F32, is " + c);
        return c;
    }

    private CudaTensor optF32(Tensor t, String what) {
        return t == null ? null : f32(t, what);
    }

    private CudaTensor i32(Tensor t, String what) {
        CudaTensor c = own(t, what);
        if (c.dtype() != Tensor.DType.I32) throw new IllegalArgumentException(what + " must be I32, is " + c);
        return c;
    }

    private static void requireLength(CudaTensor t, long n, String what) {
        if (t.size() != n) throw new IllegalArgumentException(what + ": expected " + n + " elements, got " + t);
    }

    private static void requireNonNegative(int v, String what) {
        if (v < 0) throw new IllegalArgumentException(what + " must be >= 0, got " + v);
    }

    private static int lastDim(CudaTensor t, String what) {
        int[] s = t.shape();
        if (s.length == 0) throw new IllegalArgumentException(what + " needs at least one dimension: " + t);
        return s[s.length - 1];
    }

    /** Rows of t when its elements are rows of `cols`. */
    private static int rows(CudaTensor t, int cols, String what) {
        if (cols == 0) return 0;
        if (t.size() % cols != 0) throw new IllegalArgumentException(what + " is not rows of " + cols + ": " + t);
        return (int) (t.size() / cols);
    }

    private static int[] weightDims(CudaTensor w) {
        int[] s = w.shape();
        if (s.length != 2) throw new IllegalArgumentException("linear weight must be [out, in], got " + w);
        return s;
    }
}
