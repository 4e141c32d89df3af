// fork/exec rather than posix_spawn: only a forked child can ask to die with its parent
// (PR_SET_PDEATHSIG), which keeps a crashed test from leaving redis-servers running.

#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>

extern char** environ; // NOLINT: POSIX

namespace redisrpc::test {

namespace {

[[noreturn]] void throw_errno(const std::string& what, int err = errno) {
    throw std::system_error(err, std::generic_category(), what);
}

void close_fd(int& fd) noexcept {
    if (fd >= 0) {
        ::close(fd);
        fd = -1;
    }
}

// PATH lookup done in the parent: after fork only async-signal-safe calls are allowed.
std::string find_program(const std::string& name) {
    if (name.find('/') != std::string::npos) {
        return name;
    }
    const char* path = std::getenv("PATH");
    std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        const std::size_t colon = dirs.find(':');
        std::string dir(dirs.substr(0, colon));
        if (dir.empty()) {
            dir = ".";
        }
        std::string candidate = dir + "/" + name;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        if (colon == std::string_view::npos) {
            break;
        }
        dirs.remove_prefix(colon + 1);
    }
    throw_errno("cannot start '" + name + "': not found on PATH", ENOENT);
}

// Closes every descriptor from `from` upwards except `keep`.
void close_fds_from(int from, int keep) noexcept {
    const auto close_range_fallback = [](unsigned lo, unsigned hi) {
        if (::close_range(lo, hi, 0) != 0) {
            const long max = ::sysconf(_SC_OPEN_MAX);
            for (long fd = lo; fd <= max && fd <= static_cast<long>(hi); ++fd) {
                ::close(static_cast<int>(fd));
            }
        }
    };
    if (keep > from) {
        close_range_fallback(static_cast<unsigned>(from), static_cast<unsigned>(keep - 1));
    }
    close_range_fallback(static_cast<unsigned>(keep + 1), ~0U);
}

int decode_status(int status) noexcept {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return -WTERMSIG(status);
    }
    return 0;
}

} // namespace

struct child_process::impl {
    pid_t pid = -1;
    int pidfd = -1;   // becomes readable when the child exits: waits without polling loops
    int out_fd = -1;  // read end of the stdout+stderr pipe
    int wake_fd = -1; // tells the drain thread to finish (the pipe may outlive the child)
    std::optional<int> status;
    std::thread drainer;
    mutable std::mutex mutex;
    std::string output;

    impl() = default;
    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    ~impl() {
        if (pid > 0 && !status) {
            ::kill(pid, SIGKILL);
            reap(0);
        }
        finish_output();
        close_fd(pidfd);
        close_fd(out_fd);
        close_fd(wake_fd);
    }

    // Once the child has exited, everything it wrote is in the pipe: let the drain thread read the
    // rest and stop, so output() is complete as soon as wait_for() reports the exit.
    void finish_output() {
        if (!drainer.joinable()) return;
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(wake_fd, &one, sizeof one);
        drainer.join();
    }

    // Collects the exit status if the child has exited (blocking when flags == 0).
    bool reap(int flags) {
        if (status) {
            return true;
        }
        int raw = 0;
        pid_t r = 0;
        do {
            r = ::waitpid(pid, &raw, flags);
        } while (r < 0 && errno == EINTR);
        if (r == pid) {
            status = decode_status(raw);
        } else if (r < 0 && errno == ECHILD) {
            status = 0; // reaped elsewhere (SIGCHLD ignored): the real status is lost
        } else {
            return false;
        }
        close_fd(pidfd);
        return true;
    }

    void drain() {
        std::array<char, 4096> buf{};
        std::array<pollfd, 2> fds{pollfd{out_fd, POLLIN, 0}, pollfd{wake_fd, POLLIN, 0}};
        bool stopping = false;
        while (true) {
            if (!stopping) {
                if (::poll(fds.data(), fds.size(), -1) < 0) {
                    if (errno == EINTR) {
                        continue;
                    }
                    return;
                }
                stopping = (fds[1].revents & POLLIN) != 0;
                if (!stopping && fds[0].revents == 0) {
                    continue;
                }
            }
            // The pipe is non-blocking: when stopping, read what is left and quit.
            const ssize_t n = ::read(out_fd, buf.data(), buf.size());
            if (n > 0) {
                const std::lock_guard lock(mutex);
                output.append(buf.data(), static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !stopping) {
                continue;
            }
            return; // EOF, error, or nothing left after being told to stop
        }
    }
};

child_process::child_process(std::vector<std::string> argv,
                             std::vector<std::pair<std::string, std::string>> extra_env, bool capture_output)
    : impl_(std::make_unique<impl>()) {
    if (argv.empty()) {
        throw std::invalid_argument("child_process: empty argv");
    }
    const std::string program = find_program(argv.front());

    // Everything the child needs is built before fork().
    std::vector<char*> arg_ptrs;
    arg_ptrs.reserve(argv.size() + 1);
    for (auto& a : argv) {
        arg_ptrs.push_back(a.data());
    }
    arg_ptrs.push_back(nullptr);

    std::vector<std::string> env_strings;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const std::string_view name = entry.substr(0, entry.find('='));
        bool overridden = false;
        for (const auto& [key, value] : extra_env) {
            overridden = overridden || key == name;
        }
        if (!overridden) {
            env_strings.emplace_back(entry);
        }
    }
    for (const auto& [key, value] : extra_env) {
        env_strings.push_back(key + "=" + value);
    }
    std::vector<char*> env_ptrs;
    env_ptrs.reserve(env_strings.size() + 1);
    for (auto& e : env_strings) {
        env_ptrs.push_back(e.data());
    }
    env_ptrs.push_back(nullptr);

