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

    /** Which PTX target this device runs ({@link PtxResources#archFor}). */
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

    /** The driver's name of the device, e.g. "NVIDIA H100 80GB HBM3" or {@link DeviceSelector#EMULATED_DEVICE_NAME}. */
    public String deviceName() {
        return ctx.deviceName;
    }

    /** True on the emulated CUDA device (a CPU implementation of the driver): its results are not GPU results. */
    public boolean emulated() {
        return DeviceSelector.isEmulated(ctx.deviceName);
    }

    /** Tensors allocated and not yet released (the parity suite checks that an op leaves none behind). */
    public int liveTensors() {
        return live.size();
    }

    /**
     * Device memory in use (the driver's total − free) that neither a live tensor nor a scratch buffer accounts
     * for: exact on the emulated device, so the parity suite fails an op whose memory grows it (a buffer the
     * launcher allocated and never freed). On a card it also holds the context, lazily loaded modules and
     * cuBLAS's workspace, so it is only reported there.
     */
    public long unaccountedDeviceBytes() {
        ctx.makeCurrent();
        ctx.synchronize("memory accounting");
        long[] mem = ctx.memInfo();
        long tensors = 0;
        for (CudaTensor t : live) tensors += t.bytes();
        return mem[1] - mem[0] - tensors - ctx.scratchBytes();
    }

    /**
     * The distinct kernels launched since the last call, in first-launch order (at most 32 names): a parity check
     * that fails names the kernels it ran.
     */
    public java.util.List<String> takeLaunchedKernels() {
        return ctx.takeLaunched();
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
    public void upload(Tensor dst, int dstOffset, float[] src, int srcOffset, int count) {
        CudaTensor d = f32(dst, "dst");
        java.util.Objects.checkFromIndexSize(dstOffset, count, d.length());
        java.util.Objects.checkFromIndexSize(srcOffset, count, src.length);
        ctx.makeCurrent();
        ctx.upload(d.ptr().withByteOffset(4L * dstOffset), Pointer.to(src).withByteOffset(4L * srcOffset), 4L * count);
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

    @Override
    public void attentionFillCache(Tensor kCache, Tensor vCache, Tensor qkv, AttentionSpec spec, int batch, int seqLen) {
        AttentionKernels.checkSpec(spec);
        CudaTensor q = f32(qkv, "qkv"), kc = f32(kCache, "kCache"), vc = f32(vCache, "vCache");
        requireLength(q, (long) batch * seqLen * 3 * spec.width(), "fill cache qkv");
        long perLen = (long) batch * spec.width();
        if (perLen == 0 || seqLen == 0) return;
        if (kc.size() % perLen != 0)
            throw new IllegalArgumentException("kCache " + kc + " is not [batch=" + batch + ", heads=" + spec.heads()
                    + ", maxLen, headDim=" + spec.headDim() + "]");
        int maxLen = (int) (kc.size() / perLen);
        requireLength(vc, kc.size(), "fill cache vCache");
        if (seqLen > maxLen)
            throw new IllegalArgumentException("fill cache: " + seqLen + " positions do not fit the cache (maxLen " + maxLen + ")");
        ctx.makeCurrent();
        attention.fillCache(kc, vc, q, spec, batch, seqLen, maxLen);
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

    // ---- Mamba and LSTM ops, multi-tensor optimizer ------------------------------------------------------------
    // One appended block: the launchers are made on first use (their modules load with the others in the
    // constructor, from KernelFamilies).

    private PointwiseKernels pointwiseKernels;
    private RmsNormKernels rmsNormKernels;
    private Conv1dKernels conv1dKernels;
    private ScanKernels scanKernels;
    private LstmKernels lstmKernels;
    private MultiTensorKernels multiTensorKernels;

    private PointwiseKernels pointwiseOps() {
        if (pointwiseKernels == null)
            pointwiseKernels = new PointwiseKernels(ctx, modules.get(PointwiseKernels.FAMILY));
        return pointwiseKernels;
    }

    private RmsNormKernels rmsNormOps() {
        if (rmsNormKernels == null) rmsNormKernels = new RmsNormKernels(ctx, modules.get(RmsNormKernels.FAMILY));
        return rmsNormKernels;
    }

    private Conv1dKernels conv1dOps() {
        if (conv1dKernels == null) conv1dKernels = new Conv1dKernels(ctx, modules.get(Conv1dKernels.FAMILY));
        return conv1dKernels;
    }

    private ScanKernels scanOps() {
        if (scanKernels == null) scanKernels = new ScanKernels(ctx, modules.get(ScanKernels.FAMILY));
        return scanKernels;
    }

    private LstmKernels lstmOps() {
        if (lstmKernels == null) lstmKernels = new LstmKernels(ctx, modules.get(LstmKernels.FAMILY), pointwiseOps());
        return lstmKernels;
    }

    private MultiTensorKernels multiTensorOps() {
        if (multiTensorKernels == null)
            multiTensorKernels = new MultiTensorKernels(ctx, modules.get(MultiTensorKernels.FAMILY));
        return multiTensorKernels;
    }

    private static void requireSameSize(CudaTensor a, CudaTensor b, String what) {
        if (a.size() != b.size()) throw new IllegalArgumentException(what + ": " + a + " and " + b + " differ in size");
    }

    @Override
    public void copyColumns(Tensor dst, int dstCol, Tensor src, int srcCol, int width, boolean accumulate) {
        CudaTensor d = f32(dst, "dst"), s = f32(src, "src");
        int dc = lastDim(d, "copyColumns dst"), sc = lastDim(s, "copyColumns src");
        int rows = rows(d, dc, "copyColumns dst");
        if (rows(s, sc, "copyColumns src") != rows || dstCol < 0 || srcCol < 0 || width < 0 || dstCol + width > dc
                || srcCol + width > sc)
            throw new IllegalArgumentException("copyColumns: " + width + " columns from " + srcCol + " of " + s + " to "
                    + dstCol + " of " + d);
        ctx.makeCurrent();
        pointwiseOps().copyColumns(d.ptr(), dc, dstCol, s.ptr(), sc, srcCol, width, rows, accumulate);
    }

    @Override
    public void siluForward(Tensor out, Tensor in) {
        CudaTensor o = f32(out, "out"), i = f32(in, "in");
        requireSameSize(o, i, "silu");
        ctx.makeCurrent();
        pointwiseOps().siluForward(o, i);
    }

    @Override
    public void siluBackward(Tensor din, Tensor dout, Tensor in) {
        if (din == null) return;
        CudaTensor di = f32(din, "din"), d = f32(dout, "dout"), i = f32(in, "in");
        requireSameSize(di, i, "silu backward");
        requireSameSize(d, i, "silu backward");
        ctx.makeCurrent();
        pointwiseOps().siluBackward(di, d, i);
    }

    @Override
    public void negExpForward(Tensor out, Tensor in) {
        CudaTensor o = f32(out, "out"), i = f32(in, "in");
        requireSameSize(o, i, "negExp");
        ctx.makeCurrent();
        pointwiseOps().negExpForward(o, i);
    }

    @Override
    public void negExpBackward(Tensor din, Tensor dout, Tensor out) {
        if (din == null) return;
        CudaTensor di = f32(din, "din"), d = f32(dout, "dout"), o = f32(out, "out");
        requireSameSize(di, o, "negExp backward");
        requireSameSize(d, o, "negExp backward");
        ctx.makeCurrent();
        pointwiseOps().negExpBackward(di, d, o);
    }

    @Override
    public void rmsNormForward(Tensor out, Tensor rstd, Tensor in, Tensor weight, double eps) {
        CudaTensor o = f32(out, "out"), rs = f32(rstd, "rstd"), x = f32(in, "in"), w = f32(weight, "weight");
        int c = lastDim(x, "in");
        int n = rows(x, c, "in");
        requireLength(o, x.size(), "rmsnorm out");
        requireLength(rs, n, "rmsnorm rstd");
        requireLength(w, c, "rmsnorm weight");
        ctx.makeCurrent();
        rmsNormOps().forward(o, rs, x, w, n, c, (float) eps);
    }

    @Override
    public void rmsNormBackward(Tensor din, Tensor dweight, Tensor dout, Tensor in, Tensor weight, Tensor rstd) {
        CudaTensor d = f32(dout, "dout"), x = f32(in, "in"), w = f32(weight, "weight"), rs = f32(rstd, "rstd");
        CudaTensor di = optF32(din, "din"), dw = optF32(dweight, "dweight");
        int c = lastDim(x, "in");
        int n = rows(x, c, "in");
        requireLength(d, x.size(), "rmsnorm dout");
        requireLength(w, c, "rmsnorm weight");
        requireLength(rs, n, "rmsnorm rstd");
        if (di != null) requireLength(di, x.size(), "rmsnorm din");
        if (dw != null) requireLength(dw, c, "rmsnorm dweight");
        ctx.makeCurrent();
        rmsNormOps().backward(di, dw, d, x, w, rs, n, c);
    }

    /** Channels and width of a conv1d weight [C, K] or [C, 1, K]. */
    private static int[] convWeight(CudaTensor w) {
        int c = w.shape().length == 0 ? 0 : w.shape()[0];
        if (c == 0 || w.size() % c != 0) throw new IllegalArgumentException("conv1d weight must be [C, K]: " + w);
        int k = (int) (w.size() / c);
        Conv1dKernels.checkWidth(k);
        return new int[] {c, k};
    }

    @Override
    public void conv1dForward(Tensor out, Tensor in, Tensor weight, Tensor bias, int batch, int seqLen) {
        CudaTensor o = f32(out, "out"), x = f32(in, "in"), w = f32(weight, "weight"), b = optF32(bias, "bias");
        int[] ck = convWeight(w);
        long n = (long) batch * seqLen * ck[0];
        requireLength(x, n, "conv1d in");
        requireLength(o, n, "conv1d out");
        if (b != null) requireLength(b, ck[0], "conv1d bias");
        if (o == x) throw new IllegalArgumentException("conv1d: out must not be in");
        ctx.makeCurrent();
        conv1dOps().forward(o, x, w, b, batch, seqLen, ck[0], ck[1]);
    }

    @Override
    public void conv1dBackward(Tensor din, Tensor dweight, Tensor dbias, Tensor dout, Tensor in, Tensor weight,
                               int batch, int seqLen) {
        CudaTensor d = f32(dout, "dout"), x = f32(in, "in"), w = f32(weight, "weight");
        CudaTensor di = optF32(din, "din"), dw = optF32(dweight, "dweight"), db = optF32(dbias, "dbias");
        int[] ck = convWeight(w);
        long n = (long) batch * seqLen * ck[0];
        requireLength(d, n, "conv1d dout");
        requireLength(x, n, "conv1d in");
        if (di != null) requireLength(di, n, "conv1d din");
        if (dw != null) requireLength(dw, w.size(), "conv1d dweight");
        if (db != null) requireLength(db, ck[0], "conv1d dbias");
        ctx.makeCurrent();
        conv1dOps().backward(di, dw, db, d, x, w, batch, seqLen, ck[0], ck[1]);
    }

    @Override
    public void conv1dStep(Tensor out, Tensor state, Tensor in, Tensor weight, Tensor bias, int batch) {
        CudaTensor o = f32(out, "out"), st = f32(state, "state"), x = f32(in, "in"), w = f32(weight, "weight");
        CudaTensor b = optF32(bias, "bias");
        int[] ck = convWeight(w);
        requireLength(x, (long) batch * ck[0], "conv1d step in");
        requireLength(o, (long) batch * ck[0], "conv1d step out");
        requireLength(st, (long) batch * ck[0] * (ck[1] - 1), "conv1d step state [batch, C, K-1]");
        if (b != null) requireLength(b, ck[0], "conv1d bias");
        ctx.makeCurrent();
        conv1dOps().step(o, st, x, w, b, batch, ck[0], ck[1]);
    }

    @Override
    public void conv1dFillState(Tensor state, Tensor in, Tensor weight, int batch, int seqLen) {
        CudaTensor st = f32(state, "state"), x = f32(in, "in"), w = f32(weight, "weight");
        int[] ck = convWeight(w);
        requireLength(x, (long) batch * seqLen * ck[0], "conv1d fill state in");
        requireLength(st, (long) batch * ck[0] * (ck[1] - 1), "conv1d fill state [batch, C, K-1]");
        ctx.makeCurrent();
        conv1dOps().fillState(st, x, batch, seqLen, ck[0], ck[1]);
    }

    /** The CUDA scan saves the state entering every chunk of 64 steps (ScanKernels.CHUNK), the CPU default. */
    @Override
    public int scanChunkLength() {
        return ScanKernels.CHUNK;
    }

    /** Checks the scan's shapes (as CpuBackend does) and returns {d, n}. */
    private int[] scanShapes(CudaTensor ckpt, CudaTensor u, CudaTensor delta, CudaTensor a, CudaTensor b, CudaTensor c,
                             CudaTensor dSkip, CudaTensor z, CudaTensor deltaBias, int batch, int seqLen, String op) {
        int[] s = a.shape();
        if (s.length != 2) throw new IllegalArgumentException(op + ": A must be [D, N], got " + a);
        int d = s[0], n = s[1];
        long rows = (long) batch * seqLen;
        requireLength(u, rows * d, op + " u");
        requireLength(delta, rows * d, op + " delta");
        requireLength(b, rows * n, op + " B");
        requireLength(c, rows * n, op + " C");
        if (dSkip != null) requireLength(dSkip, d, op + " D");
        if (z != null) requireLength(z, rows * d, op + " z");
        if (deltaBias != null) requireLength(deltaBias, d, op + " delta_bias");
        if (ckpt != null) requireLength(ckpt, (long) batch * scanChunks(seqLen) * d * n, op + " checkpoints");
        ScanKernels.checkShape(batch, seqLen, d, n);
        return s;
    }

    @Override
    public void scanForward(Tensor out, Tensor checkpoints, Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c,
                            Tensor dSkip, Tensor z, Tensor deltaBias, boolean softplus, int batch, int seqLen) {
        CudaTensor o = f32(out, "out"), ck = f32(checkpoints, "checkpoints"), uu = f32(u, "u"), dl = f32(delta, "delta");
        CudaTensor aa = f32(a, "A"), bb = f32(b, "B"), cc = f32(c, "C"), ds = optF32(dSkip, "D"), zz = optF32(z, "z");
        CudaTensor bias = optF32(deltaBias, "deltaBias");
        int[] dn = scanShapes(ck, uu, dl, aa, bb, cc, ds, zz, bias, batch, seqLen, "scan");
        requireLength(o, uu.size(), "scan out");
        ctx.makeCurrent();
        scanOps().forward(o, ck, uu, dl, aa, bb, cc, ds, zz, bias, softplus, batch, seqLen, dn[0], dn[1]);
    }

    @Override
    public void scanBackward(Tensor du, Tensor ddelta, Tensor da, Tensor db, Tensor dc, Tensor dDSkip, Tensor dz,
                             Tensor dDeltaBias, Tensor dout, Tensor checkpoints, Tensor u, Tensor delta, Tensor a,
                             Tensor b, Tensor c, Tensor dSkip, Tensor z, Tensor deltaBias, boolean softplus, int batch,
                             int seqLen) {
        CudaTensor d = f32(dout, "dout"), ck = f32(checkpoints, "checkpoints"), uu = f32(u, "u");
        CudaTensor dl = f32(delta, "delta"), aa = f32(a, "A"), bb = f32(b, "B"), cc = f32(c, "C");
        CudaTensor ds = optF32(dSkip, "D"), zz = optF32(z, "z"), bias = optF32(deltaBias, "deltaBias");
        CudaTensor gu = optF32(du, "du"), gdl = optF32(ddelta, "ddelta"), ga = optF32(da, "dA"), gb = optF32(db, "dB");
        CudaTensor gc = optF32(dc, "dC"), gds = optF32(dDSkip, "dD"), gz = optF32(dz, "dz");
        CudaTensor gbias = optF32(dDeltaBias, "dDeltaBias");
        int[] dn = scanShapes(ck, uu, dl, aa, bb, cc, ds, zz, bias, batch, seqLen, "scan backward");
        if ((gds != null && ds == null) || (gz != null && zz == null) || (gbias != null && bias == null))
            throw new IllegalArgumentException("scan backward: a gradient was given for an input the forward did not have");
        requireLength(d, uu.size(), "scan dout");
        if (gu != null) requireLength(gu, uu.size(), "scan du");
        if (gdl != null) requireLength(gdl, uu.size(), "scan ddelta");
        if (ga != null) requireLength(ga, aa.size(), "scan dA");
        if (gb != null) requireLength(gb, bb.size(), "scan dB");
        if (gc != null) requireLength(gc, cc.size(), "scan dC");
        if (gds != null) requireLength(gds, ds.size(), "scan dD");
        if (gz != null) requireLength(gz, zz.size(), "scan dz");
        if (gbias != null) requireLength(gbias, bias.size(), "scan ddelta_bias");
        ctx.makeCurrent();
        scanOps().backward(gu, gdl, ga, gb, gc, gds, gz, gbias, d, ck, uu, dl, aa, bb, cc, ds, zz, bias, softplus, batch,
                seqLen, dn[0], dn[1]);
    }

    @Override
    public void scanStep(Tensor out, Tensor state, Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor dSkip,
                         Tensor z, Tensor deltaBias, boolean softplus, int batch) {
        CudaTensor o = f32(out, "out"), st = f32(state, "state"), uu = f32(u, "u"), dl = f32(delta, "delta");
        CudaTensor aa = f32(a, "A"), bb = f32(b, "B"), cc = f32(c, "C"), ds = optF32(dSkip, "D"), zz = optF32(z, "z");
        CudaTensor bias = optF32(deltaBias, "deltaBias");
        int[] dn = scanShapes(null, uu, dl, aa, bb, cc, ds, zz, bias, batch, 1, "scan step");
        requireLength(o, uu.size(), "scan step out");
        requireLength(st, (long) batch * aa.size(), "scan step state [batch, D, N]");
        ctx.makeCurrent();
        scanOps().step(o, st, uu, dl, aa, bb, cc, ds, zz, bias, softplus, batch, dn[0], dn[1]);
    }

    @Override
    public void scanPrefill(Tensor out, Tensor state, Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor dSkip,
                            Tensor z, Tensor deltaBias, boolean softplus, int batch, int seqLen) {
        CudaTensor o = f32(out, "out"), st = f32(state, "state"), uu = f32(u, "u"), dl = f32(delta, "delta");
        CudaTensor aa = f32(a, "A"), bb = f32(b, "B"), cc = f32(c, "C"), ds = optF32(dSkip, "D"), zz = optF32(z, "z");
        CudaTensor bias = optF32(deltaBias, "deltaBias");
        int[] dn = scanShapes(null, uu, dl, aa, bb, cc, ds, zz, bias, batch, seqLen, "scan prefill");
        requireLength(o, uu.size(), "scan prefill out");
        requireLength(st, (long) batch * aa.size(), "scan prefill state [batch, D, N]");
        ctx.makeCurrent();
        scanOps().prefill(o, st, uu, dl, aa, bb, cc, ds, zz, bias, softplus, batch, seqLen, dn[0], dn[1]);
    }

    /** Hidden size of W_hh [4H, H], checked against the projection's and the bias's sizes. */
    private static int lstmHidden(CudaTensor whh, CudaTensor bhh, CudaTensor xProj, long rows, String op) {
        int[] s = whh.shape();
        if (s.length != 2 || s[0] != 4 * s[1])
            throw new IllegalArgumentException(op + ": W_hh must be [4H, H], got " + whh);
        int hid = s[1];
        requireLength(xProj, rows * 4 * hid, op + " input projection / gates");
        if (bhh != null) requireLength(bhh, 4L * hid, op + " b_hh");
        return hid;
    }

    @Override
    public void lstmForward(Tensor h, Tensor c, Tensor gates, Tensor xProj, Tensor whh, Tensor bhh, int batch,
                            int seqLen) {
        CudaTensor hh = f32(h, "h"), cc = f32(c, "c"), g = f32(gates, "gates"), x = f32(xProj, "xProj");
        CudaTensor w = f32(whh, "whh"), b = optF32(bhh, "bhh");
        long rows = (long) batch * seqLen;
        int hid = lstmHidden(w, b, x, rows, "lstm");
        requireLength(g, rows * 4 * hid, "lstm gates");
        requireLength(hh, rows * hid, "lstm h");
        requireLength(cc, rows * hid, "lstm c");
        ctx.makeCurrent();
        lstmOps().forward(hh, cc, g, x, w, b, batch, seqLen, hid);
    }

    @Override
    public void lstmBackward(Tensor dxProj, Tensor dwhh, Tensor dbhh, Tensor dh, Tensor h, Tensor c, Tensor gates,
                             Tensor whh, int batch, int seqLen) {
        CudaTensor d = f32(dh, "dh"), hh = f32(h, "h"), cc = f32(c, "c"), g = f32(gates, "gates"), w = f32(whh, "whh");
        CudaTensor dx = optF32(dxProj, "dxProj"), dw = optF32(dwhh, "dwhh"), db = optF32(dbhh, "dbhh");
        long rows = (long) batch * seqLen;
        int hid = lstmHidden(w, null, g, rows, "lstm backward");
        requireLength(d, rows * hid, "lstm dh");
        requireLength(hh, rows * hid, "lstm h");
        requireLength(cc, rows * hid, "lstm c");
        if (dx != null) requireLength(dx, rows * 4 * hid, "lstm dxProj");
        if (dw != null) requireLength(dw, w.size(), "lstm dwhh");
        if (db != null) requireLength(db, 4L * hid, "lstm dbhh");
        ctx.makeCurrent();
        lstmOps().backward(dx, dw, db, d, hh, cc, g, w, batch, seqLen, hid, gemm, linear);
    }

    @Override
    public void lstmStep(Tensor h, Tensor c, Tensor xProj, Tensor whh, Tensor bhh, int batch) {
        CudaTensor hh = f32(h, "h"), cc = f32(c, "c"), x = f32(xProj, "xProj"), w = f32(whh, "whh");
        CudaTensor b = optF32(bhh, "bhh");
        int hid = lstmHidden(w, b, x, batch, "lstm step");
        requireLength(hh, (long) batch * hid, "lstm step h");
        requireLength(cc, (long) batch * hid, "lstm step c");
        ctx.makeCurrent();
        lstmOps().step(hh, cc, x, w, b, batch, hid);
    }

    /** One multi-tensor Σx² pass, the coefficient computed and applied on the device, one scalar copied back. */
    @Override
    public double clipGradNorm(List<Tensor> grads, double maxNorm) {
        CudaTensor[] g = new CudaTensor[grads.size()];
        for (int i = 0; i < g.length; i++) g[i] = f32(grads.get(i), "grads[" + i + "]");
        ctx.makeCurrent();
        return multiTensorOps().clipGradNorm(g, maxNorm);
    }

    /** AdamW on every parameter in one launch over device tables of pointers (uploaded once per list). */
    @Override
    public void adamw(List<Tensor> params, List<Tensor> grads, List<Tensor> m, List<Tensor> v, AdamWParams hp,
                      double[] weightDecay, int step, double lr) {
        int n = params.size();
        if (grads.size() != n || m.size() != n || v.size() != n || weightDecay.length != n)
            throw new IllegalArgumentException("adamw: " + n + " params, " + grads.size() + " grads, " + m.size()
                    + " m, " + v.size() + " v, " + weightDecay.length + " weight decays");
        if (step < 1) throw new IllegalArgumentException("AdamW step counts from 1, got " + step);
        CudaTensor[] p = new CudaTensor[n], g = new CudaTensor[n], mm = new CudaTensor[n], vv = new CudaTensor[n];
        for (int i = 0; i < n; i++) {
            p[i] = f32(params.get(i), "params[" + i + "]");
            g[i] = f32(grads.get(i), "grads[" + i + "]");
            mm[i] = f32(m.get(i), "m[" + i + "]");
            vv[i] = f32(v.get(i), "v[" + i + "]");
            requireLength(g[i], p[i].size(), "adamw grad " + i);
            requireLength(mm[i], p[i].size(), "adamw m " + i);
            requireLength(vv[i], p[i].size(), "adamw v " + i);
        }
        ctx.makeCurrent();
        multiTensorOps().adamw(p, g, mm, vv, hp, weightDecay, step, lr);
    }
}
