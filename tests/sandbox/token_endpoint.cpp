#include "token_endpoint.h"

#include <variant>

#include "crypto.h"
#include "entra_error.h"
#include "federation.h"
#include "jwt.h"
#include "sandbox_state.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr std::string_view kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// Microsoft Graph's scope, by its URI or its application id.
bool is_graph_scope(std::string_view scope) {
    scope = trim(scope);
    return iequals(scope, std::string(kGraphResource) + "/.default") ||
           iequals(scope, "00000003-0000-0000-c000-000000000000/.default");
}

// Entra's checks, in the order it reports them: the sign-in ({"via":…}) when the request earns a
// token, else the error.
std::variant<value, EntraError> check_request(SandboxState& state, const HttpRequest& request,
                                              const std::string& tenant_segment) {
    if (request.method != "POST") return entra::post_only();
    if (!state.serves_tenant(tenant_segment)) return entra::tenant_not_found(tenant_segment);
    const auto content_type = request.headers.get("Content-Type");
    const auto form = content_type && istarts_with(*content_type, "application/x-www-form-urlencoded")
                          ? parse_form(request.body)
                          : QueryParameters{};

    const auto grant_type = query_value(form, "grant_type");
    if (!grant_type) return entra::missing_parameter("grant_type");
    if (*grant_type != "client_credentials") return entra::unsupported_grant_type(*grant_type);
    const auto client_id = query_value(form, "client_id");
    if (!client_id) return entra::missing_parameter("client_id");
    if (!iequals(*client_id, state.config.app_id)) return entra::application_not_found(*client_id, state.config.tenant);
    const auto scope = query_value(form, "scope");
    if (!scope) return entra::missing_parameter("scope");
    const auto origins = state.origins();
    if (!is_graph_scope(*scope) && std::none_of(origins.begin(), origins.end(), [&](const std::string& origin) {
            return trim(*scope) == origin + "/.default";
        })) {
        return entra::invalid_scope(*scope);
    }
    if (query_value(form, "client_secret")) return entra::client_secret_not_accepted();
    const auto assertion = query_value(form, "client_assertion");
    if (!assertion || query_value(form, "client_assertion_type") != kAssertionType)
        return entra::missing_client_credential();

    // An assertion whose issuer is not the app, and that names none of its certificates, is a
    // platform's token for a federated identity credential.
    std::string problem;
    if (const auto decoded = decode_jwt(*assertion, problem)) {
        const auto issuer = jwt_string_claim(decoded->payload, "iss");
        if (issuer && !iequals(*issuer, state.config.app_id) &&
            !state.assertions.names_registered_certificate(decoded->header)) {
            auto federated = verify_federated_assertion(state, *decoded);
            if (const auto* error = std::get_if<EntraError>(&federated)) return *error;
            const auto& signed_in = std::get<FederatedSignIn>(federated);
            value record = value::object(true);
            record["via"] = value::string("federated");
            record["credential"] = value::string(signed_in.credential);
            record["issuer"] = value::string(signed_in.issuer);
            record["subject"] = value::string(signed_in.subject);
            return record;
        }
    }

    AssertionExpectations expected{state.config.app_id, {}, state.clock()};
    for (const auto& origin : origins)
        expected.audiences.push_back(origin + "/" + tenant_segment + "/oauth2/v2.0/token");
    if (auto error = state.assertions.verify(*assertion, expected)) return *error;
    value record = value::object(true);
    record["via"] = value::string("certificate");
    return record;
}

// 200 answers that carry no token: what a proxy or captive portal sends, or a broken front end.
HttpResponse garbage_answer(TokenGarbage kind) {
    HttpResponse response;
    switch (kind) {
        case TokenGarbage::not_json:
            response.headers.set("Content-Type", "text/plain");
            response.body = "OK";
            break;
        case TokenGarbage::html:
            response.headers.set("Content-Type", "text/html; charset=utf-8");
            response.body =
                "<!DOCTYPE html><html><head><title>Sign in to continue</title></head>"
                "<body><form method=\"post\" action=\"/portal/login\">Network sign-in required</form></body></html>";
            break;
        case TokenGarbage::no_access_token:
            response = HttpResponse::json(200, value::parse(R"({"token_type":"Bearer","expires_in":3599})"));
            break;
    }
    return response;
}

}  // namespace

std::string AccessTokens::issue(Instant now, std::chrono::seconds lifetime, const std::string& claims,
                                TokenGrant grant) {
    // Tokens a day past expiry are forgotten; until then a client is told its token expired.
    std::erase_if(issued_by_digest_,
                  [now](const auto& entry) { return entry.second.expiry + std::chrono::hours(24) < now; });
    const std::string signature = base64url_encode(random_bytes(48));
    std::string token = base64url_encode(R"({"typ":"JWT","alg":"RS256","kid":"authgate-sandbox"})") + "." +
                        base64url_encode(claims) + "." + signature;
    issued_by_digest_[sha256(token)] = Issued{now + lifetime, std::move(grant)};
    issued_digests_.push_back(hex_upper(sha256(signature)));
    return token;
}

void AccessTokens::expire_all(Instant now) {
    for (auto& [digest, issued] : issued_by_digest_) issued.expiry = std::min(issued.expiry, now);
}