    // All descriptors are close-on-exec in the parent, so no other child inherits them.
    std::array<int, 2> out_pipe{-1, -1};
    std::array<int, 2> err_pipe{-1, -1}; // carries errno if exec fails; EOF means it worked
    int dev_null = -1;
    const auto cleanup = [&] {
        for (int* fd : {&out_pipe[0], &out_pipe[1], &err_pipe[0], &err_pipe[1], &dev_null}) {
            close_fd(*fd);
        }
    };
    if ((capture_output && ::pipe2(out_pipe.data(), O_CLOEXEC) != 0) ||
        ::pipe2(err_pipe.data(), O_CLOEXEC) != 0 ||
        (dev_null = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        const int err = errno;
        cleanup();
        throw_errno("child_process: cannot create pipes", err);
    }

    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int err = errno;
        cleanup();
        throw_errno("child_process: fork failed", err);
    }
    if (pid == 0) {
        // Child: async-signal-safe calls only.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127); // the parent died before prctl took effect
        }
        ::dup2(dev_null, STDIN_FILENO);
        if (capture_output) {
            ::dup2(out_pipe[1], STDOUT_FILENO);
            ::dup2(out_pipe[1], STDERR_FILENO);
        }
        close_fds_from(3, err_pipe[1]);
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (const int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) {
            ::sigaction(sig, &dfl, nullptr);
        }
        ::execve(program.c_str(), arg_ptrs.data(), env_ptrs.data());
        const int err = errno;
        [[maybe_unused]] const auto n = ::write(err_pipe[1], &err, sizeof err);
        ::_exit(127);
    }

    impl_->pid = pid;
    close_fd(err_pipe[1]);
    close_fd(out_pipe[1]);
    close_fd(dev_null);
    int exec_errno = 0;
    ssize_t n = 0;
    do {
        n = ::read(err_pipe[0], &exec_errno, sizeof exec_errno);
    } while (n < 0 && errno == EINTR);
    close_fd(err_pipe[0]);
    if (n == static_cast<ssize_t>(sizeof exec_errno)) {
        close_fd(out_pipe[0]);
        impl_->reap(0);
        throw_errno("cannot start '" + program + "'", exec_errno);
    }

    // Through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C". -1 on kernels before 5.3,
    // where wait_for() falls back to polling.
    impl_->pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (capture_output) {
        impl_->out_fd = out_pipe[0];
        ::fcntl(impl_->out_fd, F_SETFL, ::fcntl(impl_->out_fd, F_GETFL) | O_NONBLOCK);
        impl_->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (impl_->wake_fd < 0) {
            throw_errno("child_process: eventfd failed"); // ~impl kills and reaps the child
        }
        impl_->drainer = std::thread([state = impl_.get()] { state->drain(); });
    }
}

child_process::~child_process() = default;

pid_t child_process::pid() const {
    return impl_->pid;
}

void child_process::signal(int sig) {
    // Until reaped, the pid cannot be reused, so this never hits a stranger.
    if (!impl_->status) {
        ::kill(impl_->pid, sig);
    }
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!impl_->reap(WNOHANG)) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        const int wait_ms = static_cast<int>(std::min<long long>(left.count(), INT_MAX));
        if (impl_->pidfd >= 0) {
            pollfd p{impl_->pidfd, POLLIN, 0};
            ::poll(&p, 1, wait_ms); // EINTR or readiness: re-check either way
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min(wait_ms, 5))); // no pidfd
        }
    }
    impl_->finish_output();
    return impl_->status;
}

bool child_process::wait_stopped() {
    if (impl_->status) {
        return false;
    }
    siginfo_t info{};
    int r = 0;
    do {
        // WNOWAIT: an exit stays for reap() to collect.
        r = ::waitid(P_PID, static_cast<id_t>(impl_->pid), &info, WSTOPPED | WEXITED | WNOWAIT);
    } while (r < 0 && errno == EINTR);
    if (r < 0 || info.si_code != CLD_STOPPED) {
        return false;
    }
    // Consume the stop report, so that the next pause waits for its own stop.
    siginfo_t consumed{};
    ::waitid(P_PID, static_cast<id_t>(impl_->pid), &consumed, WSTOPPED | WNOHANG);
    return true;
}

bool child_process::running() {
    return !wait_for(std::chrono::milliseconds(0)).has_value();
}

std::string child_process::output() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->output;
}

std::filesystem::path make_temp_dir(std::string_view prefix) {
    return make_temp_dir(prefix, std::filesystem::temp_directory_path());
}

std::filesystem::path make_temp_dir(std::string_view prefix, const std::filesystem::path& parent) {
    std::string pattern = (parent / std::string(prefix)).string() + "XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw_errno("cannot create a temporary directory '" + pattern + "'");
    }
    return pattern;
}

temp_dir::temp_dir(std::string_view prefix) : path_(make_temp_dir(prefix)) {}

temp_dir temp_dir::adopt(std::filesystem::path path) noexcept {
    return {adopt_tag{}, std::move(path)};
}

temp_dir::~temp_dir() {
    remove();
}

temp_dir::temp_dir(temp_dir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

temp_dir& temp_dir::operator=(temp_dir&& other) noexcept {
    if (this != &other) {
        remove();
        path_ = std::exchange(other.path_, {});
    }
    return *this;
}

void temp_dir::remove() noexcept {
    if (!path_.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
        path_.clear();
    }
}

} // namespace redisrpc::test
