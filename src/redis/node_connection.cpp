// One blocking Redis connection with deadlines.
//
// Blocking calls with timeouts are built from asio's asynchronous operations driven on a private
// io_context by the calling thread (run_one_until): the one portable way to bound a connect, a
// write or a read by a deadline, and the same code will drive a TLS stream. RESP is decoded by
// hiredis's reader; asio only moves bytes.
//
// TLS (rediss://) is a third kind of stream, asio::ssl::stream over a TCP socket. Decisions:
// - Verification is on unless the options turn it off. The expected name is checked by OpenSSL
//   itself during chain verification (SSL_set1_host for DNS names, X509_VERIFY_PARAM_set1_ip_asc
//   for IP literals, matched against IP SANs), rather than by asio's host_name_verification
//   callback: same checks, but a mismatch then shows up in the verify result, so the error can
//   say "certificate verify failed (hostname mismatch)" instead of a bare handshake failure.
// - SNI carries the name only when it is a DNS name (RFC 6066 forbids IP literals there).
// - TLS 1.2 is the minimum. Connections with the same TLS settings share one SSL_CTX (loading
//   the system CA bundle costs ~100 ms): a context is kept only while some connection uses it
//   (weak_ptr cache), so rotated certificate files are picked up once every connection that
//   used the old ones has been replaced.
// - The TCP connect and the TLS handshake share the one connect deadline.
// - Plain sockets keep their fast write path; TLS writes always go through asio::async_write.

#include "redis/node_connection.hpp"

#include <redisrpc/error.hpp>

#include <asio/connect.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace redisrpc::detail {

namespace {

using tcp = asio::ip::tcp;
using unix_stream = asio::local::stream_protocol;

// The byte stream under a connection: every operation below goes through the common async
// stream interface (async_read_some, async_write) and only the optional fast paths are
// restricted to plain sockets.
using tls_stream = asio::ssl::stream<tcp::socket>;
using stream_type = std::variant<std::monostate, tcp::socket, unix_stream::socket, tls_stream>;

template <typename Stream>
constexpr bool is_plain_socket =
    std::is_same_v<Stream, tcp::socket> || std::is_same_v<Stream, unix_stream::socket>;

// Large enough that a 1 MiB bulk reply needs few reads; allocated once per connection.
constexpr std::size_t read_chunk = 64 * 1024;

struct reader_deleter {
    void operator()(redisReader* r) const noexcept { redisReaderFree(r); }
};

// hiredis's reader builds our reply type directly (its reply-object hooks) instead of a
// redisReply tree that would then be copied and freed: per popped message that saves two
// allocations, two frees and a copy. Nested values are built in place in their parent's
// elements, which are sized when the array header arrives, so hiredis only ever owns (and frees
// through free_reply) the root.
reply* reply_slot(const redisReadTask* task, std::unique_ptr<reply>& fresh) {
    if (task->parent == nullptr) {
        fresh = std::make_unique<reply>();
        return fresh.get();
    }
    auto* parent = static_cast<reply*>(task->parent->obj);
    return &parent->elements.at(static_cast<std::size_t>(task->idx));
}

// Each hook returns nullptr on failure, which hiredis reports as out of memory.
template <class Fill>
void* build_reply(const redisReadTask* task, Fill fill) noexcept {
    try {
        std::unique_ptr<reply> fresh;
        reply* r = reply_slot(task, fresh);
        fill(*r);
        return fresh ? fresh.release() : r;
    } catch (...) {
        return nullptr;
    }
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
    return build_reply(task, [&](reply& r) {
        r.kind = task->type == REDIS_REPLY_ERROR    ? reply::type::error
                 : task->type == REDIS_REPLY_STATUS ? reply::type::status
                                                    : reply::type::string;
        r.str.assign(str, len);
    });
}
// An array header is sized before any element arrives: a bogus count from a broken or hostile
// peer must not make us allocate gigabytes. No command we send gets anywhere near this many.
constexpr int max_array_elements = 1 << 20;

void* create_array(const redisReadTask* task, int elements) {
    if (elements > max_array_elements)
        return nullptr; // hiredis turns it into a protocol error; the connection is dropped
    return build_reply(task, [&](reply& r) {
        r.kind = reply::type::array;
        r.elements.resize(static_cast<std::size_t>(std::max(elements, 0)));
    });
}
void* create_integer(const redisReadTask* task, long long value) {
    return build_reply(task, [&](reply& r) {
        r.kind = reply::type::integer;
        r.integer = value;
    });
}
void* create_nil(const redisReadTask* task) {
    return build_reply(task, [](reply& r) { r.kind = reply::type::nil; });
}
void free_reply(void* root) { delete static_cast<reply*>(root); }

redisReplyObjectFunctions reply_functions{create_string, create_array, create_integer, create_nil, free_reply};

// Completion state of one asynchronous operation, living on the caller's stack frame.
struct op_state {
    bool done = false;
    asio::error_code ec;
    std::size_t bytes = 0;
};

// A completion handler that fits read/write ((ec, n)), connect-to-range ((ec, endpoint)) and
// plain connect ((ec)) signatures.
struct completion {
    op_state* state;
    void operator()(const asio::error_code& ec, std::size_t n = 0) const {
        state->ec = ec;
        state->bytes = n;
        state->done = true;
    }
    template <typename Endpoint>
    void operator()(const asio::error_code& ec, const Endpoint& /*chosen*/) const {
        state->ec = ec;
        state->done = true;
    }
};


// Redis's error texts do not echo passwords today; this keeps it that way whatever a proxy or a
// future version says.
std::string scrub(std::string text, const std::string& secret) {
    if (secret.empty()) {
        return text;
    }
    for (std::size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3)) {
        text.replace(pos, secret.size(), "***");
    }
    return text;
}

