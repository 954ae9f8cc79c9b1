// Reads what a driver reads from a PTX module before it JIT-compiles it: `.version`, `.target`,
// `.address_size`, and for every `.entry` its parameter list (count, sizes, alignment), the launch-bound
// directives (.maxntid, .reqntid) and the static `.shared` bytes it declares. Instruction bodies are skipped by
// brace depth; nothing is compiled (the emulator runs the .cu source, compiled as C++).
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "internal.h"

namespace emudev {

namespace {

struct Tok {
    std::string s;
    int line;
};

bool ident_char(char c) {
    return std::isalnum((unsigned char)c) || c == '_' || c == '.' || c == '$' || c == '%';
}

// Identifiers, directives and numbers are runs of [A-Za-z0-9_.$%]; punctuation is one character; comments and
// string literals are dropped.
std::vector<Tok> lex(const char* p, size_t n) {
    std::vector<Tok> out;
    int line = 1;
    size_t i = 0;
    while (i < n) {
        char c = p[i];
        if (c == '\n') { ++line; ++i; continue; }
        if (std::isspace((unsigned char)c)) { ++i; continue; }
        if (c == '/' && i + 1 < n && p[i + 1] == '/') {
            while (i < n && p[i] != '\n') ++i;
            continue;
        }
        if (c == '/' && i + 1 < n && p[i + 1] == '*') {
            i += 2;
            while (i + 1 < n && !(p[i] == '*' && p[i + 1] == '/')) { if (p[i] == '\n') ++line; ++i; }
            i += 2;
            continue;
        }
        if (c == '"') {
            ++i;
            while (i < n && p[i] != '"') ++i;
            ++i;
            continue;
        }
        if (c == '\0') break;
        if (ident_char(c)) {
            size_t j = i;
            while (j < n && ident_char(p[j])) ++j;
            out.push_back({std::string(p + i, j - i), line});
            i = j;
            continue;
        }
        out.push_back({std::string(1, c), line});
        ++i;
    }
    return out;
}

int type_size(const std::string& t) {
    static const char* one[] = {".b8", ".u8", ".s8", ".pred"};
    static const char* two[] = {".b16", ".u16", ".s16", ".f16", ".bf16"};
    static const char* four[] = {".b32", ".u32", ".s32", ".f32", ".f16x2", ".bf16x2"};
    static const char* eight[] = {".b64", ".u64", ".s64", ".f64"};
    for (auto s : one) if (t == s) return 1;
    for (auto s : two) if (t == s) return 2;
    for (auto s : four) if (t == s) return 4;
    for (auto s : eight) if (t == s) return 8;
    if (t == ".b128") return 16;
    return 0;
}

struct Parser {
    std::vector<Tok> t;
    size_t i = 0;
    std::string err;

