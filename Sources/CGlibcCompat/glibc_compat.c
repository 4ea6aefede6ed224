// Keeps the `uptick` binary runnable on glibc 2.34 (AWS Lambda's provided.al2023) when it is built on a
// newer glibc (Debian 12 has 2.36). scripts/package-lambda.sh checks the result, and .ci/run runs it.
//
// 1. hypot and hypotf got new symbol versions in glibc 2.35, and Foundation calls them. Defining them
//    here, as calls to the original versions that every glibc since 2.2.5 (x86_64) / 2.17 (aarch64)
//    still provides, binds those references to these definitions: no GLIBC_2.35 version is needed.
// 2. GCC 12's unwinder (libgcc_eh, linked statically) calls _dl_find_object, new in glibc 2.35. This is
//    the same lookup done with dl_iterate_phdr, which every glibc has: the loaded object containing an
//    address, its extent, and its PT_GNU_EH_FRAME segment.
//
// Every definition here is hidden: it serves the objects linked into the binary (the static Swift
// runtime, Foundation, ICU, the unwinder) and is never exported. Exported, it would also answer the
// dynamic linker's lookup of the very versioned symbol it forwards to (an unversioned definition in the
// executable matches any version), and the forwarding call would call itself until the stack ran out:
// that is how a test run crashed when two threads raced through ICU's initialisation.
#define _GNU_SOURCE
#include <features.h>

#if defined(__linux__) && defined(__GLIBC__)
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#define UPTICK_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define UPTICK_GLIBC_BASE "GLIBC_2.17"
#endif

#define UPTICK_HIDDEN __attribute__((visibility("hidden")))

#ifdef UPTICK_GLIBC_BASE
double uptick_hypot_base(double x, double y);
float uptick_hypotf_base(float x, float y);
__asm__(".symver uptick_hypot_base, hypot@" UPTICK_GLIBC_BASE);
__asm__(".symver uptick_hypotf_base, hypotf@" UPTICK_GLIBC_BASE);

UPTICK_HIDDEN double hypot(double x, double y) { return uptick_hypot_base(x, y); }
UPTICK_HIDDEN float hypotf(float x, float y) { return uptick_hypotf_base(x, y); }
#endif

#if defined(__x86_64__)
// 3. GCC 12's libstdc++ gave std::condition_variable::wait a new version (GLIBCXX_3.4.30); AL2023's GCC 11
//    libstdc++ has the original one, which GCC 12's still provides. (The mangled name is a C identifier.)
void uptick_condition_wait_base(void *condition, void *lock);
__asm__(".symver uptick_condition_wait_base, _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");
UPTICK_HIDDEN void _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(void *condition, void *lock) {
    uptick_condition_wait_base(condition, lock);
}
#endif

#if __GLIBC_PREREQ(2, 35)
struct uptick_find_request {
    uintptr_t address;
    struct dl_find_object *result;
    int found;
};

static int uptick_find_callback(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct uptick_find_request *request = data;
    uintptr_t start = UINTPTR_MAX, end = 0;
    const void *eh_frame = NULL;
    int contains = 0;
    for (int index = 0; index < info->dlpi_phnum; index++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[index];
        uintptr_t low = info->dlpi_addr + header->p_vaddr;
        if (header->p_type == PT_LOAD) {
            uintptr_t high = low + header->p_memsz;
            if (low < start) start = low;
            if (high > end) end = high;
            if (request->address >= low && request->address < high) contains = 1;
        } else if (header->p_type == PT_GNU_EH_FRAME) {
            eh_frame = (const void *)low;
        }
    }
    if (!contains) return 0;
    request->result->dlfo_flags = 0;
    request->result->dlfo_map_start = (void *)start;
    request->result->dlfo_map_end = (void *)end;
    request->result->dlfo_link_map = NULL;
    request->result->dlfo_eh_frame = (void *)eh_frame;
    request->found = 1;
    return 1;
}

UPTICK_HIDDEN int _dl_find_object(void *address, struct dl_find_object *result) {
    struct uptick_find_request request = { (uintptr_t)address, result, 0 };
    dl_iterate_phdr(uptick_find_callback, &request);
    return request.found ? 0 : -1;
}
#endif
#endif