std::string describe(const asio::error_code& ec) {
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        return "connection closed by the server";
    }
    if (ec.category() == asio::error::get_ssl_category()) {
        // OpenSSL's reason text ("certificate verify failed", "wrong version number"), without
        // the "(SSL routines)" library suffix asio appends.
        const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
        if (reason != nullptr) {
            return std::string("TLS: ") + reason;
        }
        return "TLS: " + ec.message();
    }
    return ec.message();
}

// The text of the last OpenSSL error (e.g. while loading a certificate file), and clears the queue.
std::string openssl_reason(const std::system_error& e) {
    const auto& ec = e.code();
    if (ec.category() == asio::error::get_ssl_category()) {
        const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
        if (reason != nullptr) {
            return reason;
        }
    }
    return ec.message();
}

std::shared_ptr<asio::ssl::context> make_tls_context(const connection_options& options,
                                                     const std::string& address);

// The shared TLS contexts, by the settings that make them (see the note at the top).
std::shared_ptr<asio::ssl::context> shared_tls_context(const connection_options& options,
                                                       const std::string& address) {
    static std::mutex mutex;
    static std::map<std::string, std::weak_ptr<asio::ssl::context>> cache;
    std::string key;
    for (const std::string* part :
         {&options.tls_ca_file, &options.tls_ca_dir, &options.tls_cert_file, &options.tls_key_file}) {
        key += std::to_string(part->size());
        key += ':';
        key += *part;
    }
    key += options.tls_verify ? 'v' : 'n';
    const std::lock_guard lock(mutex);
    if (auto existing = cache[key].lock()) {
        return existing;
    }
    auto created = make_tls_context(options, address);
    cache[key] = created;
    for (auto it = cache.begin(); it != cache.end();) { // drop entries nobody uses any more
        it = it->second.expired() ? cache.erase(it) : std::next(it);
    }
    return created;
}

bool is_ip_literal(const std::string& host) {
    asio::error_code ec;
    (void)asio::ip::make_address(host, ec);
    return !ec;
}

