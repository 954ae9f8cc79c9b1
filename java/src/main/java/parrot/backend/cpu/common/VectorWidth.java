package parrot.backend.cpu.common;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one vector shape every kernel here uses: the preferred one (256 bits with AVX2, 512 with AVX-512), or the
 * width {@code -Dparrot.vectorBits=128|256|512} asks for where that is not wider (to compare widths on one host).
 *
 * <p>Why one, chosen in one place: a process that runs FloatVectors of two shapes through the same code (a 256-bit
 * attention beside 512-bit GEMMs) pollutes the Vector API's own type profiles, C2 stops intrinsifying and boxes
 * every vector, and a training step got 8× slower (measured on an AVX-512 Xeon).
 */
final class VectorWidth {
    static final VectorShape SHAPE = choose();
    static final VectorSpecies<Float> FLOAT = FloatVector.SPECIES_PREFERRED.withShape(SHAPE);
    static final VectorSpecies<Double> DOUBLE = DoubleVector.SPECIES_PREFERRED.withShape(SHAPE);
    static final VectorSpecies<Integer> INT = IntVector.SPECIES_PREFERRED.withShape(SHAPE);

    private VectorWidth() {
    }

    private static VectorShape choose() {
        VectorShape preferred = VectorShape.preferredShape();
        String asked = System.getProperty("parrot.vectorBits");
        if (asked == null) return preferred;
        int cap;
        try {
            cap = Integer.parseInt(asked.trim());
        } catch (NumberFormatException e) {
            cap = -1;
        }
        if (cap != 128 && cap != 256 && cap != 512)
            throw new IllegalArgumentException("-Dparrot.vectorBits: 128, 256 or 512, got '" + asked + "'");
        return preferred.vectorBitSize() <= cap ? preferred : VectorShape.forBitSize(cap);
    }
}
