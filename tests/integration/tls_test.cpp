// TLS (rediss://) against a private redis-server with a throw-away PKI made by the openssl CLI.
//
// The fixture creates, once per suite, in a temporary directory:
//   ca.crt/ca.key          the CA the server's and the client's certificates are signed by
//   other-ca.crt           an unrelated CA ("wrong CA" cases)
//   server.crt/server.key  CN=localhost, SANs DNS:localhost and IP:127.0.0.1
//   client.crt/client.key  a client certificate signed by ca.crt
// and starts two servers: one with --tls-auth-clients optional, one with --tls-auth-clients yes.
// Both keep their unix socket (plain) so the fixture's readiness probe works; TCP is TLS only.

#include "support/helpers.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

#include "redis/connection.hpp"

#include <redisrpc/redisrpc.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

using namespace std::chrono_literals;
using redisrpc::connection_error;
using redisrpc::connection_options;
using redisrpc::parse_url;
using steady = redisrpc::detail::clock;
using redisrpc::detail::connection;
using redisrpc::test::child_process;
using redisrpc::test::redis_server;
using redisrpc::test::running_server;
using redisrpc::test::temp_dir;

namespace {

void run_openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    child_process p(args);
    const auto code = p.wait_for(30s);
    if (!code || *code != 0) {
        throw std::runtime_error("openssl " + args.at(1) + " failed: " + p.output());
    }
}

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    if (!out)
        throw std::runtime_error("cannot write " + path.string());
}

// A CA, a server certificate for localhost/127.0.0.1, a client certificate, another CA.
struct pki {
    temp_dir dir{"redisrpc-tls-"};
    std::string path(const char* name) const { return (dir.path() / name).string(); }

    pki() {
        const std::vector<std::string> ec_key{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                              "-nodes"};
        const auto req = [&](std::vector<std::string> args) {
            args.insert(args.begin(), "req");
            args.insert(args.end(), ec_key.begin(), ec_key.end());
            run_openssl(std::move(args));
        };
        req({"-x509", "-days", "2", "-subj", "/CN=redisrpc test CA", "-keyout", path("ca.key"), "-out",
             path("ca.crt")});
        req({"-x509", "-days", "2", "-subj", "/CN=another CA", "-keyout", path("other-ca.key"), "-out",
             path("other-ca.crt")});
        write_file(dir.path() / "server.ext",
                   "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n");
        write_file(dir.path() / "client.ext",
                   "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n");
        for (const char* who : {"server", "client"}) {
            const std::string name = who;
            req({"-subj", name == "server" ? "/CN=localhost" : "/CN=redisrpc client", "-keyout",
                 path((name + ".key").c_str()), "-out", path((name + ".csr").c_str())});
            run_openssl({"x509", "-req", "-days", "2", "-in", path((name + ".csr").c_str()), "-CA",
                         path("ca.crt"), "-CAkey", path("ca.key"), "-CAcreateserial", "-extfile",
                         path((name + ".ext").c_str()), "-out", path((name + ".crt").c_str())});
        }
    }
};

// A redis-server with a TLS port (TCP is TLS only; the unix socket stays plain for the probe).
struct tls_redis {
    std::uint16_t tls_port = 0;
    std::unique_ptr<redis_server> server;

    tls_redis(const pki& keys, const char* auth_clients) {
        for (int attempt = 0;; ++attempt) {
            tls_port = redisrpc::test::pick_free_port();
            try {
                server = std::make_unique<redis_server>(redis_server::config{
                    .tcp = false,
                    .unix_socket = true,
                    .extra_args = {"--tls-port", std::to_string(tls_port), "--tls-cert-file",
                                   keys.path("server.crt"), "--tls-key-file", keys.path("server.key"),
                                   "--tls-ca-cert-file", keys.path("ca.crt"), "--tls-auth-clients",
                                   auth_clients},
                });
                return;
            } catch (const std::runtime_error&) {
                if (attempt == 4)
                    throw; // the port was taken in between, five times: give up
            }
        }
    }
    std::string url(const std::string& host = "127.0.0.1") const {
        return "rediss://" + host + ":" + std::to_string(tls_port);
    }
};

