#include "connectors/trace.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

namespace authgate {
namespace {

constexpr const char* removed = "[removed]";

bool token_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; }

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// Replaces what follows each occurrence of `key` (case-insensitive), up to the first character
// `ends` accepts, by "[removed]".
void remove_after(std::string& text, const std::string& key, bool (*ends)(char)) {
    const std::string folded_key = lower(key);
    std::size_t at = 0;
    while (true) {
        const std::string folded = lower(text);
        at = folded.find(folded_key, at);
        if (at == std::string::npos) return;
        const std::size_t start = at + key.size();
        std::size_t end = start;
        while (end < text.size() && !ends(text[end])) ++end;
        if (end > start && text.compare(start, end - start, removed) != 0) text.replace(start, end - start, removed);
        at = start + std::strlen(removed);
    }
}

// Replaces the value of each JSON string member named `name` (case-insensitive, whitespace
// around the colon allowed; escaped quotes inside it kept in) by "[removed]".
void remove_json_member(std::string& text, const std::string& name) {
    const std::string key = lower("\"" + name + "\"");
    std::string folded = lower(text);  // kept in step with `text`: one fold however many members
    std::size_t at = 0;
    while (true) {
        at = folded.find(key, at);
        if (at == std::string::npos) return;
        std::size_t next = at + key.size();
        const auto skip_space = [&] {
            while (next < text.size() && std::isspace(static_cast<unsigned char>(text[next]))) ++next;
        };
        skip_space();
        if (next >= text.size() || text[next] != ':') {
            at = next;
            continue;
        }
        ++next;
        skip_space();
        if (next >= text.size() || text[next] != '"') {
            at = next;
            continue;
        }
        const std::size_t start = next + 1;
        std::size_t end = start;
        while (end < text.size() && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
        end = std::min(end, text.size());
        if (text.compare(start, end - start, removed) != 0) {
            text.replace(start, end - start, removed);
            folded.replace(start, end - start, removed);
        }
        at = start + std::strlen(removed);
    }
}

bool ends_token(char c) { return !token_char(c) && c != '+' && c != '/' && c != '='; }
bool ends_form_value(char c) { return c == '&' || c == '\n' || c == '"'; }

// Anything shaped like a JWT: "eyJ" (base64url of '{"') and base64url with at least one dot.
void remove_jwts(std::string& text) {
    std::size_t at = 0;
    while ((at = text.find("eyJ", at)) != std::string::npos) {
        if (at > 0 && token_char(text[at - 1])) {
            at += 3;
            continue;
        }
        std::size_t end = at;
        while (end < text.size() && token_char(text[end])) ++end;
        if (text.find('.', at) < end) {
            text.replace(at, end - at, removed);
            at += std::strlen(removed);
        } else {
            at = end;
        }
    }
}

std::string file_safe(const std::string& text) {
    std::string safe;
    for (char c : text) safe += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
    return safe.substr(0, 60);
}

// The last segment of a URL's path: "InvokeCommand", "$batch", "token".
std::string last_segment(const std::string& url) {
    std::string path = url.substr(0, url.find_first_of("?#"));
    while (!path.empty() && path.back() == '/') path.pop_back();
    return path.substr(path.rfind('/') + 1);
}

// Location: a report's redirect is a pre-authenticated download link, a secret while it lives.
// X-IDENTITY-HEADER: the App Service identity endpoint's anti-forgery secret.
const char* secret_headers[] = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-ms-client-assertion",
                                "location",      "x-identity-header"};

// A GET that carries no credential of its own follows a pre-authenticated link (a report's
// download): the link is the credential, so only its origin is shown.
std::string shown_url(const HttpRequest& request) {
    const bool credentialed = std::any_of(request.headers.begin(), request.headers.end(),
                                          [](const auto& header) { return lower(header.first) == "authorization"; });
    if (request.method != "GET" || credentialed) return remove_secrets(request.url);
    const std::size_t scheme = request.url.find("://");
    const std::size_t path = request.url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return request.url.substr(0, path) + "/" + std::string(removed) + " (a pre-authenticated link)";
}

bool secret_header(const std::string& name) {
    const std::string folded = lower(name);
    for (const char* secret : secret_headers)
        if (folded == secret) return true;
    return false;
}

class TracingTransport : public HttpTransport {
public:
    TracingTransport(std::unique_ptr<HttpTransport> inner, std::filesystem::path folder)
        : inner_(std::move(inner)), folder_(std::move(folder)) {}