// Builds the client-side TLS context from the options. Throws connection_error on bad files.
std::shared_ptr<asio::ssl::context> make_tls_context(const connection_options& options,
                                                     const std::string& address) {
    auto shared = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    asio::ssl::context& tls = *shared;
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
    tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression);
    const auto fail_file = [&](std::string_view what, const std::string& path, const std::system_error& e) {
        ERR_clear_error();
        throw connection_error("cannot connect to redis at " + address + ": cannot load TLS " +
                               std::string(what) + " '" + path + "': " + openssl_reason(e));
    };
    if (options.tls_verify) {
        tls.set_verify_mode(asio::ssl::verify_peer);
        if (options.tls_ca_file.empty() && options.tls_ca_dir.empty()) {
            try {
                tls.set_default_verify_paths();
            } catch (const std::system_error& e) {
                fail_file("default CA paths", "", e);
            }
        }
        if (!options.tls_ca_file.empty()) {
            try {
                tls.load_verify_file(options.tls_ca_file);
            } catch (const std::system_error& e) {
                fail_file("CA file", options.tls_ca_file, e);
            }
        }
        if (!options.tls_ca_dir.empty()) {
            try {
                tls.add_verify_path(options.tls_ca_dir);
            } catch (const std::system_error& e) {
                fail_file("CA directory", options.tls_ca_dir, e);
            }
        }
    } else {
        tls.set_verify_mode(asio::ssl::verify_none);
    }
    if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
        throw connection_error("cannot connect to redis at " + address +
                               ": a TLS client certificate needs both tls_cert_file and tls_key_file");
    }
    if (!options.tls_cert_file.empty()) {
        try {
            tls.use_certificate_chain_file(options.tls_cert_file);
        } catch (const std::system_error& e) {
            fail_file("certificate file", options.tls_cert_file, e);
        }
        try {
            tls.use_private_key_file(options.tls_key_file, asio::ssl::context::pem);
        } catch (const std::system_error& e) {
            fail_file("key file", options.tls_key_file, e);
        }
    }
    return shared;
}

} // namespace

struct node_connection::impl {
    // Declaration order matters: sockets must be destroyed before the io_context that owns
    // their reactor registration, and the work guard before the io_context too.
    asio::io_context ctx{1};
    // Keeps run_one_until() from stopping (and restarting) the context after every operation,
    // which would cost a reactor interrupt per call.
    asio::executor_work_guard<asio::io_context::executor_type> work{ctx.get_executor()};
    // TLS only; declared before the stream, which holds an SSL object created from it.
    std::shared_ptr<asio::ssl::context> tls_ctx;
    stream_type stream;
    std::unique_ptr<redisReader, reader_deleter> reader{redisReaderCreateWithFunctions(&reply_functions)};
    std::vector<char> read_buf = std::vector<char>(read_chunk);
    command_buffer scratch; // execute() reuses its buffer instead of allocating one per call
    std::string address;
    bool broken = false;
    bool fast_writes = false; // the socket is in non-blocking mode: write() may try send() first
    long long client_id = 0;

    explicit impl(const connection_options& options) : address(options.address()) {
        if (!reader) {
            throw std::bad_alloc();
        }
    }

    ~impl() { close(); }
    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    void close() noexcept {
        std::visit(
            [](auto& s) {
                if constexpr (!std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) {
                    asio::error_code ignored;
                    s.lowest_layer().close(ignored); // lowest_layer: also right for a TLS stream
                }
            },
            stream);
    }

    // Drives the io_context until `state` completes or the deadline passes. On the deadline the
    // stream is closed, which aborts the operation; its handler is still awaited because it
    // points into the caller's frame. Returns false on timeout.
    bool wait(op_state& state, clock::time_point deadline) {
        try {
            while (!state.done) {
                if (ctx.run_one_until(deadline) == 0 && clock::now() >= deadline) {
                    ctx.poll(); // a completion that is ready right now still counts
                    break;
                }
            }
        } catch (...) {
            abandon(state);
            throw;
        }
        if (state.done) {
            return true;
        }
        abandon(state);
        return false;
    }

