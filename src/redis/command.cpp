// RESP encoding of commands, written directly: "*<argc>\r\n" then "$<len>\r\n<bytes>\r\n" per
// argument. Binary-safe (lengths, not NULs) and allocation-free beyond the buffer's own growth;
// hiredis's formatter cost ~900 instructions per argument (sprintf) and a malloc per command.

#include "redis/command.hpp"

#include <redisrpc/error.hpp>

#include <charconv>

namespace redisrpc::detail {

namespace {

void append_header(std::string& out, char marker, std::size_t n) {
    char buf[24];
    buf[0] = marker;
    const auto [end, ec] = std::to_chars(buf + 1, buf + sizeof buf - 2, n);
    (void)ec; // 20 digits always fit
    end[0] = '\r';
    end[1] = '\n';
    out.append(buf, static_cast<std::size_t>(end + 2 - buf));
}

template <typename Range>
void format_into(std::string& out, const Range& argv, std::size_t argc) {
    // An empty command would be "*0\r\n", which Redis skips without replying: the reply count
    // of a pipeline would then be off by one forever.
    if (argc == 0)
        throw usage_error("cannot send an empty redis command");
    std::size_t total = 16;
    for (const auto& arg : argv)
        total += std::string_view(arg).size() + 16;
    out.reserve(out.size() + total);
    append_header(out, '*', argc);
    for (const auto& arg : argv) {
        const std::string_view view(arg);
        append_header(out, '$', view.size());
        out.append(view.data(), view.size());
        out += "\r\n";
    }
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
