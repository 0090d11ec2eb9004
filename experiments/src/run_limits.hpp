#pragma once
// Checks made before a run begins, so that a run that cannot succeed is refused at once with a
// message naming the option and the range (issue 15), instead of running for minutes.
#include <filesystem>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "pdk/technology.hpp"

namespace bmru::experiments {

// The largest input current a circuit node takes (DESIGN.md section 2: node currents up to about
// 10 nA); inputs beyond it leave subthreshold operation and the comparison means nothing.
inline constexpr double kMaxInputCurrentA = 10e-9;

// Refuses a supply outside what the technology's devices are rated for, naming `option`.
void check_supply(const pdk::Technology& tech, double vdd_v, const std::string& option = "--vdd");

// Refuses an output of about `bytes` above `max_gb` (--max-output-gb) or above what the disk (or
// the file-size limit) can take, giving the estimate.
void check_output_size(const std::filesystem::path& out, double bytes, double max_gb);

// Refuses inputs whose current (|x| x unit_current) exceeds kMaxInputCurrentA, naming the first
// such value by sequence, frame and input.
void check_input_currents(const std::vector<core::Matrix>& x, double unit_current_a,
                          const std::string& source);

}  // namespace bmru::experiments
