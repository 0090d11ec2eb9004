#pragma once
// The jobs `bmru worker` understands, with their (JSON) request and reply formats. The pool in
// spice/ only moves opaque bytes; this is where they get a meaning.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "spice/pool.hpp"
#include "spice/session.hpp"

namespace bmru::experiments {

// The kinds of job, named once: their wire names are the only strings.
enum class JobKind { transient, calibration, sequence, vectors, sweep_run };
const char* job_kind_name(JobKind kind);  // "netlist.transient", "fidelity.calibration", ...
// A job of that kind with that payload and timeout.
spice::Job job(JobKind kind, std::string payload, double timeout_s);

// Load a netlist, run one transient (or, when `analysis` is set, that analysis command, e.g.
// "op"), reply with the named vectors (a transient's reply also holds "time").
struct TransientRequest {
  std::string netlist;
  std::uint64_t seed = 1;
  spice::Transient tran;
  std::vector<std::string> vectors;
  std::string analysis;
};
spice::Job make_job(const TransientRequest& request);
std::map<std::string, std::vector<double>> parse_transient_reply(const std::string& message);

// Every handler the worker registers, by job kind.
std::map<std::string, spice::JobHandler> worker_handlers();

}  // namespace bmru::experiments
