#include "util/random.hpp"

#include <redisrpc/error.hpp>

#include <array>
#include <cerrno>
#include <sys/random.h>

namespace redisrpc::detail {
namespace {

// getrandom() per token would be a syscall per call; a per-thread buffer refilled from it keeps
// the same quality at a fraction of the cost.
class entropy_buffer {
public:
    unsigned char next() {
        if (pos_ == buf_.size()) refill();
        return buf_[pos_++];
    }

private:
    void refill() {
        std::size_t got = 0;
        while (got < buf_.size()) {
            const ssize_t n = ::getrandom(buf_.data() + got, buf_.size() - got, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw error("getrandom failed");
            }
            got += static_cast<std::size_t>(n);
        }
        pos_ = 0;
    }
    std::array<unsigned char, 1024> buf_{};
    std::size_t pos_ = buf_.size();
};

} // namespace

std::string random_token(std::size_t length) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    thread_local entropy_buffer entropy;
    std::string out;
    out.reserve(length);
    while (out.size() < length) {
        const unsigned char b = entropy.next();
        if (b >= 248) continue; // 248 = 4 * 62: rejecting the rest keeps every character equally likely
        out.push_back(alphabet[b % 62]);
    }
    return out;
}

std::string random_uuid4() {
    thread_local entropy_buffer entropy;
    unsigned char b[16];
    for (auto& byte : b) byte = entropy.next();
    b[6] = static_cast<unsigned char>((b[6] & 0x0FU) | 0x40U); // version 4
    b[8] = static_cast<unsigned char>((b[8] & 0x3FU) | 0x80U); // RFC 4122 variant
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(hex[b[i] >> 4]);
        out.push_back(hex[b[i] & 0x0FU]);
    }
    return out;
}

} // namespace redisrpc::detail
