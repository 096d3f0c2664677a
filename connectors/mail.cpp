#include "connectors/mail.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cpprest/json.h>
#include <algorithm>
#include <ctime>
#include <mutex>

#include "connectors/graph_usage.h"
#include "policies/name.h"
#include "policies/printable.h"

namespace authgate {
namespace {

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(bytes.data()),
                                        static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

bool is_ascii(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// A header line's value: no line breaks (they would start a header of their own).
std::string header_value(std::string_view text) {
    std::string value;
    for (const char c : text) value += (c == '\r' || c == '\n') ? ' ' : c;
    return value;
}

// RFC 2047: "=?UTF-8?B?…?=" words of at most 45 bytes each, so that no line grows long.
std::string encoded_words(std::string_view text) {
    if (is_ascii(text)) return header_value(text);
    std::string words;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t length = std::min<std::size_t>(45, text.size() - at);
        // Never split a UTF-8 sequence: step back over continuation bytes.
        while (at + length < text.size() && length > 0 &&
               (static_cast<unsigned char>(text[at + length]) & 0xC0) == 0x80)
            --length;
        if (length == 0) length = std::min<std::size_t>(4, text.size() - at);
        words += (words.empty() ? "" : "\r\n ") + std::string("=?UTF-8?B?") +
                 base64(header_value(text.substr(at, length))) + "?=";
        at += length;
    }
    return words;
}

std::string address_list(const std::vector<std::string>& addresses) {
    std::string list;
    for (const std::string& address : addresses) list += (list.empty() ? "" : ", ") + header_value(address);
    return list;
}

std::string rfc5322_date(Instant date) {
    const std::time_t seconds =
        std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::system_clock::duration>(date));
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[64];
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S +0000", &parts);
    return text;
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// ---------------------------------------------------------------------------------------------
// Microsoft Graph

class GraphMail : public MailTransport {
public:
    GraphMail(HttpTransport& http, TokenClient& tokens, std::string graph_endpoint, RetrySleep sleep)
        : http_(http), tokens_(tokens), endpoint_(trim_slash(std::move(graph_endpoint))), sleep_(std::move(sleep)) {}

    std::string name() const override { return "graph"; }
    std::string where() const override { return origin_of(endpoint_); }

