#include "federation.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "client_assertion.h"
#include "oidc_issuer.h"
#include "platform_endpoints.h"
#include "sandbox_state.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr size_t kMaximumCredentials = 20;
constexpr size_t kMaximumClaimLength = 600;
constexpr std::array<const char*, 2> kOptionalTimes = {"nbf", "iat"};

std::vector<FederatedCredential> default_credentials(const SandboxState& state) {
    const PlatformSettings defaults;
    const std::vector<std::string> audiences = {kTokenExchangeAudience};
    return {
        {"github-exchange-online", issuer_url(state, IssuerName::github), github_subject(defaults.github), audiences},
        {"azure-devops-exchange-online", "https://vstoken.dev.azure.com/" + defaults.azure_devops.organization_id,
         azure_devops_subject(defaults.azure_devops, defaults.azure_devops.service_connections.front()), audiences},
        {"kubernetes-authgate", issuer_url(state, IssuerName::kubernetes), kubernetes_subject(defaults.kubernetes),
         audiences},
    };
}

[[noreturn]] void refuse_credential(const std::string& where, const std::string& expectation) {
    throw std::invalid_argument(where + ": " + expectation);
}

std::string bounded_text(const value& object, const std::string& where, const char* name) {
    if (!object.has_field(name) || !object.at(name).is_string() || object.at(name).as_string().empty())
        refuse_credential(where + "." + name, "must be a non-empty string");
    const std::string content = object.at(name).as_string();
    if (content.size() > kMaximumClaimLength) refuse_credential(where + "." + name, "must be at most 600 characters");
    return content;
}

bool valid_name(const std::string& name) {
    if (name.size() < 3 || name.size() > 120 || !std::isalnum(static_cast<unsigned char>(name.front()))) return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; });
}

FederatedCredential read_credential(const SandboxState& state, const value& object, const std::string& where,
                                    size_t index) {
    if (!object.is_object()) refuse_credential(where, "must be an object with issuer, subject and audiences");
    for (const auto& [name, ignored] : object.as_object()) {
        if (name != "name" && name != "issuer" && name != "subject" && name != "audiences")
            refuse_credential(where, "has no member '" + name + "'");
    }
    FederatedCredential credential;
    credential.name = object.has_field("name") ? bounded_text(object, where, "name")
                                               : "credential-" + std::to_string(index + 1);
    if (!valid_name(credential.name))
        refuse_credential(where + ".name", "must be 3 to 120 letters, digits, '-' or '_', starting alphanumeric");
    credential.issuer = bounded_text(object, where, "issuer");
    // The sandbox's own issuers may be named instead of spelt out.
    if (const auto named = issuer_by_name(credential.issuer)) credential.issuer = issuer_url(state, *named);
    if (trim(credential.issuer) != credential.issuer)
        refuse_credential(where + ".issuer", "must not begin or end with white space");
    credential.subject = bounded_text(object, where, "subject");
    credential.audiences = {kTokenExchangeAudience};
    if (object.has_field("audiences")) {
        const value& audiences = object.at("audiences");
        if (!audiences.is_array() || audiences.size() != 1 || !audiences.at(0).is_string() ||
            audiences.at(0).as_string().empty() || audiences.at(0).as_string().size() > kMaximumClaimLength) {
            refuse_credential(where + ".audiences", "must be a list of exactly one audience, as Entra requires");
        }
        credential.audiences = {audiences.at(0).as_string()};
    }
    return credential;
}

std::vector<FederatedCredential> read_credentials(const SandboxState& state, const value& document) {
    std::vector<FederatedCredential> credentials;
    if (document.is_array()) {
        for (size_t i = 0; i < document.size(); ++i)
            credentials.push_back(
                read_credential(state, document.at(i), "federated_credentials[" + std::to_string(i) + "]", i));
    } else {
        credentials = federated_credentials(state);
        credentials.push_back(read_credential(state, document, "federated_credential", credentials.size()));
    }
    if (credentials.size() > kMaximumCredentials)
        throw std::invalid_argument("an application has at most 20 federated identity credentials");
    for (size_t i = 0; i < credentials.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
            if (iequals(credentials[i].name, credentials[j].name))
                throw std::invalid_argument("two federated identity credentials are named '" + credentials[i].name +
                                            "'");
            if (credentials[i].issuer == credentials[j].issuer && credentials[i].subject == credentials[j].subject)
                throw std::invalid_argument("two federated identity credentials have the issuer '" +
                                            credentials[i].issuer + "' and the subject '" + credentials[i].subject +
                                            "'");
        }
    }
    return credentials;
}

// The audiences of the token: aud as a string or a list of strings; nullopt when it is neither.
std::optional<std::vector<std::string>> audiences_of(const value& payload) {
    if (!payload.has_field("aud")) return std::nullopt;
    const value& audience = payload.at("aud");
    if (audience.is_string()) return std::vector<std::string>{audience.as_string()};
    if (!audience.is_array() || audience.size() == 0) return std::nullopt;
    std::vector<std::string> audiences;
    for (const value& item : audience.as_array()) {
        if (!item.is_string()) return std::nullopt;
        audiences.push_back(item.as_string());
    }
    return audiences;
}

HttpResponse credential_problem(int status, const std::string& message) {
    value body = value::object(true);
    body["error"] = value::string(message);
    return HttpResponse::json(status, body);
}

}  // namespace

std::vector<FederatedCredential> federated_credentials(const SandboxState& state) {
    return state.federated_credentials ? *state.federated_credentials : default_credentials(state);
}

