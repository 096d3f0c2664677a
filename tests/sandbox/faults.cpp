#include "faults.h"

#include <algorithm>

#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

bool filter_matches(const std::optional<std::string>& filter, FaultSite site) {
  if (site.batch_item) return filter && iequals(*filter, site.cmdlet);
  return !filter || (!site.cmdlet.empty() && iequals(*filter, site.cmdlet));
}

bool filter_allows(const std::optional<std::string>& filter, std::string_view cmdlet) {
  return !filter || iequals(*filter, cmdlet);
}

// Takes one firing from a counted fault: true when it had a firing left.
template <typename Fault>
bool spend(std::optional<Fault>& fault) {
  if (!fault || fault->count <= 0) return false;
  --fault->count;
  return true;
}

}  // namespace

std::optional<ThrottleFault> Faults::take_throttle(FaultSite site) {
  if (!settings_.throttle || !filter_matches(settings_.throttle->cmdlet, site) || !spend(settings_.throttle))
    return std::nullopt;
  fired("throttle");
  return settings_.throttle;
}

std::optional<ServerErrorFault> Faults::take_server_error(FaultSite site) {
  if (!settings_.server_error || !filter_matches(settings_.server_error->cmdlet, site) ||
      !spend(settings_.server_error)) {
    return std::nullopt;
  }
  fired("server_error");
  return settings_.server_error;
}

std::optional<TransientExceptionFault> Faults::take_transient_exception(std::string_view cmdlet) {
  if (!settings_.transient_exception || !filter_allows(settings_.transient_exception->cmdlet, cmdlet) ||
      !spend(settings_.transient_exception)) {
    return std::nullopt;
  }
  fired("transient_exception");
  return settings_.transient_exception;
}

std::optional<DropConnectionFault> Faults::take_drop_connection(std::span<const std::string> cmdlets) {
  if (!settings_.drop_connection) return std::nullopt;
  const auto& filter = settings_.drop_connection->cmdlet;
  const bool matches = !filter || std::any_of(cmdlets.begin(), cmdlets.end(),
                                              [&](const std::string& cmdlet) { return iequals(*filter, cmdlet); });
  if (!matches || !spend(settings_.drop_connection)) return std::nullopt;
  fired("drop_connection");
  return settings_.drop_connection;
}

std::optional<SlowAnswerFault> Faults::take_slow_answer(std::span<const std::string> cmdlets) {
  if (!settings_.slow_answer) return std::nullopt;
  const auto& filter = settings_.slow_answer->cmdlet;
  const bool matches = !filter || std::any_of(cmdlets.begin(), cmdlets.end(),
                                              [&](const std::string& cmdlet) { return iequals(*filter, cmdlet); });
  if (!matches || !spend(settings_.slow_answer)) return std::nullopt;
  fired("slow_answer");
  return settings_.slow_answer;
}

std::optional<FailPageFault> Faults::take_fail_page(std::string_view cmdlet, int page_number) {
  if (!settings_.fail_page || settings_.fail_page->page != page_number ||
      !iequals(settings_.fail_page->cmdlet, cmdlet) || !spend(settings_.fail_page)) {
    return std::nullopt;
  }
  fired("fail_page");
  return settings_.fail_page;
}

bool Faults::take_nul_403() {
  if (!spend(settings_.nul_403)) return false;
  fired("nul_403");
  return true;
}

bool Faults::take_expire_tokens() {
  if (!spend(settings_.expire_tokens)) return false;
  fired("expire_tokens");
  return true;
}

std::optional<TokenErrorFault> Faults::take_token_error() {
  if (!spend(settings_.token_error)) return std::nullopt;
  fired("token_error");
  return settings_.token_error;
}

std::optional<TokenGarbageFault> Faults::take_token_garbage() {
  if (!settings_.token_garbage) return std::nullopt;
  if (settings_.token_garbage->after > 0) {
    --settings_.token_garbage->after;
    return std::nullopt;
  }
  if (!spend(settings_.token_garbage)) return std::nullopt;
  fired("token_garbage");
  return settings_.token_garbage;
}

bool Faults::forbids(std::string_view cmdlet) {
  const auto& names = settings_.forbidden_cmdlets;
  if (std::none_of(names.begin(), names.end(), [&](const std::string& name) { return iequals(name, cmdlet); }))
    return false;
  fired("forbidden_cmdlets");
  return true;
}

bool Faults::expires_links() {
  if (!settings_.expire_links) return false;
  fired("expire_links");
  return true;
}

std::optional<std::string> Faults::foreign_next_link() {
  if (!settings_.foreign_next_link) return std::nullopt;
  fired("foreign_next_link");
  return settings_.foreign_next_link;
}

value Faults::report() const {
  value fired = value::object(true);
  for (const auto& [name, count] : fired_) fired[name] = value::number(count);
  value report = value::object(true);
  report["active"] = settings_.to_json();
  report["fired"] = fired;
  return report;
}

}  // namespace sandbox
