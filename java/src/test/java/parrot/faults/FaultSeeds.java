package parrot.faults;

/**
 * The fault suite's seeds. They are fixed so that `make test` tries the same generated inputs on every machine and
 * every run: a CI result is reproducible, and a failure found once stays found. To look for new defects, change a
 * seed here (any decimal number) and run {@code mvn test -Dtest='parrot.faults.*'}; a failing input is printed with
 * the seed that produced it. When a new seed finds a defect, fix it and keep a unit test for that case (e.g.
 * ErrorTextTest holds the one a random draw found on 2026-12-01).
 */
final class FaultSeeds {
    static final String CHECKPOINTS = "20261201";
    static final String CONFIGS = "20261202";

    private FaultSeeds() {
    }
}
