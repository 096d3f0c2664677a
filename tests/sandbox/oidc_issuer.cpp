#include "oidc_issuer.h"

#include <array>

#include "jwt.h"
#include "pki.h"
#include "sandbox_state.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr std::array kIssuers = {IssuerName::github, IssuerName::azure_devops, IssuerName::kubernetes};

IssuerKey make_issuer_key(IssuerName issuer) {
    IssuerKey made;
    made.key = generate_rsa_key(2048);
    const auto now = std::chrono::system_clock::now();
    const CertificateSpec spec{"authgate-sandbox " + std::string(issuer_path_name(issuer)) + " token signing",
                               now - std::chrono::days(1),
                               now + std::chrono::days(365),
                               CertificateUse::client,
                               {},
                               {}};
    made.certificate = issue_certificate(spec, made.key.get(), nullptr, made.key.get());
    made.kid = jwk_thumbprint(made.key.get());
    made.x5t = base64url_encode(sha1(certificate_der(made.certificate.get())));
    return made;
}

// Where the JWKS of each issuer is published, after the issuer's base path.
std::string_view jwks_suffix(IssuerName issuer) {
    return issuer == IssuerName::kubernetes ? "/openid/v1/jwks" : "/.well-known/jwks";
}

value strings_of(std::initializer_list<const char*> texts) {
    std::vector<value> values;
    for (const char* text : texts) values.push_back(value::string(text));
    return value::array(values);
}

value discovery_document(const SandboxState& state, IssuerName issuer, const std::string& base) {
    value document = value::object(true);
    document["issuer"] = value::string(issuer_url(state, issuer));
    document["jwks_uri"] = value::string(base + std::string(jwks_suffix(issuer)));
    document["subject_types_supported"] = issuer == IssuerName::github ? strings_of({"public", "pairwise"})
                                                                       : strings_of({"public"});
    document["response_types_supported"] = strings_of({"id_token"});
    if (issuer == IssuerName::github) {
        document["claims_supported"] = strings_of({"sub",
                                                   "aud",
                                                   "exp",
                                                   "iat",
                                                   "iss",
                                                   "jti",
                                                   "nbf",
                                                   "ref",
                                                   "sha",
                                                   "repository",
                                                   "repository_id",
                                                   "repository_owner",
                                                   "repository_owner_id",
                                                   "run_id",
                                                   "run_number",
                                                   "run_attempt",
                                                   "actor",
                                                   "actor_id",
                                                   "workflow",
                                                   "workflow_ref",
                                                   "workflow_sha",
                                                   "head_ref",
                                                   "base_ref",
                                                   "event_name",
                                                   "ref_type",
                                                   "ref_protected",
                                                   "environment",
                                                   "job_workflow_ref",
                                                   "job_workflow_sha",
                                                   "repository_visibility",
                                                   "runner_environment"});
    } else if (issuer == IssuerName::azure_devops) {
        document["claims_supported"] = strings_of({"sub", "aud", "exp", "iat", "iss", "nbf", "jti"});
    }
    document["id_token_signing_alg_values_supported"] = strings_of({"RS256"});
    if (issuer == IssuerName::github) document["scopes_supported"] = strings_of({"openid"});
    return document;
}

value jwks_document(IssuerName issuer) {
    const IssuerKey& key = issuer_key(issuer);
    value jwk = value::object(true);
    jwk["kty"] = value::string("RSA");
    jwk["alg"] = value::string("RS256");
    jwk["use"] = value::string("sig");
    jwk["kid"] = value::string(key.kid);
    if (issuer != IssuerName::kubernetes) jwk["x5t"] = value::string(key.x5t);
    jwk["n"] = value::string(rsa_modulus(key.key.get()));
    jwk["e"] = value::string(rsa_exponent(key.key.get()));
    value document = value::object(true);
    document["keys"] = value::array({jwk});
    return document;
}

HttpResponse oidc_not_found(const std::string& path) {
    value body = value::object(true);
    body["error"] = value::string("no OpenID metadata of the sandbox's issuers at " + path);
    return HttpResponse::json(404, body);
}

}  // namespace

