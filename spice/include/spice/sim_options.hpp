#pragma once
// The simulator settings a run uses, as one value: spice/ alone renders them as netlist text, and
// the same value is what a run records in /config (issue 16). Fields left unset are ngspice's own
// defaults; effective() reports the value the simulator then uses.
#include <optional>
#include <string>
#include <vector>

#include "core/run_file.hpp"

namespace bmru::spice {

struct SimOptions {
  std::optional<std::string> method;  // "gear" or "trap"
  std::optional<double> abstol_a, reltol, trtol, gmin_s;

  // The settings of DESIGN.md section 4 for generated circuits: gear and an abstol far below the
  // pA signals (the technology's header sets gmin = 1e-15 S).
  static SimOptions lockstep_defaults();

  // ".option method=gear abstol=1e-14 ..." with the fields that are set, in a fixed order; "" when
  // none is.
  std::string option_line() const;
  // Fields set in `later` replace these (as a later .option line does in ngspice).
  SimOptions merged(const SimOptions& later) const;
  // Reads the settings it knows from a netlist's `.option`/`.options`/`.opt` line (others ignored;
  // a value that is not a number is ignored too, as ngspice would reject it at load).
  static SimOptions from_option_line(const std::string& line);
  // /config attributes: tran_method, tran_abstol, tran_reltol, tran_trtol, tran_gmin, each the
  // value in effect (ngspice's default where unset).
  std::vector<core::Attr> config_attrs() const;
};

}  // namespace bmru::spice