value federated_credentials_json(const std::vector<FederatedCredential>& credentials) {
    std::vector<value> list;
    for (const auto& credential : credentials) {
        value item = value::object(true);
        item["name"] = value::string(credential.name);
        item["issuer"] = value::string(credential.issuer);
        item["subject"] = value::string(credential.subject);
        std::vector<value> audiences;
        for (const auto& audience : credential.audiences) audiences.push_back(value::string(audience));
        item["audiences"] = value::array(audiences);
        list.push_back(item);
    }
    return value::array(list);
}

std::variant<FederatedSignIn, EntraError> verify_federated_assertion(SandboxState& state, const DecodedJwt& jwt) {
    // The header and the claims the match needs.
    if (jwt_string_claim(jwt.header, "alg") != "RS256") {
        return entra::malformed_assertion("A federated identity credential accepts tokens signed with RS256 only.");
    }
    const auto issuer = jwt_string_claim(jwt.payload, "iss");
    const auto subject = jwt_string_claim(jwt.payload, "sub");
    const auto audiences = audiences_of(jwt.payload);
    if (!issuer || !subject || !audiences) {
        return entra::malformed_assertion("The claims iss and sub must be strings, aud a string or a list of strings.");
    }
    const auto expiry = jwt_time_claim(jwt.payload, "exp");
    const bool times_are_numbers = std::all_of(kOptionalTimes.begin(), kOptionalTimes.end(), [&](const char* n) {
        return !jwt.payload.has_field(n) || jwt.payload.at(n).is_number();
    });
    if (!expiry || !times_are_numbers) {
        return entra::malformed_assertion("The claim exp must be a number (seconds since 1970), and nbf and iat too if "
                                          "sent.");
    }

    // A federated identity credential with exactly this issuer, then this subject, then an audience
    // of the token.
    const bool generic = state.config.behaviours.generic_federation_errors;
    const auto no_record = [&] { return entra::no_federated_record(*issuer, *subject, audiences->front()); };
    std::vector<FederatedCredential> candidates;
    for (const auto& credential : federated_credentials(state)) {
        if (credential.issuer == *issuer) candidates.push_back(credential);
    }
    if (candidates.empty()) return generic ? no_record() : entra::no_federated_issuer(*issuer);
    const bool subject_differs_in_case = std::any_of(candidates.begin(), candidates.end(), [&](const auto& c) {
        return c.subject != *subject && iequals(c.subject, *subject);
    });
    std::erase_if(candidates, [&](const auto& credential) { return credential.subject != *subject; });
    if (candidates.empty()) {
        if (generic) return no_record();
        return subject_differs_in_case ? entra::federated_subject_case(*subject)
                                       : entra::no_federated_subject(*subject);
    }
    const auto match = std::find_if(candidates.begin(), candidates.end(), [&](const FederatedCredential& credential) {
        return std::any_of(audiences->begin(), audiences->end(), [&](const std::string& audience) {
            return std::find(credential.audiences.begin(), credential.audiences.end(), audience) !=
                   credential.audiences.end();
        });
    });
    if (match == candidates.end()) return generic ? no_record() : entra::no_federated_audience(audiences->front());
    if (state.faults.take_federation_propagating()) return no_record();

    // The issuer's published key, by the kid (or x5t) of the header, and the signature.
    const auto kid = jwt_string_claim(jwt.header, "kid");
    const auto x5t = jwt_string_claim(jwt.header, "x5t");
    const std::string key_id = kid.value_or(x5t.value_or(""));
    const auto known = issuer_by_url(state, match->issuer);
    const IssuerKey* key = known ? &issuer_key(*known) : nullptr;
    if (key == nullptr || (kid ? *kid != key->kid : x5t != key->x5t))
        return entra::federated_key_not_found(key_id, *issuer);
    if (!verify_rs256(key->key.get(), jwt)) return entra::federated_signature_invalid(key_id);

    // Its lifetime, with the five minutes of skew certificate assertions get. A platform token may
    // be presented more than once (a token file is read at every sign-in): no jti is remembered.
    const Instant now = state.clock();
    const auto not_before = jwt_time_claim(jwt.payload, "nbf");
    const Instant valid_from = not_before.value_or(jwt_time_claim(jwt.payload, "iat").value_or(*expiry));
    if ((not_before && *not_before > now + ClientAssertionVerifier::kClockSkew) || *expiry <= now) {
        return entra::outside_time_range(now, valid_from, *expiry);
    }
    return FederatedSignIn{match->name, *issuer, *subject};
}

HttpResponse handle_federated_credentials_control(SandboxState& state, const HttpRequest& request) {
    if (request.method == "DELETE") {
        state.federated_credentials = std::vector<FederatedCredential>{};
    } else if (request.method == "POST") {
        try {
            const value document = value::parse(request.body);
            if (document.is_string() && document.as_string() == "defaults") {
                state.federated_credentials.reset();
                return HttpResponse::json(200, federated_credentials_json(federated_credentials(state)));
            }
            state.federated_credentials = read_credentials(state, document);
        } catch (const web::json::json_exception& error) {
            return credential_problem(400, std::string("the federated credentials are not JSON: ") + error.what());
        } catch (const std::invalid_argument& error) {
            return credential_problem(400, error.what());
        }
    } else if (request.method != "GET") {
        return credential_problem(405, "use GET, POST or DELETE on /_sandbox/federated-credentials");
    }
    return HttpResponse::json(200, federated_credentials_json(federated_credentials(state)));
}

}  // namespace sandbox