    void send(const MailMessage& message) override {
        using web::json::value;
        const auto recipients = [](const std::vector<std::string>& addresses) {
            value list = value::array();
            for (std::size_t i = 0; i < addresses.size(); ++i) {
                value address = value::object();
                address["address"] = value::string(addresses[i]);
                value recipient = value::object();
                recipient["emailAddress"] = address;
                list[i] = recipient;
            }
            return list;
        };
        value body = value::object(true);
        body["contentType"] = value::string("Text");
        body["content"] = value::string(message.text);
        value mail = value::object(true);
        mail["subject"] = value::string(header_value(message.subject));
        mail["body"] = body;
        mail["toRecipients"] = recipients(message.to);
        if (!message.cc.empty()) mail["ccRecipients"] = recipients(message.cc);
        value headers = value::array();
        std::size_t count = 0;
        for (const auto& [name, text] : message.headers) {
            value header = value::object(true);
            header["name"] = value::string(name);
            header["value"] = value::string(header_value(text));
            headers[count++] = header;
        }
        if (count > 0) mail["internetMessageHeaders"] = headers;
        value request = value::object(true);
        request["message"] = mail;
        request["saveToSentItems"] = value::boolean(false);
        const std::string url = endpoint_ + "/v1.0/users/" + percent_encode(message.from) + "/sendMail";
        const std::string payload = request.serialize();

        bool refreshed = false;
        for (int attempt = 1;; ++attempt) {
            HttpRequest post{url,
                             {{"Authorization", "Bearer " + tokens_.bearer()}, {"Content-Type", "application/json"}},
                             payload,
                             ConnectionUse::at_most_once};
            HttpResponse response;
            try {
                response = http_.post(post);
            } catch (const TransportError& error) {
                // Whether Graph took it is not known: the next run decides, never a resend here.
                throw MailError(std::string("sendMail to ") + where() + " failed: " + error.what(),
                                MailFailure::transient);
            }
            if (response.status == 202 || response.status == 200) return;
            if (response.status == 401 && !refreshed) {
                refreshed = true;
                tokens_.invalidate();
                continue;
            }
            if ((response.status == 429 || response.status == 503 || response.status == 504) && attempt < 3) {
                std::chrono::milliseconds wait = std::chrono::seconds(attempt * 2);
                if (const std::string after = response.header("retry-after"); !after.empty()) {
                    try {
                        wait = std::chrono::seconds(std::stoi(after));
                    } catch (const std::exception&) {
                        // An HTTP date or garbage: the backoff above.
                    }
                }
                sleep_(std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(30)));
                continue;
            }
            throw refusal(response, message.from);
        }
    }

private:
    MailError refusal(const HttpResponse& response, const std::string& sender) const {
        const GraphError error = graph_error(response);
        const std::string answer = "sendMail as " + printable(sender) + " answered HTTP " +
                                   std::to_string(response.status) + (error.code.empty() ? "" : " " + error.code) +
                                   ": " + error.message;
        if (response.status == 403 && contains(error.message, "Access to OData is disabled"))
            return {answer + ". An application access policy leaves this sender out of the app's reach: add the "
                             "sender to the policy's group, or move to RBAC for Applications (README, \"Mail to "
                             "owners\")",
                    MailFailure::sender};
        if (response.status == 403)
            return {answer + ". The app may not send as this mailbox: grant the application permission Mail.Send "
                             "(or the Exchange role assignment \"Application Mail.Send\" scoped to the sender); a "
                             "new assignment can take up to two hours to work",
                    MailFailure::sender};
        if (response.status == 404)
            return {answer + ". The sender must be a mailbox in Exchange Online: check [notifications.email] "
                             "sender",
                    MailFailure::sender};
        if (response.status == 400 && contains(error.code, "Recipient"))
            return {answer + ". A recipient address was refused: check the owner and notify addresses",
                    MailFailure::recipient};
        if (response.status == 401) return {answer + ". The Graph token was refused twice", MailFailure::credential};
        if (response.status == 429 || response.status >= 500) return {answer, MailFailure::transient};
        return {answer, MailFailure::other};
    }

    HttpTransport& http_;
    TokenClient& tokens_;
    std::string endpoint_;
    RetrySleep sleep_;
};

// ---------------------------------------------------------------------------------------------
// SMTP with OAuth, through libcurl

void curl_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Upload {
    std::string_view data;
    std::size_t at = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* upload = static_cast<Upload*>(user);
    const std::size_t room = size * count;
    const std::size_t length = std::min(room, upload->data.size() - upload->at);
    std::copy_n(upload->data.data() + upload->at, length, buffer);
    upload->at += length;
    return length;
}

// The server's replies only (CURLINFO_HEADER_IN): what authgate sends is never looked at, so the
// AUTH line with the token goes nowhere.
int record_replies(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
    if (type != CURLINFO_HEADER_IN) return 0;
    auto* replies = static_cast<std::vector<std::string>*>(user);
    std::string line(data, size);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    replies->push_back(printable(line.substr(0, 400)));
    if (replies->size() > 64) replies->erase(replies->begin());
    return 0;
}

class SmtpMail : public MailTransport {
public:
    SmtpMail(SmtpSettings settings, TokenClient& tokens) : settings_(std::move(settings)), tokens_(tokens) {
        curl_once();
    }

    std::string name() const override { return "smtp"; }
    std::string where() const override { return "smtp://" + settings_.host + ":" + std::to_string(settings_.port); }

    void send(const MailMessage& message) override {
        const std::string data = mime_message(message, now_utc());
        bool refreshed = false;
        for (;;) {
            const Attempt attempt = try_send(message, data);
            if (attempt.code == CURLE_OK) return;
            const std::string reply = attempt.replies.empty() ? std::string() : attempt.replies.back();
            // High Volume Email says a token is about to expire or has: ask for a new one, once.
            if (!refreshed && (contains(reply, "5.7.142") || contains(reply, "5.7.143"))) {
                refreshed = true;
                tokens_.invalidate();
                continue;
            }
            throw failure(attempt, reply);
        }
    }

private:
    struct Attempt {
        CURLcode code = CURLE_OK;
        long response = 0;
        std::string error;
        std::vector<std::string> replies;
    };

