#pragma once
// Capped exponential backoff with full jitter, for reconnecting without busy loops or herds.

#include <chrono>
#include <random>

namespace redisrpc::detail {

class backoff {
public:
    backoff(std::chrono::milliseconds first = std::chrono::milliseconds(50),
            std::chrono::milliseconds cap = std::chrono::milliseconds(2000))
        : first_(first), cap_(cap), next_(first), rng_(std::random_device{}()) {}

    /// The next wait: uniformly random in [next/2, next], and next doubles up to the cap.
    std::chrono::milliseconds next() {
        const auto upper = next_;
        next_ = std::min(next_ * 2, cap_);
        std::uniform_int_distribution<long long> pick(upper.count() / 2, upper.count());
        return std::chrono::milliseconds(pick(rng_));
    }
    void reset() noexcept { next_ = first_; }

private:
    std::chrono::milliseconds first_, cap_, next_;
    std::minstd_rand rng_; // jitter only: no secrecy needed
};

} // namespace redisrpc::detail
