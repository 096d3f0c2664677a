#include "managed_identity.h"

#include <sys/stat.h>

#include "crypto.h"
#include "files.h"
#include "sandbox_state.h"
#include "text.h"
#include "token_endpoint.h"

namespace sandbox {

namespace {

using web::json::value;

enum class Selector { none, client_id, object_id, resource_id };

struct Selection {
    Selector by = Selector::none;
    std::string value;
};

// An IMDS-style error: {"error":…,"error_description":…}.
HttpResponse imds_error(int status, const std::string& error, const std::string& description) {
    value body = value::object(true);
    body["error"] = value::string(error);
    body["error_description"] = value::string(description);
    return HttpResponse::json(status, body);
}

// App Service's error: {"statusCode":…,"message":…,"correlationId":…}.
HttpResponse app_service_error(int status, const std::string& message) {
    value body = value::object(true);
    body["statusCode"] = value::number(status);
    body["message"] = value::string(message);
    body["correlationId"] = value::string(random_guid());
    return HttpResponse::json(status, body);
}

HttpResponse missing_metadata_header() {
    return imds_error(400, "bad_request_102", "Required metadata header not specified");
}

// Entra's answer to a resource the tenant does not know, as IMDS passes it on.
std::string unknown_resource_text(const SandboxState& state, const std::string& resource) {
    return "AADSTS50001: The application named " + resource + " was not found in the tenant named " +
           state.tenant_guid() +
           ". This can happen if the application has not been installed by the administrator of the tenant or "
           "consented to by any user in the tenant. You might have sent your authentication request to the wrong "
           "tenant.\r\nTrace ID: " +
           random_guid() + "\r\nCorrelation ID: " + random_guid() + "\r\nTimestamp: " + entra_timestamp(state.clock());
}

// The identity selector of the query, under the names this endpoint uses; nullopt when more than
// one is given.
std::optional<Selection> selection(const HttpRequest& request,
                                   std::initializer_list<std::pair<const char*, Selector>> names) {
    Selection chosen;
    for (const auto& [name, selector] : names) {
        const auto given = query_value(request.query, name);
        if (!given) continue;
        if (chosen.by != Selector::none) return std::nullopt;
        chosen = Selection{selector, *given};
    }
    return chosen;
}

// The identity selected: by client id, object (principal) id or resource id (any case); without a
// selector the system-assigned identity, else the only user-assigned one. nullopt names the
// problem in `problem`: "not found" or "ambiguous".
std::optional<ManagedIdentity> select_identity(const ManagedIdentitySettings& settings, const Selection& chosen,
                                               std::string& problem) {
    if (chosen.by == Selector::none) {
        if (settings.system_assigned) return settings.system_assigned;
        if (settings.user_assigned.size() == 1) return settings.user_assigned.front();
        problem = settings.user_assigned.empty() ? "not found" : "ambiguous";
        return std::nullopt;
    }
    std::vector<ManagedIdentity> all = settings.user_assigned;
    if (settings.system_assigned) all.push_back(*settings.system_assigned);
    for (const auto& identity : all) {
        const std::string& key = chosen.by == Selector::client_id   ? identity.client_id
                                 : chosen.by == Selector::object_id ? identity.object_id
                                                                    : identity.resource_id;
        if (iequals(key, chosen.value)) return identity;
    }
    problem = "not found";
    return std::nullopt;
}

IssuedToken issue_for(SandboxState& state, const ManagedIdentity& identity, const std::string& audience,
                      const char* endpoint) {
    TokenSubject subject;
    subject.app_id = identity.client_id;
    subject.display_name = identity.name;
    subject.object_id = identity.object_id;
    subject.resource_id = identity.resource_id;
    subject.exchange_role = identity.exchange_role;
    subject.via = SignInVia::managed_identity;
    value sign_in = value::object(true);
    sign_in["via"] = value::string("managed_identity");
    sign_in["endpoint"] = value::string(endpoint);
    sign_in["client_id"] = value::string(identity.client_id);
    sign_in["object_id"] = value::string(identity.object_id);
    return issue_access_token(state, audience, subject, sign_in);
}

std::string seconds_text(Instant when) { return std::to_string(unix_seconds(when)); }

// IMDS's (and Arc's) answer: every number a string.
HttpResponse imds_token_answer(const SandboxState& state, const IssuedToken& issued, const ManagedIdentity& identity,
                               const std::string& resource) {
    value body = value::object(true);
    body["access_token"] = value::string(issued.token);
    body["refresh_token"] = value::string("");
    body["client_id"] = value::string(identity.client_id);
    body["expires_in"] = value::string(std::to_string(state.config.token_lifetime.count()));
    body["expires_on"] = value::string(seconds_text(issued.expires));
    body["ext_expires_in"] = value::string(std::to_string(state.config.token_lifetime.count()));
    body["not_before"] = value::string(seconds_text(issued.not_before));
    body["resource"] = value::string(resource);
    body["token_type"] = value::string("Bearer");
    HttpResponse response = HttpResponse::json(200, body);
    response.headers.set("Content-Type", "application/json; charset=utf-8");
    return response;
}

// The managed_identity_error fault's answer, in the endpoint's own error shape.
HttpResponse identity_failure(const ManagedIdentityErrorFault& fault, IdentityEndpoint endpoint) {
    HttpResponse response;
    const int status = fault.status;
    if (endpoint == IdentityEndpoint::app_service) {
        response = app_service_error(status, "The managed identity endpoint failed (the sandbox's "
                                             "managed_identity_error fault).");
    } else {
        const std::string error = status == 404   ? "not_found"
                                  : status == 410 ? "gone"
                                  : status == 429 ? "too_many_requests"
                                  : status >= 500 ? "unknown"
                                                  : "invalid_request";
        const std::string description =
            status == 404   ? "The IMDS endpoint is updating."
            : status == 410 ? "IMDS is going through updates and will be available within 70 seconds."
            : status == 429 ? "IMDS throttle limit reached."
            : status >= 500 ? "Failed to retrieve token from the Active directory. For details see logs in "
                              "/var/log/azure/Microsoft.ManagedIdentity.ManagedIdentityExtensionForLinux/"
                            : "The request failed (the sandbox's managed_identity_error fault).";
        response = imds_error(status, error, description);
    }
    if (fault.retry_after) response.headers.set("Retry-After", *fault.retry_after);
    return response;
}

HttpResponse method_not_allowed_here(const HttpRequest& request) {
    HttpResponse response = imds_error(405, "invalid_request", "The method " + request.method + " is not allowed.");
    response.headers.set("Allow", "GET");
    return response;
}

HttpResponse missing_query(const char* name) {
    return imds_error(400, "invalid_request", std::string("Required query variable '") + name + "' is missing");
}

// Arc's challenge: a new secret in a new key file whose path is the realm.
HttpResponse arc_challenge(SandboxState& state) {
    ManagedIdentityState& identities = state.identities;
    const Instant now = state.clock();
    for (auto it = identities.arc_secrets.begin(); it != identities.arc_secrets.end();) {
        if (it->second.expires > now) {
            ++it;
            continue;
        }
        std::error_code ignored;
        std::filesystem::remove(it->second.file, ignored);
        it = identities.arc_secrets.erase(it);
    }
    const std::filesystem::path directory = identities.settings.arc_key_directory;
    std::filesystem::create_directories(directory);
    const std::string secret = base64url_encode(random_bytes(32));
    const std::filesystem::path file = directory / (to_lower(hex_upper(random_bytes(16))) + ".key");
    write_file_atomically(file, secret, 0600);
    identities.arc_secrets[secret] = ArcSecret{file, now + kArcSecretLifetime};
    HttpResponse response;
    response.status = 401;
    response.headers.set("WWW-Authenticate", "Basic realm=" + file.string());
    return response;
}

[[noreturn]] void refuse_setting(const std::string& member, const std::string& expectation) {
    throw std::invalid_argument(member + ": " + expectation);
}

ManagedIdentity read_identity(const value& object, const std::string& where, const ManagedIdentity& defaults) {
    if (!object.is_object()) refuse_setting(where, "must be an object");
    ManagedIdentity identity = defaults;
    for (const auto& [name, member] : object.as_object()) {
        std::string* target = name == "name"          ? &identity.name
                              : name == "client_id"   ? &identity.client_id
                              : name == "object_id"   ? &identity.object_id
                              : name == "resource_id" ? &identity.resource_id
                                                      : nullptr;
        if (target != nullptr) {
            if (!member.is_string() || member.as_string().empty())
                refuse_setting(where + "." + name, "must be a non-empty string");
            *target = member.as_string();
        } else if (name == "exchange_role") {
            if (!member.is_boolean()) refuse_setting(where + ".exchange_role", "must be true or false");
            identity.exchange_role = member.as_bool();
        } else {
            refuse_setting(where, "has no member '" + name + "'");
        }
    }
    return identity;
}

value identity_json(const ManagedIdentity& identity) {
    value object = value::object(true);
    object["name"] = value::string(identity.name);
    object["client_id"] = value::string(identity.client_id);
    object["object_id"] = value::string(identity.object_id);
    object["resource_id"] = value::string(identity.resource_id);
    object["exchange_role"] = value::boolean(identity.exchange_role);
    return object;
}

HttpResponse settings_problem(int status, const std::string& message) {
    value body = value::object(true);
    body["error"] = value::string(message);
    return HttpResponse::json(status, body);
}

}  // namespace

ManagedIdentitySettings ManagedIdentitySettings::parse(const value& document,
                                                       const std::filesystem::path& default_arc_key_directory) {
    ManagedIdentitySettings settings;
    settings.arc_key_directory = default_arc_key_directory;
    if (!document.is_object()) refuse_setting("the managed identities document", "must be an object");
    for (const auto& [name, member] : document.as_object()) {
        if (name == "system_assigned") {
            if (member.is_null()) {
                settings.system_assigned.reset();
            } else {
                settings.system_assigned = read_identity(member, "system_assigned",
                                                         *ManagedIdentitySettings{}.system_assigned);
            }
        } else if (name == "user_assigned") {
            if (!member.is_array()) refuse_setting("user_assigned", "must be a list of identities");
            settings.user_assigned.clear();
            for (size_t i = 0; i < member.size(); ++i) {
                ManagedIdentity defaults{"identity-" + std::to_string(i + 1), "", "", "", true};
                ManagedIdentity identity = read_identity(member.at(i), "user_assigned[" + std::to_string(i) + "]",
                                                         defaults);
                if (identity.client_id.empty() || identity.object_id.empty() || identity.resource_id.empty()) {
                    refuse_setting("user_assigned[" + std::to_string(i) + "]",
                                   "needs a client_id, an object_id and a resource_id");
                }
                settings.user_assigned.push_back(identity);
            }
        } else if (name == "identity_header") {
            if (!member.is_string() || member.as_string().empty())
                refuse_setting("identity_header", "must be a non-empty string");
            settings.identity_header = member.as_string();
        } else if (name == "arc_key_directory") {
            if (!member.is_string() || !std::filesystem::path(member.as_string()).is_absolute())
                refuse_setting("arc_key_directory", "must be an absolute directory path");
            settings.arc_key_directory = member.as_string();
        } else {
            refuse_setting("the managed identities document", "has no member '" + name + "'");
        }
    }
    return settings;
}

value ManagedIdentitySettings::to_json() const {
    value document = value::object(true);
    document["system_assigned"] = system_assigned ? identity_json(*system_assigned) : value::null();
    std::vector<value> list;
    for (const auto& identity : user_assigned) list.push_back(identity_json(identity));
    document["user_assigned"] = value::array(list);
    document["identity_header"] = value::string(identity_header);
    document["arc_key_directory"] = value::string(arc_key_directory.string());
    return document;
}

bool is_managed_identity_path(std::string_view path) {
    return path == kImdsTokenPath || iequals(path, kAppServiceTokenPath) || path == kArcTokenPath;
}

HttpResponse handle_imds_token(SandboxState& state, const HttpRequest& request) {
    ++state.identity_requests["imds"];
    if (request.method != "GET") return method_not_allowed_here(request);
    if (request.headers.get("Metadata") != "true") return missing_metadata_header();
    if (!query_value(request.query, "api-version")) return missing_query("api-version");
    const auto resource = query_value(request.query, "resource");
    if (!resource || resource->empty()) return missing_query("resource");
    if (const auto failure = state.faults.take_managed_identity_error(IdentityEndpoint::imds))
        return identity_failure(*failure, IdentityEndpoint::imds);
    const auto chosen = selection(request, {{"client_id", Selector::client_id},
                                            {"object_id", Selector::object_id},
                                            {"msi_res_id", Selector::resource_id}});
    if (!chosen)
        return imds_error(400, "invalid_request", "Only one of client_id, object_id and msi_res_id may be given.");
    std::string problem;
    const auto identity = select_identity(state.identities.settings, *chosen, problem);
    if (!identity) {
        return imds_error(400, "invalid_request",
                          problem == "ambiguous" ? "Multiple user assigned identities exist, please specify the "
                                                   "clientId / resourceId of the identity in the token request"
                                                 : "Identity not found");
    }
    const auto audience = audience_of_resource(state, *resource);
    if (!audience) return imds_error(400, "invalid_resource", unknown_resource_text(state, *resource));
    return imds_token_answer(state, issue_for(state, *identity, *audience, "imds"), *identity, *resource);
}

HttpResponse handle_app_service_token(SandboxState& state, const HttpRequest& request) {
    ++state.identity_requests["app_service"];
    if (request.method != "GET") return app_service_error(405, "The method " + request.method + " is not allowed.");
    const auto header = request.headers.get("X-IDENTITY-HEADER");
    if (!header || *header != state.identities.settings.identity_header) {
        return app_service_error(401, header ? "The X-IDENTITY-HEADER does not match IDENTITY_HEADER."
                                             : "The X-IDENTITY-HEADER header is missing.");
    }
    const auto version = query_value(request.query, "api-version");
    if (version != "2019-08-01") {
        return app_service_error(400, "The api-version '" + version.value_or("") +
                                          "' is not supported by this endpoint; use 2019-08-01.");
    }
    const auto resource = query_value(request.query, "resource");
    if (!resource || resource->empty()) return app_service_error(400, "The resource query parameter is missing.");
    if (const auto failure = state.faults.take_managed_identity_error(IdentityEndpoint::app_service))
        return identity_failure(*failure, IdentityEndpoint::app_service);
    const auto chosen = selection(request, {{"client_id", Selector::client_id},
                                            {"principal_id", Selector::object_id},
                                            {"object_id", Selector::object_id},
                                            {"mi_res_id", Selector::resource_id}});
    std::string problem;
    const auto identity = chosen ? select_identity(state.identities.settings, *chosen, problem) : std::nullopt;
    if (!identity) return app_service_error(400, "Unable to load the proper Managed Identity.");
    const auto audience = audience_of_resource(state, *resource);
    if (!audience) return app_service_error(400, unknown_resource_text(state, *resource));
    const IssuedToken issued = issue_for(state, *identity, *audience, "app_service");
    value body = value::object(true);
    body["access_token"] = value::string(issued.token);
    body["expires_on"] = value::string(seconds_text(issued.expires));
    body["resource"] = value::string(*resource);
    body["token_type"] = value::string("Bearer");
    body["client_id"] = value::string(identity->client_id);
    return HttpResponse::json(200, body);
}

HttpResponse handle_arc_token(SandboxState& state, const HttpRequest& request) {
    ++state.identity_requests["arc"];
    if (request.method != "GET") return method_not_allowed_here(request);
    if (request.headers.get("Metadata") != "true") return missing_metadata_header();
    if (!query_value(request.query, "api-version")) return missing_query("api-version");
    const auto resource = query_value(request.query, "resource");
    if (!resource || resource->empty()) return missing_query("resource");
    for (const char* selector : {"client_id", "object_id", "msi_res_id"}) {
        if (query_value(request.query, selector)) {
            return imds_error(400, "invalid_request",
                              "User-assigned managed identities are not supported on Azure Arc-enabled servers.");
        }
    }
    // The challenge, until the request carries the secret of a key file this endpoint wrote.
    const auto authorization = request.headers.get("Authorization");
    if (!authorization || !istarts_with(*authorization, "Basic ")) return arc_challenge(state);
    const std::string secret(trim(std::string_view(*authorization).substr(6)));
    const auto known = state.identities.arc_secrets.find(secret);
    if (known == state.identities.arc_secrets.end() || known->second.expires <= state.clock())
        return arc_challenge(state);
    if (const auto failure = state.faults.take_managed_identity_error(IdentityEndpoint::arc))
        return identity_failure(*failure, IdentityEndpoint::arc);
    const auto& identity = state.identities.settings.system_assigned;
    if (!identity) return imds_error(400, "invalid_request", "Identity not found");
    const auto audience = audience_of_resource(state, *resource);
    if (!audience) return imds_error(400, "invalid_resource", unknown_resource_text(state, *resource));
    return imds_token_answer(state, issue_for(state, *identity, *audience, "arc"), *identity, *resource);
}

HttpResponse handle_managed_identities_control(SandboxState& state, const HttpRequest& request) {
    const std::filesystem::path default_directory = state.config.arc_key_directory;
    if (request.method == "DELETE") {
        state.identities.settings = ManagedIdentitySettings{};
        state.identities.settings.arc_key_directory = default_directory;
    } else if (request.method == "POST") {
        try {
            state.identities.settings = ManagedIdentitySettings::parse(value::parse(request.body), default_directory);
        } catch (const web::json::json_exception& error) {
            return settings_problem(400, std::string("the managed identities document is not JSON: ") + error.what());
        } catch (const std::invalid_argument& error) {
            return settings_problem(400, error.what());
        }
    } else if (request.method != "GET") {
        return settings_problem(405, "use GET, POST or DELETE on /_sandbox/managed-identities");
    }
    return HttpResponse::json(200, state.identities.settings.to_json());
}

}  // namespace sandbox
