#pragma once
// A private redis-server for tests: own port, own unix socket, own data directory.

#include "support/process.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace redisrpc::test {

/// How to start a redis_server (aliased as redis_server::config).
struct redis_server_config {
    bool tcp = true;         ///< listen on 127.0.0.1 (and ::1 when available) on a free port
    bool unix_socket = true; ///< listen on <temp dir>/redis.sock
    /// Appended to the command line, e.g. {"--requirepass", "secret"}. A `--requirepass` given
    /// here is also used by the helpers (readiness probe, keys(), flushall()).
    std::vector<std::string> extra_args{};
};

/// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, release it).
std::uint16_t pick_free_port();

/// Starts `redis-server` (path from $REDISRPC_REDIS_SERVER, else `redis-server` on PATH) and
/// waits until it answers. No persistence; everything lives in a temporary directory removed
/// on destruction. The server dies with the test process even if that crashes.
class redis_server {
public:
    using config = redis_server_config;

    /// @throws std::runtime_error with the server's output if it does not come up within 10 s.
    explicit redis_server(config cfg = {});
    /// SIGTERM, a bounded wait, then SIGKILL; removes the temporary directory.
    ~redis_server();
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    /// unix_url() when the unix socket is enabled, else tcp_url().
    [[nodiscard]] std::string url() const;
    /// `redis://127.0.0.1:<port>`; throws std::logic_error when TCP is disabled.
    [[nodiscard]] std::string tcp_url() const;
    /// `unix://<socket path>`; throws std::logic_error when the socket is disabled.
    [[nodiscard]] std::string unix_url() const;
    /// 0 when TCP is disabled.
    [[nodiscard]] std::uint16_t port() const;
    /// Empty when the unix socket is disabled.
    [[nodiscard]] std::string socket_path() const;

    /// SIGKILL, and waits until the process is gone. url() etc. stay valid (and refuse).
    void kill();
    /// Kills the server if it runs, then starts it again on the same port and socket.
    void restart();
    /// SIGSTOP, returning once the process is stopped: connections stay open, nothing answers.
    void pause();
    /// SIGCONT.
    void resume();

    /// KEYS pattern, through a fresh connection.
    std::vector<std::string> keys(std::string_view pattern = "*");
    /// FLUSHALL, through a fresh connection.
    void flushall();

    /// The server's stdout and stderr so far (its log; loglevel warning).
    [[nodiscard]] std::string output() const;
    /// The server's pid (of the current run after restart()).
    [[nodiscard]] pid_t pid() const;

private:
    enum class start_result { ready, port_in_use, failed };
    void start(bool pick_new_port);
    start_result launch_and_wait();
    void probe();
    void stop() noexcept;

    config config_;
    temp_dir dir_;
    std::string password_; // from --requirepass, for the helpers
    std::uint16_t port_ = 0;
    std::unique_ptr<child_process> process_;
};

/// One server shared by all tests of a binary: started on first use, stopped at exit.
/// Tests using it must not rely on an empty database; prefix keys with the test's name.
redis_server& shared_redis();

} // namespace redisrpc::test
