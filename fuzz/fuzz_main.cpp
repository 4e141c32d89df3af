// One libFuzzer harness; which target is chosen at compile time (REDISRPC_FUZZ_TARGET, a name
// from fuzz/targets.hpp). A broken invariant or an unexpected exception aborts, which libFuzzer
// records as a crash with a reproducer file.

#include "targets.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>

#ifndef REDISRPC_FUZZ_TARGET
#error "define REDISRPC_FUZZ_TARGET"
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    try {
        redisrpc::fuzz::REDISRPC_FUZZ_TARGET(bytes);
    } catch (const redisrpc::fuzz::fuzz_violation& e) {
        std::fprintf(stderr, "invariant broken: %s\n", e.what());
        std::abort();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        std::abort();
    }
    return 0;
}
