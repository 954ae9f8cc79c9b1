package parrot.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import parrot.backend.AdamWParams;

/**
 * Launcher of cuda-kernels/multitensor.cu: AdamW over a whole parameter list in one launch, and gradient-norm
 * clipping as three launches (per-item Σx², the norm and coefficient on the device, the scaling) with one scalar
 * copied back. The kernels walk device tables — tensor pointers, sizes, weight decays and a work list of
 * (tensor, first element) items of {@link #CHUNK} elements — uploaded once per tensor list: an optimizer passes the
 * same lists every step, so after the first step nothing is uploaded.
 */
final class MultiTensorKernels {
    static final String FAMILY = "multitensor";
    static final String ADAMW = "parrot_multi_adamw_f32";
    static final String SUM_SQUARES = "parrot_multi_sum_squares_f32";
    static final String CLIP_COEF = "parrot_clip_coef_f64";
    static final String SCALE = "parrot_multi_scale_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            ADAMW, "ppppidfffff",
            SUM_SQUARES, "ppppi",
            CLIP_COEF, "ppid",
            SCALE, "pppip");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    /** PARROT_MT_CHUNK and PARROT_MT_THREADS in multitensor.cu. */
    static final int CHUNK = 8192, THREADS = 256;
    /** Blocks of the work-list kernels (each loops over items); the clip coefficient kernel runs one. */
    static final int MAX_BLOCKS = 4096;

    /** The device tables of one tensor list, with what they were built from. */
    private static final class Table {
        final List<CudaTensor[]> key;
        final double[] wd;
        final CUdeviceptr work, ptrs, sizes, wdPtr;
        final int items;

        Table(List<CudaTensor[]> key, double[] wd, CUdeviceptr work, CUdeviceptr ptrs, CUdeviceptr sizes,
              CUdeviceptr wdPtr, int items) {
            this.key = key;
            this.wd = wd;
            this.work = work;
            this.ptrs = ptrs;
            this.sizes = sizes;
            this.wdPtr = wdPtr;
            this.items = items;
        }
    }

    private final Device ctx;
    private final CudaModule module;
    private Table adamTable, clipTable;

    MultiTensorKernels(Device ctx, CudaModule module) {
        this.ctx = ctx;
        this.module = module;
    }

    /** Work items of tensors of these sizes: (tensor, first element), CHUNK elements each. */
    static int[] workList(int[] sizes) {
        List<Integer> w = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++)
            for (long s = 0; s < sizes[i]; s += CHUNK) {
                w.add(i);
                w.add((int) s);
            }
        return w.stream().mapToInt(Integer::intValue).toArray();
    }

    private static boolean sameKey(Table t, List<CudaTensor[]> key, double[] wd) {
        if (t == null || t.key.size() != key.size() || !java.util.Arrays.equals(t.wd, wd)) return false;
        for (int g = 0; g < key.size(); g++) {
            CudaTensor[] a = t.key.get(g), b = key.get(g);
            if (a.length != b.length) return false;
            for (int i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
        }
        return true;
    }

    /** Builds (or reuses) the tables for tensor groups of equal sizes: pointers interleaved group by group. */
    private Table table(String name, Table cached, List<CudaTensor[]> groups, double[] wd) {
        CudaTensor[] first = groups.get(0);
        int n = first.length, stride = groups.size();
        int[] sizes = new int[n];
        for (int i = 0; i < n; i++) sizes[i] = first[i].length();
        int[] work = workList(sizes);
        CUdeviceptr workPtr = ctx.scratch(name + ".work", Math.max(8, work.length * 4L));
        CUdeviceptr ptrs = ctx.scratch(name + ".ptrs", Math.max(8, (long) n * stride * 8L));
        CUdeviceptr sizesPtr = ctx.scratch(name + ".sizes", Math.max(8, n * 4L));
        CUdeviceptr wdPtr = wd == null ? null : ctx.scratch(name + ".wd", Math.max(8, n * 8L));
        if (sameKey(cached, groups, wd) && cached.work == workPtr && cached.ptrs == ptrs && cached.sizes == sizesPtr
                && cached.wdPtr == wdPtr)
            return cached;
        CUdeviceptr[] p = new CUdeviceptr[n * stride];
        for (int i = 0; i < n; i++)
            for (int g = 0; g < stride; g++) p[i * stride + g] = groups.get(g)[i].ptr();
        if (n > 0) {
            ctx.uploadTable(workPtr, Pointer.to(work), work.length * 4L);
            ctx.uploadTable(ptrs, Pointer.to(p), p.length * 8L);
            ctx.uploadTable(sizesPtr, Pointer.to(sizes), sizes.length * 4L);
            if (wd != null) ctx.uploadTable(wdPtr, Pointer.to(wd), wd.length * 8L);
        }
        List<CudaTensor[]> key = new ArrayList<>();
        for (CudaTensor[] g : groups) key.add(g.clone());
        return new Table(key, wd == null ? null : wd.clone(), workPtr, ptrs, sizesPtr, wdPtr, work.length / 2);
    }

    private static Dim3 grid(int items) {
        return Dim3.of(Math.max(1, Math.min(MAX_BLOCKS, items)));
    }

    /** torch.optim.AdamW on every (param, grad, m, v) of the lists, weight decay per tensor, in one launch. */
    void adamw(CudaTensor[] params, CudaTensor[] grads, CudaTensor[] m, CudaTensor[] v, AdamWParams hp,
               double[] weightDecay, int step, double lr) {
        adamTable = table("multitensor.adamw", adamTable, List.of(params, grads, m, v), weightDecay);
        if (adamTable.items == 0) return;
        double bc1 = 1.0 - Math.pow(hp.beta1(), step);
        double bc2 = 1.0 - Math.pow(hp.beta2(), step);
        ctx.launch(module, ADAMW, grid(adamTable.items), Dim3.of(THREADS), 0,
                KernelArgs.of().ptr(adamTable.work).ptr(adamTable.ptrs).ptr(adamTable.sizes).ptr(adamTable.wdPtr)
                        .i(adamTable.items).d(lr).f((float) hp.beta1()).f((float) hp.beta2()).f((float) hp.eps())
                        .f((float) (lr / bc1)).f((float) Math.sqrt(bc2)));
    }

    /**
     * Global L2 norm of all the gradients, and their scaling by maxNorm/(norm + 1e-6) on the device when it exceeds
     * maxNorm > 0 (torch.nn.utils.clip_grad_norm_). Returns the norm before clipping: the one value copied back.
     */
    double clipGradNorm(CudaTensor[] grads, double maxNorm) {
        clipTable = table("multitensor.clip", clipTable, List.<CudaTensor[]>of(grads), null);
        if (clipTable.items == 0) return 0.0;
        int items = clipTable.items;
        CUdeviceptr partials = ctx.scratch("multitensor.partials", items * 8L);
        CUdeviceptr result = ctx.scratch("multitensor.result", 16);
        ctx.launch(module, SUM_SQUARES, grid(items), Dim3.of(THREADS), 0,
                KernelArgs.of().ptr(partials).ptr(clipTable.work).ptr(clipTable.ptrs).ptr(clipTable.sizes).i(items));
        ctx.launch(module, CLIP_COEF, Dim3.of(1), Dim3.of(THREADS), 0,
                KernelArgs.of().ptr(result).ptr(partials).i(items).d(maxNorm));
        ctx.launch(module, SCALE, grid(items), Dim3.of(THREADS), 0,
                KernelArgs.of().ptr(clipTable.work).ptr(clipTable.ptrs).ptr(clipTable.sizes).i(items).ptr(result));
        double[] norm = new double[1];
        ctx.download(Pointer.to(norm), result, 8);
        return norm[0];
    }
}