    void abandon(op_state& state) noexcept {
        broken = true;
        close();
        try {
            while (!state.done) {
                ctx.run_one();
            }
        } catch (...) { // nothing sensible left to do; the connection is already broken
        }
    }

    void ensure_usable() const {
        if (broken) {
            throw connection_error("connection to redis at " + address + " is broken by an earlier error");
        }
    }

    [[noreturn]] void fail_io(const asio::error_code& ec, std::string_view during) {
        broken = true;
        close();
        throw connection_error("redis at " + address + ": " + std::string(during) +
                               " failed: " + describe(ec));
    }

    [[noreturn]] void fail_timeout(std::string_view during) {
        // abandon() already marked the connection broken and closed it.
        throw timeout_error("redis at " + address + ": deadline passed while " + std::string(during) +
                                "; the connection was dropped",
                            true);
    }

    // ---- connect -------------------------------------------------------------------------------

    void connect_tcp(const connection_options& options, clock::time_point deadline) {
        std::vector<tcp::endpoint> endpoints;
        asio::error_code ec;
        const auto ip = asio::ip::make_address(options.host, ec);
        if (!ec) {
            endpoints.emplace_back(ip, options.port);
        } else {
            // Name lookups use the blocking resolver: getaddrinfo cannot be cancelled, so an
            // asynchronous lookup would not honour the deadline either, only hide a thread.
            tcp::resolver resolver(ctx);
            const auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
            if (ec) {
                throw connection_error("cannot connect to redis at " + address + ": " + ec.message());
            }
            for (const auto& entry : results) {
                endpoints.push_back(entry.endpoint());
            }
        }
        tcp::socket* socket = nullptr;
        if (options.tls) {
            tls_ctx = shared_tls_context(options, address);
            socket = &stream.emplace<tls_stream>(ctx, *tls_ctx).next_layer();
        } else {
            socket = &stream.emplace<tcp::socket>(ctx);
        }
        op_state state;
        asio::async_connect(*socket, endpoints, completion{&state});
        finish_connect(state, deadline, options);
        // Requests are small and latency-bound: never let Nagle hold one back.
        socket->set_option(tcp::no_delay(true), ec);
        // Lets the kernel notice a vanished server on an idle pooled connection.
        socket->set_option(asio::socket_base::keep_alive(true), ec);
        if (options.tls) {
            tls_handshake(options, deadline);
            return;
        }
        socket->non_blocking(true, ec);
        fast_writes = !ec;
    }