class Tls : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        keys_ = new pki();
        optional_ = new tls_redis(*keys_, "optional");
        required_ = new tls_redis(*keys_, "yes");
    }
    static void TearDownTestSuite() {
        delete required_;
        delete optional_;
        delete keys_;
        required_ = optional_ = nullptr;
        keys_ = nullptr;
    }

    static std::string ca() { return keys_->path("ca.crt"); }
    static std::string other_ca() { return keys_->path("other-ca.crt"); }
    static std::string client_cert_query() {
        return "tls_cert_file=" + keys_->path("client.crt") + "&tls_key_file=" + keys_->path("client.key");
    }

    // Opens a connection and returns the reply to PING, or throws.
    static std::string ping(const std::string& url) {
        connection conn(parse_url(url)); // the URL's timeouts (defaults 2 s connect, 5 s command)
        return conn.execute({"PING"}, steady::now() + 3s).str;
    }

    // The message of the connection_error thrown while connecting, or "" when none was thrown.
    static std::string connect_error(const std::string& url) {
        try {
            (void)ping(url);
        } catch (const connection_error& e) {
            return e.what();
        }
        return {};
    }

    static pki* keys_;
    static tls_redis* optional_;
    static tls_redis* required_;
};

pki* Tls::keys_ = nullptr;
tls_redis* Tls::optional_ = nullptr;
tls_redis* Tls::required_ = nullptr;

TEST_F(Tls, VerifiedConnectionByIpAddress) {
    EXPECT_EQ(ping(optional_->url() + "?tls_ca_file=" + ca()), "PONG");
}

TEST_F(Tls, VerifiedConnectionByHostName) {
    // "localhost" may resolve to ::1 first; the server binds both loopbacks.
    EXPECT_EQ(ping(optional_->url("localhost") + "?tls_ca_file=" + ca()), "PONG");
}

TEST_F(Tls, CaDirectory) {
    // A directory in OpenSSL's hashed layout: <subject hash>.0 -> the CA certificate.
    temp_dir dir("redisrpc-cadir-");
    child_process hash({"openssl", "x509", "-hash", "-noout", "-in", ca()});
    ASSERT_EQ(hash.wait_for(30s), 0);
    std::string h = hash.output();
    h.erase(h.find_last_not_of("\r\n") + 1);
    std::filesystem::copy_file(ca(), dir.path() / (h + ".0"));
    EXPECT_EQ(ping(optional_->url() + "?tls_ca_dir=" + dir.path().string()), "PONG");
}

TEST_F(Tls, ClientAndServerCallOverTls) {
    const std::string url = optional_->url() + "?tls_ca_file=" + ca();
    redisrpc::server srv{url, "tls-calc"};
    srv.bind("add", [](double a, double b) { return a + b; });
    running_server run(srv);

    redisrpc::client_options copts;
    copts.timeout = 5s;
    redisrpc::client calc{url, "tls-calc", copts};
    EXPECT_EQ(calc.call<double>("add", 2, 3), 5.0);
    auto f = calc.async_call<double>("add", 4, 5);
    EXPECT_EQ(f.get(), 9.0);
}

TEST_F(Tls, WrongCaIsRefused) {
    const auto msg = connect_error(optional_->url() + "?tls_ca_file=" + other_ca());
    RecordProperty("message", msg);
    EXPECT_NE(msg.find("certificate verify failed"), std::string::npos) << msg;
    EXPECT_NE(msg.find("127.0.0.1:" + std::to_string(optional_->tls_port)), std::string::npos) << msg;
}

TEST_F(Tls, SystemCasDoNotTrustAPrivateCa) {
    // Default: verification on, system CA paths; our test CA is not among them.
    const auto msg = connect_error(optional_->url());
    EXPECT_NE(msg.find("certificate verify failed"), std::string::npos) << msg;
}

TEST_F(Tls, WrongHostNameIsRefused) {
    const auto msg =
        connect_error(optional_->url() + "?tls_ca_file=" + ca() + "&tls_server_name=redis.example.com");
    RecordProperty("message", msg);
    EXPECT_NE(msg.find("certificate verify failed"), std::string::npos) << msg;
    EXPECT_NE(msg.find("hostname mismatch"), std::string::npos) << msg;
}

TEST_F(Tls, WrongIpAddressIsRefused) {
    // The certificate has IP:127.0.0.1 only; an IP literal is checked against IP SANs, never CN.
    const auto msg = connect_error(optional_->url() + "?tls_ca_file=" + ca() + "&tls_server_name=127.0.0.2");
    RecordProperty("message", msg);
    EXPECT_NE(msg.find("certificate verify failed"), std::string::npos) << msg;
    EXPECT_NE(msg.find("IP address mismatch"), std::string::npos) << msg;
}

TEST_F(Tls, VerificationCanBeTurnedOff) {
    EXPECT_EQ(ping(optional_->url() + "?tls_ca_file=" + other_ca() + "&insecure=true"), "PONG");
    EXPECT_EQ(ping(optional_->url() + "?tls_verify=no&tls_server_name=redis.example.com"), "PONG");
}

