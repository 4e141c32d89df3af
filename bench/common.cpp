#include "common.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace bench {

// ---------------------------------------------------------------------------------------------
// window

window::window(const settings& s, std::size_t expected_rate_hint) {
    begin_ = clock::now() + s.warmup;
    end_ = begin_ + s.duration;
    const auto secs = std::chrono::duration<double>(s.duration).count();
    samples_ns_.reserve(static_cast<std::size_t>(static_cast<double>(expected_rate_hint) * secs));
}

void window::record(clock::time_point started, clock::time_point done) noexcept {
    ++total_;
    if (done < begin_ || done >= end_) return;
    try {
        samples_ns_.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(done - started).count());
    } catch (...) {
    }
}

result window::finish(std::string name, std::size_t k) {
    result r;
    r.name = std::move(name);
    r.k = k;
    r.calls = samples_ns_.size();
    r.seconds = std::chrono::duration<double>(end_ - begin_).count();
    r.errors = errors_;
    r.total = total_;
    if (!samples_ns_.empty()) {
        auto pct = [this](double q) {
            const auto i = static_cast<std::size_t>(q * static_cast<double>(samples_ns_.size() - 1));
            std::nth_element(samples_ns_.begin(), samples_ns_.begin() + static_cast<std::ptrdiff_t>(i),
                             samples_ns_.end());
            return static_cast<double>(samples_ns_[i]) / 1000.0;
        };
        r.p50_us = pct(0.50);
        r.p99_us = pct(0.99);
    }
    return r;
}

// ---------------------------------------------------------------------------------------------
// peer processes

namespace {

std::mutex peers_mutex;
std::set<pid_t> live_peers;

std::atomic<bool> stop_flag{false};
pid_t parent_pid = 0;
int ready_fd = -1;
std::string self_exe = "/proc/self/exe";

extern "C" void redisrpc_bench_on_stop_signal(int) { stop_flag.store(true); }

} // namespace

peer::peer(const std::string& role, const settings& s, const std::string& queue) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
    // Everything the child needs is built before fork(): after it only async-signal-safe calls.
    std::vector<std::string> args{"redisrpc_bench",
                                  "--role", role,
                                  "--url", s.url,
                                  "--queue", queue,
                                  "--batch", std::to_string(s.batch),
                                  "--workers", std::to_string(s.workers),
                                  "--ready-fd", std::to_string(fds[1])};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t me = ::getpid();
    const char* exe = self_exe.c_str();

    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
    }
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM); // the bench died: the peer goes too
        if (::getppid() != me) ::_exit(3);
        // Only the readiness pipe survives exec: not this process's Redis connections.
        ::close_range(3, static_cast<unsigned>(fds[1]) - 1, 0);
        ::close_range(static_cast<unsigned>(fds[1]) + 1, ~0U, 0);
        ::fcntl(fds[1], F_SETFD, 0);
        ::execv(exe, argv.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    pid_ = pid;
    {
        std::lock_guard lock(peers_mutex);
        live_peers.insert(pid);
    }
    pollfd p{fds[0], POLLIN, 0};
    const int n = ::poll(&p, 1, 15000);
    char c = 0;
    const bool ok = n == 1 && ::read(fds[0], &c, 1) == 1 && c == 'R';
    ::close(fds[0]);
    if (!ok) {
        stop();
        throw std::runtime_error("peer '" + role + "' did not become ready");
    }
}

peer::~peer() { stop(); }

std::string peer::stop() {
    if (pid_ <= 0) return "not running";
    ::kill(pid_, SIGTERM);
    int status = 0;
    std::string outcome = "killed after 5 s";
    for (int i = 0; i < 500; ++i) {
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            outcome = WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                        : "signal " + std::to_string(WTERMSIG(status));
            break;
        }
        if (r < 0) {
            outcome = "lost";
            break;
        }
        std::this_thread::sleep_for(10ms);
        if (i == 499) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
    }
    {
        std::lock_guard lock(peers_mutex);
        live_peers.erase(pid_);
    }
    pid_ = -1;
    return outcome;
}

void init_self_exe() {
    char buf[4096];
    const auto n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) self_exe.assign(buf, static_cast<std::size_t>(n));
}

void kill_all_peers() noexcept {
    std::lock_guard lock(peers_mutex);
    for (const pid_t p : live_peers) ::kill(p, SIGKILL);
}

void peer_init() {
    parent_pid = ::getppid();
    struct sigaction sa {};
    sa.sa_handler = redisrpc_bench_on_stop_signal;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
}

void peer_ready() {
    if (ready_fd >= 0) {
        const char c = 'R';
        [[maybe_unused]] const auto n = ::write(ready_fd, &c, 1);
        ::close(ready_fd);
        ready_fd = -1;
    }
}

void set_ready_fd(int fd) { ready_fd = fd; }

bool stop_requested() noexcept { return stop_flag.load() || ::getppid() != parent_pid; }

// ---------------------------------------------------------------------------------------------
// /proc readers and small helpers

long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return 0;
}

std::pair<double, double> cpu_user_system(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')'); // the command name may hold spaces and parentheses
    if (close == std::string::npos) return {-1.0, -1.0};
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    // After the name: state(3) ... utime is field 14, stime field 15 of the whole line.
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    const auto tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    return {static_cast<double>(utime) / tick, static_cast<double>(stime) / tick};
}

double cpu_seconds(pid_t pid) {
    const auto [user, system] = cpu_user_system(pid);
    return user < 0 ? -1.0 : user + system;
}

std::vector<thread_usage> threads_of(pid_t pid) {
    std::vector<thread_usage> out;
    const std::string base = "/proc/" + std::to_string(pid) + "/task";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(base, ec)) {
        thread_usage t;
        t.tid = static_cast<pid_t>(std::stol(entry.path().filename().string()));
        std::ifstream stat(entry.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        const auto close = text.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream fields(text.substr(close + 2));
        std::string field;
        unsigned long long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && fields >> field; ++i) {
            if (i == 14) utime = std::stoull(field);
            if (i == 15) stime = std::stoull(field);
        }
        t.cpu = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
        std::ifstream status(entry.path() / "status");
        std::string line;
        while (std::getline(status, line)) {
            if (line.find("ctxt_switches:") != std::string::npos)
                t.switches += std::stoull(line.substr(line.find(':') + 1));
        }
        out.push_back(t);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.tid < b.tid; });
    return out;
}

double machine_busy_seconds() {
    std::ifstream in("/proc/stat");
    std::string cpu;
    unsigned long long v[10] = {};
    in >> cpu;
    for (auto& x : v) in >> x;
    // user nice system idle iowait irq softirq steal guest guest_nice; guest is inside user.
    const unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return static_cast<double>(busy) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double load_average() {
    std::ifstream in("/proc/loadavg");
    double v = 0;
    in >> v;
    return v;
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
        }
    }
    return "unknown";
}

std::string token(std::size_t n) {
    static constexpr char symbols[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<std::size_t> pick(0, sizeof symbols - 2);
    std::string s(n, ' ');
    for (auto& c : s) c = symbols[pick(rng)];
    return s;
}

} // namespace bench