    void tls_handshake(const connection_options& options, clock::time_point deadline) {
        auto& tls = std::get<tls_stream>(stream);
        SSL* ssl = tls.native_handle();
        const std::string& name = options.tls_server_name.empty() ? options.host : options.tls_server_name;
        const bool ip = is_ip_literal(name);
        if (!ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
            ERR_clear_error();
            broken = true;
            throw connection_error("cannot connect to redis at " + address + ": invalid TLS server name");
        }
        if (options.tls_verify) {
            const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str())
                               : SSL_set1_host(ssl, name.c_str());
            if (set != 1) {
                ERR_clear_error();
                broken = true;
                throw connection_error("cannot connect to redis at " + address +
                                       ": invalid TLS server name for verification");
            }
        }
        op_state state;
        tls.async_handshake(asio::ssl::stream_base::client, completion{&state});
        if (!wait(state, deadline)) {
            throw connection_error("cannot connect to redis at " + address +
                                   ": TLS handshake not done within " +
                                   std::to_string(options.connect_timeout.count()) + "ms");
        }
        if (state.ec) {
            std::string why = describe(state.ec);
            if (why.rfind("TLS: ", 0) == 0) {
                why.erase(0, 5); // "TLS handshake failed: TLS: ..." says it twice
            }
            const long verify = SSL_get_verify_result(ssl);
            if (verify != X509_V_OK) {
                why += " (";
                why += X509_verify_cert_error_string(verify);
                why += ")";
            }
            ERR_clear_error();
            broken = true;
            close();
            throw connection_error("cannot connect to redis at " + address +
                                   ": TLS handshake failed: " + why);
        }
    }

    void connect_unix(const connection_options& options, clock::time_point deadline) {
        unix_stream::endpoint endpoint;
        try {
            endpoint = unix_stream::endpoint(options.path);
        } catch (const std::system_error& e) {
            throw connection_error("cannot connect to redis at " + address + ": " + e.code().message());
        }
        auto& socket = stream.emplace<unix_stream::socket>(ctx);
        op_state state;
        socket.async_connect(endpoint, completion{&state});
        finish_connect(state, deadline, options);
        asio::error_code ec;
        socket.non_blocking(true, ec);
        fast_writes = !ec;
    }

    void finish_connect(op_state& state, clock::time_point deadline, const connection_options& options) {
        if (!wait(state, deadline)) {
            throw connection_error("cannot connect to redis at " + address + ": no answer within " +
                                   std::to_string(options.connect_timeout.count()) + "ms");
        }
        if (state.ec) {
            broken = true;
            throw connection_error("cannot connect to redis at " + address + ": " + state.ec.message());
        }
    }

    // AUTH, SELECT, SETNAME and CLIENT ID go out as one pipeline: one round trip per connect.
    void handshake(const connection_options& options) {
        command_buffer commands;
        const bool auth = !options.user.empty() || !options.password.empty();
        if (auth) {
            if (options.user.empty()) {
                commands.add({"AUTH", options.password});
            } else {
                commands.add({"AUTH", options.user, options.password});
            }
        }
        const std::string db = std::to_string(options.db);
        if (options.db != 0) {
            commands.add({"SELECT", db});
        }
        if (!options.client_name.empty()) {
            commands.add({"CLIENT", "SETNAME", options.client_name});
        }
        commands.add({"CLIENT", "ID"});

        std::vector<reply> replies;
        try {
            replies = pipeline(commands, clock::now() + options.command_timeout);
        } catch (const timeout_error&) {
            throw connection_error("redis at " + address + " did not answer the handshake within " +
                                   std::to_string(options.command_timeout.count()) + "ms");
        }
        std::size_t i = 0;
        const auto check = [&](const std::string& what) {
            const reply& r = replies[i++];
            if (r.is_error()) {
                broken = true;
                throw connection_error("redis at " + address + " refused " + what + ": " +
                                       scrub(r.str, options.password));
            }
        };
        if (auth) {
            check(options.user.empty() ? "AUTH" : "AUTH as user '" + options.user + "'");
        }
        if (options.db != 0) {
            check("SELECT " + db);
        }
        if (!options.client_name.empty()) {
            check("CLIENT SETNAME");
        }
        // CLIENT ID may be denied by an ACL; the id is informative only.
        const reply& id = replies[i];
        client_id = id.is_integer() ? id.integer : 0;
    }

    // ---- I/O -----------------------------------------------------------------------------------

    void write(std::string_view bytes, clock::time_point deadline) {
        ensure_usable();
        std::size_t written = 0;
        std::visit(
            [&](auto& s) {
                using stream_t = std::decay_t<decltype(s)>;
                if constexpr (std::is_same_v<stream_t, std::monostate>) {
                    fail_io(asio::error::not_connected, "writing");
                } else {
                    if constexpr (is_plain_socket<stream_t>) {
                        // Fast path: the socket is non-blocking, and a pipeline nearly always fits
                        // the send buffer, so one send() finishes it without the io_context.
                        if (fast_writes) {
                            asio::error_code ec;
                            written = s.write_some(asio::buffer(bytes), ec);
                            if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
                                fail_io(ec, "writing");
                            }
                        }
                    }
                    write_rest(s, bytes, written, deadline);
                }
            },
            stream);
    }

    template <typename Stream>
    void write_rest(Stream& s, std::string_view bytes, std::size_t written, clock::time_point deadline) {
        if (written == bytes.size()) {
            return;
        }
        op_state state;
        asio::async_write(s, asio::buffer(bytes.data() + written, bytes.size() - written),
                          completion{&state});
        if (!wait(state, deadline)) {
            fail_timeout("writing");
        }
        if (state.ec) {
            fail_io(state.ec, "writing");
        }
    }

    // Reads at least one byte into read_buf and feeds it to the RESP reader.
    void fill(clock::time_point deadline) {
        op_state state;
        std::visit(
            [&](auto& s) {
                if constexpr (std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) {
                    fail_io(asio::error::not_connected, "reading");
                } else {
                    // async_read_some already tries a speculative read before waiting.
                    s.async_read_some(asio::buffer(read_buf), completion{&state});
                }
            },
            stream);
        if (!wait(state, deadline)) {
            fail_timeout("waiting for a reply");
        }
        if (state.ec) {
            fail_io(state.ec, "reading");
        }
        if (redisReaderFeed(reader.get(), read_buf.data(), state.bytes) != REDIS_OK) {
            fail_protocol();
        }
    }

    [[noreturn]] void fail_protocol() {
        broken = true;
        close();
        throw connection_error("protocol error from redis at " + address + ": " + reader->errstr);
    }

    reply read(clock::time_point deadline) {
        ensure_usable();
        for (;;) {
            // Replies already buffered (several can arrive in one read) are consumed first.
            void* raw = nullptr;
            if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK) {
                fail_protocol();
            }
            if (raw != nullptr) {
                const std::unique_ptr<reply> owned(static_cast<reply*>(raw));
                return std::move(*owned);
            }
            fill(deadline);
        }
    }

    std::vector<reply> pipeline(const command_buffer& commands, clock::time_point deadline) {
        std::vector<reply> replies;
        if (commands.empty()) {
            return replies;
        }
        write(commands.bytes(), deadline);
        replies.reserve(commands.count());
        for (std::size_t i = 0; i < commands.count(); ++i) {
            replies.push_back(read(deadline));
        }
        return replies;
    }
};

