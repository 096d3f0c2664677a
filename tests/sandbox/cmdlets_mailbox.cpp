// Get/Set-TransportConfig (the organisation's SMTP AUTH switch) and Get/Set-CASMailbox (the
// per-mailbox override: true, false, or null to inherit).
#include "cmdlets.h"

namespace sandbox {

namespace {
constexpr size_t kDefaultResultSize = 1000;  // Exchange's default for Get-CASMailbox
constexpr const char* kSmtpSwitch = "SmtpClientAuthenticationDisabled";
}  // namespace

CmdletResult get_transport_config(Tenant& tenant, const BoundParameters&) {
    CmdletResult result;
    result.objects.push_back(std::make_shared<const web::json::value>(tenant.transport_config));
    return result;
}

CmdletResult set_transport_config(Tenant& tenant, const BoundParameters& parameters) {
    bool changed = false;
    if (parameters.has(kSmtpSwitch))
        changed = assign_property(tenant.transport_config, kSmtpSwitch, parameters.get(kSmtpSwitch));
    return write_result(changed, tenant.transport_config);
}

CmdletResult get_cas_mailbox(Tenant& tenant, const BoundParameters& parameters) {
    if (const auto identity = parameters.text("Identity")) {
        CmdletResult result;
        result.objects.push_back(tenant.mailboxes()[single_match(tenant.find_mailboxes(*identity), *identity)]);
        return result;
    }
    return limited({tenant.mailboxes().begin(), tenant.mailboxes().end()}, result_size(parameters, kDefaultResultSize),
                   !parameters.has("ResultSize"));
}

CmdletResult set_cas_mailbox(Tenant& tenant, const BoundParameters& parameters) {
    const std::string identity = *parameters.text("Identity");
    web::json::value& mailbox = tenant.mailbox(single_match(tenant.find_mailboxes(identity), identity));
    bool changed = false;
    if (parameters.has(kSmtpSwitch)) changed = assign_property(mailbox, kSmtpSwitch, parameters.get(kSmtpSwitch));
    return write_result(changed, mailbox);
}

}  // namespace sandbox
