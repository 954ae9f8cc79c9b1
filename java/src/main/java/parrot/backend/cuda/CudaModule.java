package parrot.backend.cuda;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUjit_option;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import jcuda.driver.JITOptions;

/** One loaded PTX family (cuda-kernels/&lt;family&gt;.cu) and its kernel functions, resolved eagerly by name. */
final class CudaModule implements AutoCloseable {
    private final String family;
    private final String arch;
    private final CUmodule module = new CUmodule();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private boolean loaded;

    CudaModule(String family, String arch, List<String> kernels, int driverVersion) {
        this.family = family;
        this.arch = arch;
        String ptx = PtxResources.load(arch, family);
        if (ptx == null)
            throw new CudaException("no PTX resource " + PtxResources.path(arch, family)
                    + ": this build ran without nvcc (make kernels), so the CUDA backend is unavailable");
        byte[] image = (ptx + "\0").getBytes(StandardCharsets.US_ASCII);
        JITOptions jit = new JITOptions();
        jit.putBytes(CUjit_option.CU_JIT_ERROR_LOG_BUFFER, new byte[16384]);
        jit.putInt(CUjit_option.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, 16384);
        int rc = JCudaDriver.cuModuleLoadDataJIT(module, Pointer.to(image), jit);
        if (rc != 0) {
            String log = "";
            try {
                log = jit.getString(CUjit_option.CU_JIT_ERROR_LOG_BUFFER).trim();
            } catch (RuntimeException ignored) {
                // no log
            }
            throw new CudaException("loading PTX " + PtxResources.path(arch, family) + " (driver API "
                    + CudaContext.versionString(driverVersion) + ") failed: " + CudaException.errorName(rc)
                    + (log.isEmpty() ? "" : "; JIT log: " + log), rc, null);
        }
        loaded = true;
        for (String k : kernels) {
            CUfunction f = new CUfunction();
            int r = JCudaDriver.cuModuleGetFunction(f, module, k);
            if (r != 0) {
                close();
                throw new CudaException("kernel " + k + " not found in " + PtxResources.path(arch, family) + ": "
                        + CudaException.errorName(r) + " (launcher and .cu names drifted apart?)", r, null);
            }
            functions.put(k, f);
        }
    }

    String family() {
        return family;
    }

    CUfunction function(String kernel) {
        CUfunction f = functions.get(kernel);
        if (f == null)
            throw new IllegalArgumentException("kernel " + kernel + " is not declared for family " + family + " ("
                    + arch + ")");
        return f;
    }

    @Override
    public void close() {
        if (loaded) {
            loaded = false;
            JCudaDriver.cuModuleUnload(module);
        }
    }
}