    HttpResponse post(const HttpRequest& request) override {
        const int number = ++sequence_;
        std::string text = request.method + " " + shown_url(request) + "\n";
        for (const auto& [name, value] : request.headers)
            text += name + ": " + (secret_header(name) ? std::string(removed) : remove_secrets(value)) + "\n";
        text += "\n" + remove_secrets(request.body) + "\n";
        const auto started = std::chrono::steady_clock::now();
        const auto elapsed = [&] {
            return std::to_string(
                       std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                           .count()) +
                   " ms";
        };
        try {
            HttpResponse response = inner_->post(request);
            text += "\n--- answer: HTTP " + std::to_string(response.status) + " after " + elapsed() + "\n";
            for (const auto& [name, value] : response.headers)
                text += name + ": " + (secret_header(name) ? std::string(removed) : remove_secrets(value)) + "\n";
            // NUL bytes (a 403's body) are shown, not written raw.
            std::string body = remove_secrets(response.body);
            std::string shown;
            for (char c : body) shown += c == '\0' ? std::string("\\0") : std::string(1, c);
            text += "\n" + shown + "\n";
            write(number, shown_url(request), text);
            return response;
        } catch (const std::exception& error) {
            text += "\n--- no answer after " + elapsed() + ": " + remove_secrets(error.what()) + "\n";
            write(number, shown_url(request), text);
            throw;
        }
    }

private:
    void write(int number, const std::string& url, const std::string& text) {
        char name[64];
        std::snprintf(name, sizeof name, "%d-%04d-", static_cast<int>(::getpid()), number);
        const std::filesystem::path path = folder_ / (name + file_safe(last_segment(url)) + ".txt");
        // Exclusively, never through a link planted in the folder; a trace that cannot be
        // written does not stop the run (it is a diagnostic).
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) return;
        std::size_t written = 0;
        while (written < text.size()) {
            const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
            if (n <= 0) break;
            written += static_cast<std::size_t>(n);
        }
        ::close(fd);
    }

    std::unique_ptr<HttpTransport> inner_;
    std::filesystem::path folder_;
    std::atomic<int> sequence_{0};
};

}  // namespace

std::string remove_secrets(const std::string& text) {
    std::string cleaned = text;
    remove_after(cleaned, "Bearer ", ends_token);
    remove_after(cleaned, "client_assertion=", ends_form_value);
    // Tokens in JSON answers and bodies; "value" is GitHub's OIDC token answer, "oidcToken" Azure
    // DevOps' (a member "value" that holds a string anywhere is removed with it).
    for (const char* member :
         {"access_token", "refresh_token", "id_token", "Authorization", "client_assertion", "value", "oidcToken"})
        remove_json_member(cleaned, member);
    remove_jwts(cleaned);
    return cleaned;
}

std::unique_ptr<HttpTransport> make_tracing_transport(std::unique_ptr<HttpTransport> inner, const std::string& folder) {
    std::error_code error;
    if (!std::filesystem::exists(folder, error)) {
        if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST)
            throw ConnectorError("--trace " + folder + ": cannot create the folder: " + std::strerror(errno));
    }
    struct stat info {};
    if (::lstat(folder.c_str(), &info) != 0 || !S_ISDIR(info.st_mode))
        throw ConnectorError("--trace " + folder + ": not a folder (a link is not followed)");
    return std::make_unique<TracingTransport>(std::move(inner), folder);
}

}  // namespace authgate
