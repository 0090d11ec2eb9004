#pragma once
// The sweep journal's JSON: summary rows (from the one field table, summary_fields()), grid points
// and a run's options (for a run made in another process), and atomic text files. Private to
// experiments.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/run_file.hpp"
#include "experiments/fidelity.hpp"
#include "experiments/sweep.hpp"

namespace bmru::experiments {

nlohmann::json row_to_json(const SummaryRow& r);
SummaryRow row_from_json(const nlohmann::json& j);
// /summary's columns, in summary_fields() order.
std::vector<core::TableColumn> summary_columns(const std::vector<SummaryRow>& rows);

nlohmann::json point_to_json(const SweepPoint& p);
SweepPoint point_from_json(const nlohmann::json& j);

// Every field of a run's options, for a run made in another process.
nlohmann::json fidelity_options_to_json(const FidelityOptions& o);
FidelityOptions fidelity_options_from_json(const nlohmann::json& j);

// A journal's fingerprint (`name` in the folder): written by the first invocation; a later one with
// other values is refused, naming each that differs.
void stamp_journal(const std::filesystem::path& journal, const nlohmann::json& print,
                   const char* name);

// The JSON in a file, or nullopt when it is missing or unreadable.
std::optional<nlohmann::json> read_json(const std::filesystem::path& path);

}  // namespace bmru::experiments
