#pragma once
// Commands are encoded to RESP as soon as they are added, directly (see command.cpp), into one
// contiguous buffer: a pipeline is then a single write.

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace redisrpc::detail {

class command_buffer {
public:
    /// Appends one command (e.g. {"RPUSH", key, value}). Arguments are binary-safe.
    void add(std::initializer_list<std::string_view> argv);
    void add(std::span<const std::string_view> argv);
    void add(std::span<const std::string> argv);

    [[nodiscard]] std::size_t count() const noexcept { return count_; }
    [[nodiscard]] const std::string& bytes() const noexcept { return bytes_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    void clear() noexcept {
        bytes_.clear();
        count_ = 0;
    }

private:
    std::string bytes_;
    std::size_t count_ = 0;
};

} // namespace redisrpc::detail