AccessTokens::Check AccessTokens::check(std::string_view token, Instant now) const {
    const auto found = issued_by_digest_.find(sha256(token));
    if (found == issued_by_digest_.end()) return Check::unknown;
    return now < found->second.expiry ? Check::valid : Check::expired;
}

const TokenGrant* AccessTokens::grant(std::string_view token) const {
    const auto found = issued_by_digest_.find(sha256(token));
    return found == issued_by_digest_.end() ? nullptr : &found->second.grant;
}

HttpResponse handle_token_request(SandboxState& state, const HttpRequest& request, const std::string& tenant_segment) {
    state.journal.count_token_request();
    const Instant now = state.clock();
    const std::string correlation_id = request.headers.get("client-request-id").value_or(random_guid());
    if (const auto garbage = state.faults.take_token_garbage()) return garbage_answer(garbage->kind);
    std::variant<value, EntraError> checked = value();
    if (const auto injected = state.faults.take_token_error()) {
        checked = entra::for_code(injected->code);
    } else {
        checked = check_request(state, request, tenant_segment);
    }
    if (const auto* error = std::get_if<EntraError>(&checked)) {
        HttpResponse response = render_entra_error(*error, now, correlation_id);
        response.headers.set("client-request-id", correlation_id);
        response.headers.set("Date", http_date(now));
        return response;
    }

    // Graph's scope earns a Graph token. The sandbox's own origin serves the admin API and Graph
    // alike, so a token for it carries the roles of both.
    const std::string scope = query_value(parse_form(request.body), "scope").value_or("");
    const std::string audience = is_graph_scope(scope) ? std::string(kGraphResource)
                                                       : std::string(trim(scope.substr(0, scope.rfind("/.default"))));
    value sign_in = std::get<value>(checked);
    TokenSubject subject;
    subject.app_id = state.config.app_id;
    subject.display_name = "authgate";
    subject.via = sign_in.at("via").as_string() == "federated" ? SignInVia::federated : SignInVia::certificate;
    const IssuedToken issued = issue_access_token(state, audience, subject, sign_in);
    const auto lifetime = state.config.token_lifetime;
    value body = value::object(true);
    body["token_type"] = value::string("Bearer");
    body["expires_in"] = value::number(static_cast<int64_t>(lifetime.count()));
    body["ext_expires_in"] = value::number(static_cast<int64_t>(lifetime.count()));
    body["access_token"] = value::string(issued.token);
    HttpResponse response = HttpResponse::json(200, body);
    response.headers.set("Cache-Control", "no-store, no-cache");
    response.headers.set("client-request-id", correlation_id);
    response.headers.set("x-ms-request-id", random_guid());
    response.headers.set("Date", http_date(now));
    return response;
}

IssuedToken issue_access_token(SandboxState& state, const std::string& audience, const TokenSubject& subject,
                               value sign_in) {
    const Instant now = state.clock();
    const auto lifetime = state.config.token_lifetime;
    TokenGrant grant;
    grant.audience = audience;
    grant.app_id = subject.app_id;
    grant.via = subject.via;
    if (audience != kGraphResource && subject.exchange_role) {
        grant.roles.push_back("Exchange.ManageAsApp");
        if (state.faults.smtp_send_as_app()) grant.roles.push_back("SMTP.SendAsApp");  // SMTP AUTH with XOAUTH2
    }
    for (const auto& role : state.faults.graph_roles()) grant.roles.push_back(role);
    // The claims Exchange reads, and the tenant's GUID (`tid`) that clients use in URLs and anchors.
    value claims = value::object(true);
    claims["aud"] = value::string(grant.audience);
    claims["iss"] = value::string("https://sts.windows.net/" + state.tenant_guid() + "/");
    claims["iat"] = value::number(unix_seconds(now));
    claims["nbf"] = value::number(unix_seconds(now));
    claims["exp"] = value::number(unix_seconds(now + lifetime));
    claims["app_displayname"] = value::string(subject.display_name);
    claims["appid"] = value::string(subject.app_id);
    if (subject.object_id) claims["oid"] = value::string(*subject.object_id);
    std::vector<value> roles;
    for (const auto& role : grant.roles) roles.push_back(value::string(role));
    claims["roles"] = value::array(roles);
    if (subject.object_id) claims["sub"] = value::string(*subject.object_id);
    claims["tid"] = value::string(state.tenant_guid());
    if (subject.resource_id) claims["xms_mirid"] = value::string(*subject.resource_id);
    sign_in["audience"] = value::string(audience);
    state.sign_ins.push_back(std::move(sign_in));
    return IssuedToken{state.tokens.issue(now, lifetime, claims.serialize(), std::move(grant)), now, now + lifetime};
}

std::optional<std::string> audience_of_resource(const SandboxState& state, std::string_view resource) {
    std::string_view trimmed = trim(resource);
    if (trimmed.ends_with('/')) trimmed.remove_suffix(1);
    if (iequals(trimmed, kGraphResource) || iequals(trimmed, "00000003-0000-0000-c000-000000000000"))
        return std::string(kGraphResource);
    for (const auto& origin : state.origins()) {
        if (trimmed == origin) return origin;
    }
    return std::nullopt;
}

}  // namespace sandbox