node_connection::node_connection(const connection_options& options) : impl_(std::make_unique<impl>(options)) {
    if (options.tls && options.kind == connection_options::transport::unix_socket) {
        throw connection_error("cannot connect to redis at " + impl_->address +
                               ": TLS is not available over unix sockets");
    }
    const auto deadline = clock::now() + options.connect_timeout;
    if (options.kind == connection_options::transport::unix_socket) {
        impl_->connect_unix(options, deadline);
    } else {
        impl_->connect_tcp(options, deadline);
    }
    impl_->handshake(options);
}

node_connection::~node_connection() = default;

std::vector<reply> node_connection::pipeline(const command_buffer& commands, clock::time_point deadline) {
    return impl_->pipeline(commands, deadline);
}

reply node_connection::execute(std::initializer_list<std::string_view> argv, clock::time_point deadline) {
    impl_->ensure_usable();
    impl_->scratch.clear();
    impl_->scratch.add(argv);
    impl_->write(impl_->scratch.bytes(), deadline);
    return impl_->read(deadline);
}

void node_connection::write(const command_buffer& commands, clock::time_point deadline) {
    if (!commands.empty()) {
        impl_->write(commands.bytes(), deadline);
    }
}

void node_connection::write_raw(std::string_view encoded, clock::time_point deadline) {
    if (!encoded.empty()) {
        impl_->write(encoded, deadline);
    }
}

reply node_connection::read(clock::time_point deadline) {
    return impl_->read(deadline);
}

bool node_connection::broken() const noexcept {
    return impl_->broken;
}

long long node_connection::client_id() const noexcept {
    return impl_->client_id;
}

const std::string& node_connection::address() const noexcept {
    return impl_->address;
}

} // namespace redisrpc::detail
