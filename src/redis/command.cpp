// RESP encoding of commands through hiredis's formatter (binary-safe: lengths, not NULs).

#include "redis/command.hpp"

#include <redisrpc/error.hpp>

#include <hiredis/hiredis.h>

#include <array>
#include <climits>
#include <new>
#include <vector>

namespace redisrpc::detail {

namespace {

// Most commands have a handful of arguments: keep their pointers on the stack.
constexpr std::size_t inline_args = 16;

template <typename Range> void format_into(std::string& out, const Range& argv, std::size_t argc) {
    // An empty command would be "*0\r\n", which Redis skips without replying: the reply count
    // of a pipeline would then be off by one forever.
    if (argc == 0) {
        throw usage_error("cannot send an empty redis command");
    }
    if (argc > static_cast<std::size_t>(INT_MAX)) {
        throw usage_error("redis command has too many arguments");
    }
    std::array<const char*, inline_args> ptr_stack{};
    std::array<std::size_t, inline_args> len_stack{};
    std::vector<const char*> ptr_heap;
    std::vector<std::size_t> len_heap;
    const char** ptrs = ptr_stack.data();
    std::size_t* lens = len_stack.data();
    if (argc > inline_args) {
        ptr_heap.resize(argc);
        len_heap.resize(argc);
        ptrs = ptr_heap.data();
        lens = len_heap.data();
    }
    std::size_t i = 0;
    for (const auto& arg : argv) {
        const std::string_view view(arg);
        // An empty string_view may carry a null pointer; hiredis would memcpy from it.
        ptrs[i] = view.data() != nullptr ? view.data() : "";
        lens[i] = view.size();
        ++i;
    }

    char* formatted = nullptr;
    const int len = redisFormatCommandArgv(&formatted, static_cast<int>(argc), ptrs, lens);
    if (len < 0 || formatted == nullptr) {
        throw std::bad_alloc();
    }
    try {
        out.append(formatted, static_cast<std::size_t>(len));
    } catch (...) {
        redisFreeCommand(formatted);
        throw;
    }
    redisFreeCommand(formatted);
}

} // namespace

void command_buffer::add(std::initializer_list<std::string_view> argv) {
    format_into(bytes_, argv, argv.size());
    ++count_;
}

void command_buffer::add(std::span<const std::string_view> argv) {
    format_into(bytes_, argv, argv.size());
    ++count_;
}

void command_buffer::add(std::span<const std::string> argv) {
    format_into(bytes_, argv, argv.size());
    ++count_;
}

} // namespace redisrpc::detail
