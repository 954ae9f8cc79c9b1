package parrot.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class RngTest {
    @Test
    void matchesReferenceSplitMix64() {
        // First output of the reference splitmix64.c seeded with 0.
        assertEquals(0xE220A8397B1DCDAFL, new Rng(0).nextLong());
    }

    @Test
    void stateRoundTripResumesTheSameSequence() {
        Rng a = new Rng(42);
        for (int i = 0; i < 10; i++) a.nextInt(100);
        Rng b = Rng.fromState(a.state());
        for (int i = 0; i < 100; i++) assertEquals(a.nextLong(), b.nextLong());
        a.nextGaussian();
        b = Rng.fromState(a.state());
        assertEquals(a.nextGaussian(), b.nextGaussian()); // no cached second Gaussian hides in the state
    }

    @Test
    void nextIntStaysInRange() {
        Rng r = new Rng(7);
        for (int bound : new int[]{1, 2, 3, 7, 1000, Integer.MAX_VALUE}) {
            for (int i = 0; i < 2000; i++) {
                int v = r.nextInt(bound);
                assertTrue(v >= 0 && v < bound, v + " outside [0," + bound + ")");
            }
        }
        for (int i = 0; i < 2000; i++) {
            int v = r.nextInt(Integer.MIN_VALUE, Integer.MAX_VALUE); // full span takes the 64-bit path
            int w = r.nextInt(-3, 3);
            assertTrue(w >= -3 && w <= 3);
            assertTrue(v >= Integer.MIN_VALUE);
        }
        assertThrows(IllegalArgumentException.class, () -> r.nextInt(0));
        assertThrows(IllegalArgumentException.class, () -> r.nextInt(5, 4));
    }

    @Test
    void nextIntIsUniform() {
        Rng r = new Rng(123);
        int bound = 7, n = 140_000;
        int[] counts = new int[bound];
        for (int i = 0; i < n; i++) counts[r.nextInt(bound)]++;
        double expected = (double) n / bound, chi2 = 0;
        for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
        assertTrue(chi2 < 22.5, "chi2 " + chi2 + " (6 dof, p = 0.001 at 22.5)");
    }

    @Test
    void inclusiveRangeHitsBothEnds() {
        Rng r = new Rng(5);
        boolean lo = false, hi = false;
        for (int i = 0; i < 1000; i++) {
            int v = r.nextInt(3, 6);
            assertTrue(v >= 3 && v <= 6);
            lo |= v == 3;
            hi |= v == 6;
        }
        assertTrue(lo && hi);
    }

    @Test
    void doublesAndGaussians() {
        Rng r = new Rng(9);
        double sum = 0, sumSq = 0;
        int n = 100_000;
        for (int i = 0; i < n; i++) {
            double d = r.nextDouble();
            assertTrue(d >= 0 && d < 1);
            double g = r.nextGaussian();
            assertTrue(Double.isFinite(g));
            sum += g;
            sumSq += g * g;
        }
        assertEquals(0, sum / n, 0.02);
        assertEquals(1, sumSq / n, 0.02);
    }

    @Test
    void deriveIsDeterministicAndSeparatesStreams() {
        assertEquals(Rng.derive(1, 5).nextLong(), Rng.derive(1, 5).nextLong());
        long[] firsts = {
                Rng.derive(1, 5).nextLong(), Rng.derive(1, 6).nextLong(), Rng.derive(2, 5).nextLong(),
                Rng.derive(1, 5, 0).nextLong(), Rng.derive(1, 0, 5).nextLong(), Rng.derive(1).nextLong(),
                new Rng(1).nextLong()};
        for (int i = 0; i < firsts.length; i++)
            for (int j = i + 1; j < firsts.length; j++) assertNotEquals(firsts[i], firsts[j], i + " vs " + j);
    }
}
