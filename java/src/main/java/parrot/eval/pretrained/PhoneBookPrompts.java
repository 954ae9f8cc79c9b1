package parrot.eval.pretrained;

import parrot.data.Rng;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The phone book (reference code: PhoneBookDataset): N lines "First Last: dddddddddd" (first digit 6–9), joined by
 * "\n"; two entries repeated after the book as few-shot lines, then a third entry's name and ":". Prompt:
 * {@code book + "\n\n" + e1 + "\n" + e2 + "\n\n" + name3 + ":"}; 50 new tokens; the prediction is the first
 * generated line, stripped; exact match of the number. Names come from a shipped list of common US first and last
 * names (the reference draws from the US census lists of the {@code names} package); unlike the reference, the
 * full names in one book are distinct, since with a short list a repeated name would make the query ambiguous.
 */
public final class PhoneBookPrompts implements PretrainedTask {
    public static final int MAX_NEW = 50;
    private final List<String> first, last;

    public PhoneBookPrompts() {
        this(resource("first-names.txt"), resource("last-names.txt"));
    }

    PhoneBookPrompts(List<String> first, List<String> last) {
        this.first = first;
        this.last = last;
    }

    static List<String> resource(String name) {
        try (InputStream in = PhoneBookPrompts.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing resource " + name);
            List<String> out = new ArrayList<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) if (!line.isBlank() && !line.startsWith("#")) out.add(line.strip());
            }
            return List.copyOf(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String name() {
        return "phonebook";
    }

    @Override
    public String lengthUnit() {
        return "phone-book entries";
    }

    public int maxEntries() {
        return first.size() * last.size();
    }

    @Override
    public List<Example> examples(int entries, int samples, Rng rng) {
        if (entries < 3) throw new IllegalArgumentException("--lengths: the phone book needs >= 3 entries (two shots and a query), got " + entries);
        if (entries > maxEntries())
            throw new IllegalArgumentException("--lengths: at most " + maxEntries() + " distinct names, got " + entries);
        List<Example> out = new ArrayList<>(samples);
        for (int s = 0; s < samples; s++) out.add(example(entries, rng));
        return out;
    }

    Example example(int entries, Rng rng) {
        List<String> names = new ArrayList<>(entries), numbers = new ArrayList<>(entries);
        Set<String> seen = new HashSet<>();
        while (names.size() < entries) {
            String n = first.get(rng.nextInt(first.size())) + " " + last.get(rng.nextInt(last.size()));
            if (!seen.add(n)) continue;
            StringBuilder num = new StringBuilder().append(rng.nextInt(6, 9));
            for (int i = 1; i < 10; i++) num.append(rng.nextInt(10));
            names.add(n);
            numbers.add(num.toString());
        }
        int[] pick = sample3(entries, rng);
        StringBuilder p = new StringBuilder();
        for (int i = 0; i < entries; i++) {
            if (i > 0) p.append('\n');
            p.append(names.get(i)).append(": ").append(numbers.get(i));
        }
        p.append("\n\n").append(names.get(pick[0])).append(": ").append(numbers.get(pick[0]))
                .append('\n').append(names.get(pick[1])).append(": ").append(numbers.get(pick[1]))
                .append("\n\n").append(names.get(pick[2])).append(':');
        return new Example(p.toString(), List.of(numbers.get(pick[2])), MAX_NEW, entries);
    }

    /** Three distinct indices below n (random.sample(range(n), 3)). */
    static int[] sample3(int n, Rng rng) {
        int a = rng.nextInt(n), b, c;
        do b = rng.nextInt(n); while (b == a);
        do c = rng.nextInt(n); while (c == a || c == b);
        return new int[]{a, b, c};
    }

    @Override
    public String prediction(String generated) {
        int nl = generated.indexOf('\n');
        return (nl < 0 ? generated : generated.substring(0, nl)).strip();
    }

    @Override
    public String stopText() {
        return "\n";
    }
}
