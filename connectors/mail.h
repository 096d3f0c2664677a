#pragma once
// Mail sent as the app itself, with no password anywhere: Microsoft Graph's sendMail (application
// permission Mail.Send, scoped to the sender mailbox with Exchange's RBAC for Applications), or SMTP
// with OAuth (STARTTLS, then SASL XOAUTH2) to High Volume Email or smtp.office365.com, through
// libcurl. The bearer goes to the Graph endpoint or the SMTP host configured, over verified TLS,
// and nowhere else; neither it nor the AUTH string is ever logged or kept.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "connectors/http.h"
#include "connectors/token_client.h"
#include "policies/time.h"

namespace authgate {

struct MailMessage {
    std::string from;  // the sender mailbox
    std::vector<std::string> to;
    std::vector<std::string> cc;
    std::string subject;                                       // one line
    std::string text;                                          // plain text, UTF-8
    std::string message_id;                                    // "<…@…>", made by make_message_id
    std::vector<std::pair<std::string, std::string>> headers;  // more headers, names starting X-
};

// "<authgate.{32 hex}@{sender's domain}>": random, so that it names one message.
std::string make_message_id(const std::string& sender);

// Why a message was not sent, and whether the next run should try it again.
enum class MailFailure {
    transient,   // throttled, unavailable, cut off: the next run tries again
    recipient,   // a recipient was refused (no such recipient, external to HVE)
    sender,      // the sender mailbox or the app's right to send as it
    credential,  // the token was refused
    other,
};

class MailError : public ConnectorError {
public:
    MailError(const std::string& message, MailFailure failure) : ConnectorError(message), failure_(failure) {}
    MailFailure failure() const { return failure_; }

private:
    MailFailure failure_;
};

class MailTransport {
public:
    virtual ~MailTransport() = default;
    // Sends `message`; throws MailError (naming the answer and what to do) when it was not accepted.
    virtual void send(const MailMessage& message) = 0;
    virtual std::string name() const = 0;  // "graph", "smtp"
    // Where the mail goes, for people: "https://graph.microsoft.com", "smtp://smtp.hve.mx.microsoft:587".
    virtual std::string where() const = 0;
};

// POST {graph}/v1.0/users/{sender}/sendMail with a Graph token from `tokens`: 202 is success.
// Retries 429, 503 and 504 (at most three tries, honouring Retry-After up to 30 s; `sleep`
// waits) and once with a fresh token after 401; each try is sent at most once
// (ConnectionUse::at_most_once), so that the HTTP client never sends a message twice by itself.
std::unique_ptr<MailTransport> make_graph_mail(HttpTransport& http, TokenClient& tokens, std::string graph_endpoint,
                                               RetrySleep sleep = sleep_for);

struct SmtpSettings {
    std::string host;  // smtp.hve.mx.microsoft, smtp.office365.com
    int port = 587;
    std::optional<std::string> ca_bundle;  // more trust anchors, as for HTTPS
    std::chrono::seconds timeout{120};
};

// The audience of the SMTP token: High Volume Email's hosts take https://outlook.office.com;
// smtp.office365.com (and any other host) takes Exchange's own audience, `exchange_audience`.
std::string smtp_token_audience(const std::string& host, const std::string& exchange_audience);

// SMTP on `settings.host`: STARTTLS required and verified, then AUTH XOAUTH2 with the sender as
// the user and a token from `tokens`. A token the server calls expired (5.7.142, 5.7.143) is
// asked anew once.
std::unique_ptr<MailTransport> make_smtp_mail(SmtpSettings settings, TokenClient& tokens);

// The message as SMTP carries it: RFC 5322 headers (a non-ASCII subject as an RFC 2047 word),
// then the text as UTF-8 in base64, lines of 76.
std::string mime_message(const MailMessage& message, Instant date);

// What an SMTP server's refusal means, and what to do: "535 5.7.139 …" → the advice.
std::string smtp_advice(const std::string& reply);

}  // namespace authgate
