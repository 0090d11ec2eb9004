#pragma once
// Helpers shared by the subcommands: numbers with SPICE suffixes, counts, command-line echo.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/errors.hpp"
#include "core/units.hpp"
#include "core/vote.hpp"

namespace bmru::experiments {

// A real number in base units that accepts SPICE suffixes ("350p", "10m").
template <typename T>
CLI::Option* add_quantity(CLI::App* app, const std::string& name, T& target,
                          const std::string& help) {
  return app
      ->add_option_function<std::string>(
          name,
          [&target, name](const std::string& text) {
            try {
              target = core::parse_quantity(text, name);
            } catch (const InputError& e) {
              throw CLI::ValidationError(name, e.what());
            }
          },
          help)
      ->type_name("NUM");
}

// A non-negative whole number that also accepts suffixes ("1k" frames).
template <typename T>
CLI::Option* add_count(CLI::App* app, const std::string& name, T& target, const std::string& help,
                       double min = 1) {
  return app
      ->add_option_function<std::string>(
          name,
          [&target, name, min](const std::string& text) {
            double v = 0;
            try {
              v = core::parse_quantity(text, name);
            } catch (const InputError& e) {
              throw CLI::ValidationError(name, e.what());
            }
            if (v != std::floor(v) || v < min || v > 9.0e15)
              throw CLI::ValidationError(name, "'" + text +
                                                   "' must be a whole number of at least " +
                                                   std::to_string(static_cast<long long>(min)));
            target = static_cast<T>(v);
          },
          help)
      ->type_name("INT");
}

// `--decision vote|last|time-share` and `--tie none|first`: one spelling and one default for
// train and evaluate.
inline void add_decision_options(CLI::App* cmd, core::DecisionRule& rule, core::TiePolicy& tie) {
  cmd->add_option("--decision", rule,
                  "How a clip's logits decide: vote (majority of frames; default), last (the last "
                  "frame) or time-share (the class that leads longest over the dense waveform)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, core::DecisionRule>{{"vote", core::DecisionRule::vote},
                                                    {"last", core::DecisionRule::last},
                                                    {"time-share", core::DecisionRule::time_share}},
          CLI::ignore_case))
      ->type_name("vote|last|time-share");
  cmd->add_option("--tie", tie, "none (a tie counts wrong; default) or first (class 0)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, core::TiePolicy>{{"none", core::TiePolicy::none},
                                                 {"first", core::TiePolicy::first}},
          CLI::ignore_case))
      ->type_name("none|first");
}

std::string command_line(int argc, char** argv);

}  // namespace bmru::experiments
