#pragma once
// Certificates made at test time, and a minimal HTTPS listener that records what reaches it: the
// untrusted, misnamed and expired servers of the TLS tests, and the other origin a nextLink may
// point at.
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace authgate::testing {

struct PemFiles {
    std::string certificate;  // the certificate (a server's is followed by nothing else)
    std::string key;
};

struct ServerCertificate {
    std::string common_name = "127.0.0.1";
    std::vector<std::string> subject_alt_names{"IP:127.0.0.1", "DNS:localhost"};
    int valid_from_days = -1;  // relative to now
    int valid_until_days = 30;
};

// A certificate authority (P-256) whose files live in `folder`.
class TestCa {
public:
    TestCa(const std::filesystem::path& folder, const std::string& name);
    const std::string& certificate() const { return files_.certificate; }
    // A server certificate signed by this CA (P-256, EKU serverAuth), written to folder/name.*.
    PemFiles issue(const std::string& name, const ServerCertificate& spec) const;

private:
    std::filesystem::path folder_;
    PemFiles files_;
};

// Listens on 127.0.0.1 (a port of its own, so an origin of its own) with the given certificate.
// Every connection is counted; a request that arrives over a completed handshake is kept whole
// and answered 404.
class TlsListener {
public:
    explicit TlsListener(const PemFiles& identity);
    ~TlsListener();
    TlsListener(const TlsListener&) = delete;
    TlsListener& operator=(const TlsListener&) = delete;

    std::string origin() const { return "https://127.0.0.1:" + std::to_string(port_); }
    // Both first handle every connection already made (a client that has exited made all of its).
    int connections();
    std::vector<std::string> requests();  // head and body of each, as received

private:
    void settle();
    void serve();
    void handle(int connection);

    void* context_ = nullptr;  // SSL_CTX
    int socket_ = -1;
    int port_ = 0;
    int stop_pipe_[2] = {-1, -1};
    std::mutex mutex_;
    std::condition_variable settled_;
    int settle_requests_ = 0;
    int settles_done_ = 0;
    int connections_ = 0;
    std::vector<std::string> requests_;
    std::thread thread_;
};

}  // namespace authgate::testing
