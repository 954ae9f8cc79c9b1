// The emulated device's kernel table: one Entry per `extern "C" __global__` kernel of a family, made by the
// generated build/emu-device/gen/<family>.cpp (gen_entries.py) after it has included the family's .cu.
//
// Everything about an entry comes from the C++ signature by template deduction, so nothing is written by hand:
// the trampoline unpacks cuLaunchKernel's kernelParams (an array of pointers to each argument's bytes) into the
// parameter types, and the size/alignment lists are what the driver compares with the PTX `.param` list at
// module load (a drifted .cu vs PTX pair is an error there, not a silently misread argument).
#pragma once
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

namespace emudev {

struct Entry {
    const char* name;
    void (*run)(void* const* params, dim3 grid, dim3 block);
    int nparams;
    const unsigned short* sizes;
    const unsigned short* aligns;
    const unsigned char* pointer;  // 1 where the parameter is a pointer (checked against allocations at launch)
};

struct Family {
    const char* name;
    const Entry* entries;
    int count;
};

template <typename F>
struct Sig;
template <typename... A>
struct Sig<void (*)(A...)> {
    static constexpr int n = sizeof...(A);
    static constexpr unsigned short sizes[n + 1] = {(unsigned short)sizeof(A)..., 0};
    static constexpr unsigned short aligns[n + 1] = {(unsigned short)alignof(A)..., 0};
    static constexpr unsigned char pointer[n + 1] = {(unsigned char)std::is_pointer<A>::value..., 0};
};

// One argument from its bytes (memcpy: kernelParams[i] need not be aligned for the type on the host).
template <typename T>
T arg(const void* p) {
    std::remove_cv_t<T> v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <auto K, typename... A, std::size_t... I>
void run_with(void (*)(A...), void* const* p, dim3 g, dim3 b, std::index_sequence<I...>) {
    emu::launch(K, g, b, arg<A>(p[I])...);
}

template <auto K>
void run(void* const* p, dim3 g, dim3 b) {
    run_with<K>(K, p, g, b, std::make_index_sequence<Sig<decltype(K)>::n>{});
}

}  // namespace emudev

#define EMUDEV_ENTRY(k)                                                                                       \
    emudev::Entry {                                                                                            \
        #k, &emudev::run<&k>, emudev::Sig<decltype(&k)>::n, emudev::Sig<decltype(&k)>::sizes,                 \
            emudev::Sig<decltype(&k)>::aligns, emudev::Sig<decltype(&k)>::pointer                              \
    }
