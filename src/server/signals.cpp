#include "server/signals.hpp"

#include <csignal>
#include <mutex>

namespace redisrpc::detail {
namespace {

std::atomic<unsigned> signal_count{0};
static_assert(std::atomic<unsigned>::is_always_lock_free, "the signal handler needs a lock-free counter");

// C language linkage (a signal handler is called from C), `static` so the symbol stays internal:
// an extern "C" name ignores the unnamed namespace and would otherwise be exported.
extern "C" {
static void redisrpc_on_stop_signal(int) { signal_count.fetch_add(1, std::memory_order_relaxed); }
}

// Several servers may run in one process; the handlers stay installed while any of them runs.
std::mutex install_mutex;
int install_users = 0;
struct sigaction previous_int {};
struct sigaction previous_term {};

} // namespace

stop_signals::stop_signals(bool install)
    : installed_(install), start_count_(signal_count.load(std::memory_order_relaxed)) {
    if (!installed_) return;
    std::lock_guard lock(install_mutex);
    if (install_users++ == 0) {
        struct sigaction sa {};
        sa.sa_handler = redisrpc_on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &previous_int);
        sigaction(SIGTERM, &sa, &previous_term);
    }
}

stop_signals::~stop_signals() {
    if (!installed_) return;
    std::lock_guard lock(install_mutex);
    if (--install_users == 0) {
        sigaction(SIGINT, &previous_int, nullptr);
        sigaction(SIGTERM, &previous_term, nullptr);
    }
}

bool stop_signals::fired() const noexcept {
    return installed_ && signal_count.load(std::memory_order_relaxed) != start_count_;
}

} // namespace redisrpc::detail