const IssuerKey& issuer_key(IssuerName issuer) {
    static const std::array<IssuerKey, 3> keys = {make_issuer_key(IssuerName::github),
                                                  make_issuer_key(IssuerName::azure_devops),
                                                  make_issuer_key(IssuerName::kubernetes)};
    return keys[static_cast<size_t>(issuer)];
}

std::string_view issuer_path_name(IssuerName issuer) {
    switch (issuer) {
        case IssuerName::github: return "github";
        case IssuerName::azure_devops: return "azure-devops";
        case IssuerName::kubernetes: return "kubernetes";
    }
    return "";
}

std::optional<IssuerName> issuer_by_name(std::string_view name) {
    for (const IssuerName issuer : kIssuers) {
        if (name == issuer_path_name(issuer)) return issuer;
    }
    return std::nullopt;
}

std::string issuer_url(const SandboxState& state, IssuerName issuer) {
    if (issuer == IssuerName::azure_devops)
        return "https://vstoken.dev.azure.com/" + state.platforms.azure_devops.organization_id;
    return state.origins().front() + "/_oidc/" + std::string(issuer_path_name(issuer));
}

std::optional<IssuerName> issuer_by_url(const SandboxState& state, std::string_view iss) {
    for (const IssuerName issuer : kIssuers) {
        if (iss == issuer_url(state, issuer)) return issuer;
        if (issuer == IssuerName::azure_devops) continue;
        for (const auto& origin : state.origins()) {
            if (iss == origin + "/_oidc/" + std::string(issuer_path_name(issuer))) return issuer;
        }
    }
    return std::nullopt;
}

std::string mint_platform_token(IssuerName issuer, const value& claims, TokenSigning signing) {
    const IssuerKey& key = issuer_key(issuer);
    value header = value::object(true);
    header["typ"] = value::string("JWT");
    header["alg"] = value::string("RS256");
    if (issuer != IssuerName::kubernetes) header["x5t"] = value::string(key.x5t);
    // A key the JWKS does not list: the issuer's own key under a kid nobody publishes.
    header["kid"] = value::string(signing == TokenSigning::unknown_key ? base64url_encode(random_bytes(32)) : key.kid);
    std::string token = sign_rs256(header, claims, key.key.get());
    if (signing == TokenSigning::bad_signature) {
        // Another signature of the right length: the first character of the last part changed.
        const size_t at = token.rfind('.') + 1;
        token[at] = token[at] == 'A' ? 'B' : 'A';
    }
    return token;
}

bool is_oidc_path(std::string_view path) { return path.starts_with("/_oidc/"); }

HttpResponse handle_oidc_metadata(SandboxState& state, const HttpRequest& request) {
    ++state.identity_requests["oidc_metadata"];
    const std::string_view rest = std::string_view(request.path).substr(std::string_view("/_oidc/").size());
    const size_t slash = rest.find('/');
    const auto issuer = issuer_by_name(rest.substr(0, slash));
    if (!issuer || slash == std::string_view::npos) return oidc_not_found(request.path);
    if (request.method != "GET") {
        value body = value::object(true);
        body["error"] = value::string("use GET on " + request.path);
        return HttpResponse::json(405, body);
    }
    const std::string_view document = rest.substr(slash);
    const std::string base = state.origin_for(request.headers.get("Host")) + "/_oidc/" +
                             std::string(issuer_path_name(*issuer));
    HttpResponse response;
    if (document == "/.well-known/openid-configuration") {
        response = HttpResponse::json(200, discovery_document(state, *issuer, base));
    } else if (document == jwks_suffix(*issuer)) {
        response = HttpResponse::json(200, jwks_document(*issuer));
    } else {
        return oidc_not_found(request.path);
    }
    response.headers.set("Content-Type", "application/json");
    response.headers.set("Cache-Control", "public, max-age=3600");
    return response;
}

}  // namespace sandbox