    Attempt try_send(const MailMessage& message, const std::string& data) {
        Attempt attempt;
        const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
        if (!curl) throw MailError("SMTP: libcurl could not start", MailFailure::other);
        CURL* handle = curl.get();
        curl_slist* recipients = nullptr;
        for (const auto* list : {&message.to, &message.cc})
            for (const std::string& address : *list)
                recipients = curl_slist_append(recipients, ("<" + address + ">").c_str());
        const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> owned(recipients, curl_slist_free_all);
        const std::string url = where();
        const std::string from = "<" + message.from + ">";
        const std::string token = tokens_.bearer();
        Upload upload{data};
        char error[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
        curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "smtp");
        curl_easy_setopt(handle, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));  // STARTTLS or nothing
        curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(handle, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
        if (settings_.ca_bundle) curl_easy_setopt(handle, CURLOPT_CAINFO, settings_.ca_bundle->c_str());
        curl_easy_setopt(handle, CURLOPT_USERNAME, message.from.c_str());
        curl_easy_setopt(handle, CURLOPT_XOAUTH2_BEARER, token.c_str());
        curl_easy_setopt(handle, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
        curl_easy_setopt(handle, CURLOPT_MAIL_FROM, from.c_str());
        curl_easy_setopt(handle, CURLOPT_MAIL_RCPT, recipients);
        curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(handle, CURLOPT_READFUNCTION, read_upload);
        curl_easy_setopt(handle, CURLOPT_READDATA, &upload);
        curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size()));
        curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(handle, CURLOPT_TIMEOUT, static_cast<long>(settings_.timeout.count()));
        curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
        curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, record_replies);
        curl_easy_setopt(handle, CURLOPT_DEBUGDATA, &attempt.replies);
        curl_easy_setopt(handle, CURLOPT_VERBOSE, 1L);  // to the function above, which keeps the replies only
        attempt.code = curl_easy_perform(handle);
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &attempt.response);
        attempt.error = error[0] ? printable(error) : curl_easy_strerror(attempt.code);
        return attempt;
    }

    MailError failure(const Attempt& attempt, const std::string& reply) const {
        std::string message = "SMTP to " + where() + " failed: " + attempt.error;
        if (!reply.empty()) message += " (the server answered \"" + reply + "\")";
        const std::string advice = smtp_advice(reply);
        if (!advice.empty()) message += ". " + advice;
        switch (attempt.code) {
            case CURLE_PEER_FAILED_VERIFICATION:
            case CURLE_SSL_CACERT_BADFILE:
            case CURLE_SSL_CONNECT_ERROR:
                return {message + ". TLS is required and verified; nothing was sent", MailFailure::other};
            case CURLE_USE_SSL_FAILED:
                return {message + ". The server offers no STARTTLS; authgate sends no token without TLS",
                        MailFailure::other};
            case CURLE_LOGIN_DENIED:
                return {message, contains(reply, "5.7.139") ? MailFailure::sender : MailFailure::credential};
            case CURLE_COULDNT_RESOLVE_HOST:
            case CURLE_COULDNT_CONNECT:
            case CURLE_OPERATION_TIMEDOUT:
            case CURLE_GOT_NOTHING:
            case CURLE_SEND_ERROR:
            case CURLE_RECV_ERROR: return {message, MailFailure::transient};
            default: break;
        }
        if (attempt.response >= 400 && attempt.response < 500) return {message, MailFailure::transient};
        if (contains(reply, "5.1.") || contains(reply, "5.5.105")) return {message, MailFailure::recipient};
        if (contains(reply, "5.7.60") || contains(reply, "5.7.240")) return {message, MailFailure::sender};
        return {message, MailFailure::other};
    }

    SmtpSettings settings_;
    TokenClient& tokens_;
};

}  // namespace