TEST_F(Tls, OptionsStructWithoutUrl) {
    connection_options o;
    o.host = "127.0.0.1";
    o.port = optional_->tls_port;
    o.tls = true;
    o.tls_ca_file = ca();
    o.tls_server_name = "localhost";
    connection conn(o);
    EXPECT_EQ(conn.execute({"PING"}, steady::now() + 3s).str, "PONG");
}

TEST_F(Tls, ClientCertificateRequired) {
    const auto msg = connect_error(required_->url() + "?tls_ca_file=" + ca());
    RecordProperty("message", msg);
    EXPECT_FALSE(msg.empty()) << "connected without a client certificate";
    EXPECT_NE(msg.find("127.0.0.1:" + std::to_string(required_->tls_port)), std::string::npos) << msg;
    EXPECT_EQ(ping(required_->url() + "?tls_ca_file=" + ca() + "&" + client_cert_query()), "PONG");
}

TEST_F(Tls, ClientCertificateFromAnotherCaIsRefused) {
    // other-ca.crt/.key used as a client certificate: self-signed, not issued by the server's CA.
    const auto msg =
        connect_error(required_->url() + "?tls_ca_file=" + ca() + "&tls_cert_file=" + other_ca() +
                      "&tls_key_file=" + keys_->path("other-ca.key"));
    EXPECT_FALSE(msg.empty());
}

TEST_F(Tls, PlainClientOnTlsPortFailsWithinTimeout) {
    const auto start = std::chrono::steady_clock::now();
    const auto msg = connect_error("redis://127.0.0.1:" + std::to_string(optional_->tls_port) +
                                   "?connect_timeout=1s&timeout=1s");
    const auto took = std::chrono::steady_clock::now() - start;
    RecordProperty("message", msg);
    EXPECT_FALSE(msg.empty());
    EXPECT_LT(took, 4s) << msg;
}

TEST_F(Tls, TlsClientOnPlainSocketFailsWithinTimeout) {
    // The shared plain server: TLS ClientHello to a plain Redis port.
    auto& plain = redisrpc::test::shared_redis();
    const auto start = std::chrono::steady_clock::now();
    const auto msg = connect_error("rediss://127.0.0.1:" + std::to_string(plain.port()) +
                                   "?connect_timeout=1s&timeout=1s&insecure=true");
    const auto took = std::chrono::steady_clock::now() - start;
    RecordProperty("message", msg);
    EXPECT_FALSE(msg.empty());
    EXPECT_LT(took, 4s) << msg;
}

TEST_F(Tls, ErrorsNeverContainThePassword) {
    const auto msg =
        connect_error("rediss://alice:hunter2pw@127.0.0.1:" + std::to_string(optional_->tls_port) +
                      "?tls_ca_file=" + other_ca());
    EXPECT_FALSE(msg.empty());
    EXPECT_EQ(msg.find("hunter2pw"), std::string::npos) << msg;
}

TEST_F(Tls, MissingCaFileIsNamed) {
    const auto msg = connect_error(optional_->url() + "?tls_ca_file=/nonexistent/ca.pem");
    RecordProperty("message", msg);
    EXPECT_NE(msg.find("/nonexistent/ca.pem"), std::string::npos) << msg;
}

TEST_F(Tls, WrongPasswordOverTlsIsAHandshakeError) {
    // AUTH travels inside TLS; a refusal is reported like on plain TCP, without the password.
    const auto msg = connect_error(optional_->url() + "?tls_ca_file=" + ca() + "&password=not-the-pw");
    EXPECT_NE(msg.find("AUTH"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("not-the-pw"), std::string::npos) << msg;
}

TEST_F(Tls, DeadlinesHoldOverTls) {
    // A frozen server: the TLS read and the TLS handshake both end at their deadlines.
    auto options = parse_url(optional_->url() + "?tls_ca_file=" + ca() + "&connect_timeout=300ms");
    connection conn(options);
    struct resume_on_exit {
        redis_server& server;
        ~resume_on_exit() { server.resume(); }
    } guard{*optional_->server};
    optional_->server->pause();

    auto start = std::chrono::steady_clock::now();
    EXPECT_THROW((void)conn.execute({"PING"}, steady::now() + 300ms), redisrpc::timeout_error);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_TRUE(conn.broken());

    start = std::chrono::steady_clock::now();
    const auto msg = connect_error(optional_->url() + "?tls_ca_file=" + ca() + "&connect_timeout=300ms");
    EXPECT_NE(msg.find("TLS handshake not done within 300ms"), std::string::npos) << msg;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

} // namespace