    bool at_end() const { return i >= t.size(); }
    const std::string& peek(size_t k = 0) const {
        static const std::string none;
        return i + k < t.size() ? t[i + k].s : none;
    }
    int line() const { return i < t.size() ? t[i].line : (t.empty() ? 0 : t.back().line); }
    bool fail(const std::string& m) {
        if (err.empty()) err = "line " + std::to_string(line()) + ": " + m;
        return false;
    }
    bool expect(const char* s) {
        if (peek() != s) return fail(std::string("expected '") + s + "', found '" + peek() + "'");
        ++i;
        return true;
    }
    // Skips to just past the next ';' at brace depth 0 (module-scope declarations, initializers included).
    void skip_statement() {
        int depth = 0;
        while (!at_end()) {
            const std::string& s = t[i++].s;
            if (s == "{") ++depth;
            else if (s == "}") --depth;
            else if (s == ";" && depth <= 0) return;
        }
    }
    // A variable declaration after its state space: [.align N] [.v2|.v4] .type name [ [N] ]... ; returns bytes.
    bool var_decl(long* bytes, int* alignOut, std::string* name, bool* unsized) {
        int align = 0, vec = 1;
        bool pointee = false;   // after .ptr, `.space .align N` describe what the pointer points to
        std::string type;
        *unsized = false;
        while (!at_end() && peek()[0] == '.') {
            const std::string& d = peek();
            if (d == ".ptr") {
                pointee = true;
                ++i;
            } else if (d == ".align") {
                ++i;
                if (!pointee) align = std::atoi(peek().c_str());
                ++i;
            } else if (d == ".v2" || d == ".v4" || d == ".v8") {
                vec = std::atoi(d.c_str() + 2);
                ++i;
            } else if (type_size(d) > 0) {
                type = d;
                ++i;
            } else {
                ++i;   // .ptr, .global, .const, .shared (of a .ptr param) and the like: attributes
            }
        }
        if (type.empty()) return fail("declaration without a type");
        *name = peek();
        ++i;
        long n = (long)type_size(type) * vec;
        while (peek() == "[") {
            ++i;
            if (peek() == "]") {
                *unsized = true;
                ++i;
                continue;
            }
            n *= std::atol(peek().c_str());
            ++i;
            if (!expect("]")) return false;
        }
        *bytes = n;
        *alignOut = align ? align : type_size(type) * vec;
        return true;
    }
    bool triple(int (&v)[3]) {
        for (int k = 0; k < 3; ++k) {
            v[k] = std::atoi(peek().c_str());
            if (v[k] <= 0) return fail("bad launch bound '" + peek() + "'");
            ++i;
            if (peek() == ",") ++i;
            else break;
        }
        for (int k = 0; k < 3; ++k) if (v[k] == 0) v[k] = 1;
        return true;
    }
    bool entry(PtxModule* m) {
        PtxEntry e;
        e.name = peek();
        ++i;
        if (!expect("(")) return false;
        while (peek() != ")") {
            if (!expect(".param")) return false;
            PtxParam p;
            long bytes = 0;
            bool unsized = false;
            if (!var_decl(&bytes, &p.align, &p.name, &unsized)) return false;
            if (unsized) return fail("parameter " + p.name + " of " + e.name + " has no size");
            p.size = (int)bytes;
            e.params.push_back(p);
            if (peek() == ",") ++i;
            else if (peek() != ")") return fail("expected ',' or ')' in the parameters of " + e.name);
        }
        ++i;
        while (peek() != "{") {
            const std::string d = peek();
            if (at_end()) return fail("entry " + e.name + " has no body");
            ++i;
            if (d == ".maxntid") { if (!triple(e.maxntid)) return false; }
            else if (d == ".reqntid") { if (!triple(e.reqntid)) return false; }
            else if (d == ".minnctapersm" || d == ".maxnreg" || d == ".maxnctapersm") ++i;
            else if (d == ".noreturn" || d == ".pragma" || d == ";") {}
            else if (d[0] == '"') {}
            else if (d == ".explicitcluster" || d == ".reqnctapercluster" || d == ".maxclusterrank") {
                while (!at_end() && peek() != "{" && peek()[0] != '.') ++i;
            } else return fail("unknown directive '" + d + "' before the body of " + e.name);
        }
        int depth = 0;
        do {
            const std::string& s = peek();
            if (s == "{") ++depth;
            else if (s == "}") --depth;
            else if (s == ".shared" || (s == ".extern" && peek(1) == ".shared")) {
                const bool ext = s == ".extern";
                i += ext ? 2 : 1;
                long bytes = 0;
                int align = 0;
                std::string name;
                bool unsized = false;
                if (!var_decl(&bytes, &align, &name, &unsized)) return false;
                if (ext || unsized) e.dynamicShared = true;
                else {
                    if (align > 1) e.staticShared = (e.staticShared + align - 1) / align * align;
                    e.staticShared += bytes;
                }
                continue;
            }
            ++i;
        } while (depth > 0 && !at_end());
        if (depth != 0) return fail("unbalanced braces in the body of " + e.name);
        m->entries.push_back(e);
        return true;
    }
    bool module(PtxModule* m) {
        bool sawVersion = false, sawTarget = false;
        while (!at_end()) {
            const std::string d = peek();
            if (d == ".version") {
                ++i;
                const std::string v = peek();
                if (std::sscanf(v.c_str(), "%d.%d", &m->isaMajor, &m->isaMinor) != 2)
                    return fail("bad .version '" + v + "'");
                ++i;
                sawVersion = true;
            } else if (!sawVersion) {
                return fail("the module must begin with .version, found '" + d + "'");
            } else if (d == ".target") {
                ++i;
                m->target = peek();
                ++i;
                while (peek() == ",") i += 2;   // texmode_independent, debug, ...
                if (std::sscanf(m->target.c_str(), "sm_%d", &m->targetSm) != 1)
                    return fail("unsupported .target '" + m->target + "'");
                char last = m->target.back();
                m->archSpecific = last == 'a' || last == 'f';
                sawTarget = true;
            } else if (d == ".address_size") {
                ++i;
                m->addressSize = std::atoi(peek().c_str());
                ++i;
            } else if (d == ".visible" || d == ".weak" || d == ".extern" || d == ".common") {
                if (d == ".extern" && peek(1) != ".func") { skip_statement(); continue; }
                ++i;
            } else if (d == ".entry") {
                if (!sawTarget) return fail(".entry before .target");
                ++i;
                if (!entry(m)) return false;
            } else if (d == ".func") {
                // a device function: skip its prototype and body (or the ';' of a declaration)
                while (!at_end() && peek() != "{" && peek() != ";") ++i;
                if (peek() == ";") { ++i; continue; }
                int depth = 0;
                do {
                    if (peek() == "{") ++depth;
                    else if (peek() == "}") --depth;
                    ++i;
                } while (depth > 0 && !at_end());
            } else if (d == ".global" || d == ".const" || d == ".shared" || d == ".local" || d == ".tex" ||
                       d == ".surfref" || d == ".texref" || d == ".samplerref") {
                skip_statement();
            } else if (d == ".file") {   // .file N "name" [, timestamp, size]: no ';', ends with its line
                const int l = t[i].line;
                while (!at_end() && t[i].line == l) ++i;
            } else if (d == ".section" || d == ".pragma") {
                if (d == ".section") {   // debug sections: a braced block
                    while (!at_end() && peek() != "{") ++i;
                    int depth = 0;
                    do {
                        if (peek() == "{") ++depth;
                        else if (peek() == "}") --depth;
                        ++i;
                    } while (depth > 0 && !at_end());
                } else skip_statement();
            } else {
                return fail("unexpected '" + d + "' at module scope");
            }
        }
        if (!sawVersion) return fail("no .version directive (is this PTX text?)");
        if (!sawTarget) return fail("no .target directive");
        return true;
    }
};

}  // namespace

bool parse_ptx(const char* text, size_t len, PtxModule* out, std::string* error) {
    Parser p;
    p.t = lex(text, len);
    if (!p.module(out)) {
        *error = p.err;
        return false;
    }
    return true;
}

}  // namespace emudev