std::string make_message_id(const std::string& sender) {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw ConnectorError("no random bytes for a Message-ID");
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    for (const unsigned char byte : bytes) {
        hex += digits[byte >> 4];
        hex += digits[byte & 15];
    }
    const std::size_t at = sender.rfind('@');
    const std::string domain = at == std::string::npos ? "authgate.invalid" : sender.substr(at + 1);
    return "<authgate." + hex + "@" + domain + ">";
}

std::unique_ptr<MailTransport> make_graph_mail(HttpTransport& http, TokenClient& tokens, std::string graph_endpoint,
                                               RetrySleep sleep) {
    return std::make_unique<GraphMail>(http, tokens, std::move(graph_endpoint), std::move(sleep));
}

std::unique_ptr<MailTransport> make_smtp_mail(SmtpSettings settings, TokenClient& tokens) {
    return std::make_unique<SmtpMail>(std::move(settings), tokens);
}

std::string smtp_token_audience(const std::string& host, const std::string& exchange_audience) {
    const std::string lower = fold_case(host);
    if (lower.ends_with("hve.mx.microsoft") || lower == "smtp-hve.office365.com") return "https://outlook.office.com";
    return exchange_audience;
}

std::string mime_message(const MailMessage& message, Instant date) {
    std::string mime;
    const auto header = [&](std::string_view name, const std::string& value) {
        mime += std::string(name) + ": " + value + "\r\n";
    };
    header("Date", rfc5322_date(date));
    header("From", header_value(message.from));
    header("To", address_list(message.to));
    if (!message.cc.empty()) header("Cc", address_list(message.cc));
    header("Subject", encoded_words(message.subject));
    header("Message-ID", header_value(message.message_id));
    for (const auto& [name, value] : message.headers) header(header_value(name), header_value(value));
    header("MIME-Version", "1.0");
    header("Content-Type", "text/plain; charset=utf-8");
    header("Content-Transfer-Encoding", "base64");
    mime += "\r\n";
    const std::string body = base64(message.text);
    for (std::size_t at = 0; at < body.size(); at += 76) mime += body.substr(at, 76) + "\r\n";
    return mime;
}

std::string smtp_advice(const std::string& reply) {
    if (contains(reply, "5.7.139") && contains(reply, "SmtpClientAuthentication is disabled"))
        return "SMTP AUTH is off for the sender mailbox (authgate's own enforcement turns it off): send through "
               "High Volume Email (smtp_host = \"smtp.hve.mx.microsoft\"), which works with SMTP AUTH off, or use "
               "transport = \"graph\"";
    if (contains(reply, "5.7.139"))
        return "the organisation refuses this sign-in (security defaults, Conditional Access or an authentication "
               "policy): use transport = \"graph\", or exclude the app's sign-in from the policy";
    if (contains(reply, "5.7.3"))
        return "the token was refused: for smtp.office365.com grant the application permission SMTP.SendAsApp "
               "(Office 365 Exchange Online) with admin consent, register the app with New-ServicePrincipal and "
               "give it FullAccess on the sender (Add-MailboxPermission); for High Volume Email grant Mail.Send of "
               "Office 365 Exchange Online and add the app with Add-HVEAppAccess";
    if (contains(reply, "5.7.144"))
        return "the app lacks the API permission High Volume Email needs (Mail.Send of "
               "Office 365 Exchange Online)";
    if (contains(reply, "5.7.240")) return "the app is not on the HVE account's allowed apps: Add-HVEAppAccess";
    if (contains(reply, "5.7.60"))
        return "the app may not send as this sender: the sender must be the mailbox the app was given (FullAccess, "
               "or Send As)";
    if (contains(reply, "5.5.105"))
        return "High Volume Email sends to internal recipients only: use transport = \"graph\" for owners outside "
               "the organisation";
    if (contains(reply, "5.1.10") || contains(reply, "5.1.1"))
        return "a recipient does not exist: check the owner and notify addresses";
    return "";
}

}  // namespace authgate
