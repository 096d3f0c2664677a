// What the sandbox was asked to do, for /_sandbox/state: every write cmdlet that ran (the
// mutations, in order) and counters of requests. Tests assert on these; tokens and assertions
// are never recorded.
#pragma once

#include <cpprest/json.h>

#include <map>
#include <string>
#include <vector>

#include "cmdlets.h"

namespace sandbox {

class Journal {
public:
    void record_write(const std::string& cmdlet, const web::json::value& parameters,
                      const std::string& client_request_id, Change change, const std::string& via);
    void count_token_request() { ++token_requests_; }
    void count_invoke_request() { ++invoke_requests_; }
    void count_batch_request() { ++batch_requests_; }
    void count_cmdlet(const std::string& cmdlet) { ++by_cmdlet_[cmdlet]; }

    size_t mutation_count() const { return mutations_.size(); }
    web::json::value mutations() const;
    web::json::value requests() const;

private:
    std::vector<web::json::value> mutations_;
    int token_requests_ = 0;
    int invoke_requests_ = 0;
    int batch_requests_ = 0;
    std::map<std::string, int> by_cmdlet_;
};

}  // namespace sandbox
