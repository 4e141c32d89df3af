#pragma once
// Child processes and temporary directories for tests.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redisrpc::test {

/// A child process started from argv (argv[0] is looked up on PATH when it has no '/').
///
/// - stdin is /dev/null; with capture_output, stdout and stderr both go to one pipe that a
///   thread drains (so a chatty child never blocks on a full pipe), readable via output().
/// - The child inherits no descriptor but 0, 1 and 2, and is killed (SIGKILL) if the test
///   process dies, so a crashed test leaves no server behind. Linux ties that to the *thread*
///   that started the child: start long-lived children from a thread that outlives them
///   (normally the test's main thread).
/// - The destructor kills (SIGKILL) a child still running and reaps it: no zombies.
class child_process {
public:
    /// @throws std::system_error when the program cannot be started (e.g. not found).
    explicit child_process(std::vector<std::string> argv,
                           std::vector<std::pair<std::string, std::string>> extra_env = {},
                           bool capture_output = true);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    [[nodiscard]] pid_t pid() const;
    /// Sends `sig`; does nothing once the child has been reaped (its pid may be reused).
    void signal(int sig);
    /// Waits up to `timeout` for the child to exit: its exit code, -signal if a signal ended it,
    /// nullopt if it is still running. Repeated calls after the exit return the same value.
    std::optional<int> wait_for(std::chrono::milliseconds timeout);
    /// True while the child has not exited (reaps it if it has).
    bool running();
    /// Blocks until the child is stopped (e.g. after signal(SIGSTOP)): true, or has exited: false.
    bool wait_stopped();
    /// Everything the child wrote to stdout and stderr so far (empty without capture_output).
    [[nodiscard]] std::string output() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// Creates a fresh directory `<temp dir>/<prefix>XXXXXX` (mode 0700) and returns its path.
std::filesystem::path make_temp_dir(std::string_view prefix);
/// The same under `parent` instead of the system's temporary directory.
std::filesystem::path make_temp_dir(std::string_view prefix, const std::filesystem::path& parent);

/// A directory from make_temp_dir(), removed with its contents on destruction.
class temp_dir {
public:
    explicit temp_dir(std::string_view prefix);
    /// Takes ownership of an existing directory (e.g. from make_temp_dir(prefix, parent)).
    static temp_dir adopt(std::filesystem::path path) noexcept;
    ~temp_dir();
    temp_dir(temp_dir&& other) noexcept;
    temp_dir& operator=(temp_dir&& other) noexcept;
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    struct adopt_tag {};
    temp_dir(adopt_tag /*unused*/, std::filesystem::path path) noexcept : path_(std::move(path)) {}
    void remove() noexcept;
    std::filesystem::path path_;
};

} // namespace redisrpc::test
