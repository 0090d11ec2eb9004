#include "models/continuous_engine.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <variant>

#include "continuous_impl.hpp"
#include "core/errors.hpp"
#include "models/circuit_graph.hpp"

namespace bmru::models {

using core::Index;
using ct_detail::BiasTerm;
using ct_detail::Cell;
using ct_detail::kPackWidth;
using ct_detail::Node;
using ct_detail::Pack;
using ct_detail::Params;
using ct_detail::Structure;
using ct_detail::Term;

namespace ct_detail {

// The node dynamics of the circuit graph: one state per line (held logit nodes are not lines:
// the logits are summed at the sample instant), a copy's gain as a term of the line it feeds,
// a line's gate area from its diode, the copies it drives and (a candidate's p-line) the
// cell's M1.
void Structure::build() {
  const CircuitGraph g = build_graph(net);
  n_copies = g.copies.size();
  n_biases = g.biases.size();
  ref_area = facts.w_ref_m * facts.l_m;
  ln_ref = std::log(facts.mirror_ref_a);
  std::vector<int> index(g.lines.size(), -1);  // graph line -> node
  for (size_t l = 0; l < g.lines.size(); ++l) {
    const auto& line = g.lines[l];
    if (line.kind == CircuitGraph::LineKind::held) continue;
    index[l] = static_cast<int>(nodes.size());
    Node n;
    n.area_m2 = ref_area;
    n.pmos = line.type() == pdk::Polarity::p;
    n.input = line.input;
    n.cell = line.cell;
    nodes.push_back(n);
  }
  const auto at = [&](int line) -> Node& {
    return nodes[static_cast<size_t>(index[static_cast<size_t>(line)])];
  };
  std::vector<std::pair<std::vector<Term>, std::vector<Term>>> held(g.lines.size());
  for (const auto& c : g.copies) {
    // An NMOS copy into a PMOS diode (a p-line's feed, or a term of a PMOS-closed node) has its
    // drain near the supply: its own gain error.
    const bool high = g.lines[static_cast<size_t>(c.to)].type() == pdk::Polarity::p;
    const double slope = c.device() == pdk::Polarity::p ? facts.mirror_slope_p
                         : high                         ? facts.mirror_slope_pline
                                                        : facts.mirror_slope_n;
    // The copy's gate area on the line it reads (copy_geometry: below the smallest width a copy
    // is made longer, W_min by L W_min / W).
    const double w = std::abs(c.gain) * facts.w_ref_m;
    at(c.from).area_m2 += w >= facts.w_min_m ? std::abs(c.gain) * ref_area
                                             : facts.w_min_m * facts.l_m * facts.w_min_m / w;
    const Term t{index[static_cast<size_t>(c.from)], g.added(c), slope,
                 static_cast<int>(&c - g.copies.data())};
    if (index[static_cast<size_t>(c.to)] >= 0)
      at(c.to).in.push_back(t);
    else
      held[static_cast<size_t>(c.to)].first.push_back(t);
  }
  std::vector<std::vector<BiasTerm>> held_bias(g.lines.size());
  for (size_t i = 0; i < g.biases.size(); ++i) {
    const auto& b = g.biases[i];
    const BiasTerm t{static_cast<int>(i), g.added(b)};
    if (index[static_cast<size_t>(b.to)] >= 0)
      at(b.to).biases.push_back(t);
    else
      held_bias[static_cast<size_t>(b.to)].push_back(t);
  }
  for (const auto& gc : g.cells) {
    Cell cell;
    cell.in_node = index[static_cast<size_t>(gc.candidate)];
    at(gc.candidate).area_m2 += ref_area;  // the cell's M1
    cell.out_node = index[static_cast<size_t>(gc.output)];
    cell.ith_a = gc.beta_hi_a;
    cell.iw_a = gc.width_a;
    cell.ig_a = gc.alpha_a;
    cell.q_s = facts.cell_q_up_c / (facts.cell_q_up_c + facts.cell_q_down_c);
    cell.inv_q = 1.0 / (facts.cell_q_up_c + facts.cell_q_down_c);
    cell.init_on = gc.init_on;
    cells.push_back(cell);
  }
  for (const auto& layer : g.layers) {
    std::vector<int> cand, state;
    std::vector<std::pair<std::vector<int>, std::vector<int>>> out;
    for (const int l : layer.candidate) {
      cand.push_back(index[static_cast<size_t>(l)]);
      nodes[static_cast<size_t>(cand.back())].noise =
          static_cast<int>(candidate_node.size() * layer.candidate.size() + cand.size() - 1);
    }
    for (const int c : layer.state) state.push_back(cells[static_cast<size_t>(c)].out_node);
    const auto nodes_of = [&](const std::vector<int>& lines) {
      std::vector<int> v;
      for (const int l : lines) v.push_back(index[static_cast<size_t>(l)]);
      return v;
    };
    for (const auto& u : layer.output) out.push_back({nodes_of(u.pos), nodes_of(u.neg)});
    candidate_node.push_back(cand);
    state_node.push_back(state);
    output.push_back(out);
  }
  for (const auto& [p, n] : g.logits) {
    logit.push_back({held[static_cast<size_t>(p)].first, held[static_cast<size_t>(n)].first});
    logit_bias.push_back({held_bias[static_cast<size_t>(p)], held_bias[static_cast<size_t>(n)]});
  }
  finish_build();
}

// The lines' time constants from the facts, and the flat term and Jacobian patterns with a
// topological order of the states.
void Structure::finish_build() {
  diode_n = facts.slope_v / facts.thermal_v;
  for (auto& n : nodes) n.ln_floor = std::log(n.pmos ? facts.floor_p_a : facts.floor_a);
  const auto cap = [&](const Node& n) {
    return facts.line_cap_scale * (n.pmos ? facts.cap_per_area_p_f_m2 : facts.cap_per_area_f_m2) *
           n.area_m2;
  };
  for (auto& n : nodes) n.inv_sc = 1.0 / (facts.slope_v * cap(n));
  for (auto& c : cells)  // the output line also carries the cell's own devices
    nodes[static_cast<size_t>(c.out_node)].inv_sc =
        1.0 /
        (facts.slope_v * (cap(nodes[static_cast<size_t>(c.out_node)]) + facts.cell_out_cap_f));
  flatten();
}

void Structure::flatten() {
  term_start.assign(1, 0);
  jac_start.assign(1, 0);
  for (const Node& n : nodes) {
    for (const Term& t : n.in) {
      term_node.push_back(t.node);
      term_slope.push_back(t.slope);
      jac_col.push_back(t.node);
    }
    if (n.cell >= 0) jac_col.push_back(static_cast<int>(nodes.size()) + n.cell);
    term_start.push_back(static_cast<int>(term_node.size()));
    jac_start.push_back(static_cast<int>(jac_col.size()));
  }
  for (const Cell& c : cells) {
    jac_col.push_back(c.in_node);
    jac_start.push_back(static_cast<int>(jac_col.size()));
  }
  // Topological order of the states (a state's inputs are its Jacobian row's columns): a node
  // after its input lines; a cell's charge after its candidate line, its output line after it.
  const auto n_states = jac_start.size() - 1;
  std::vector<int> mark(n_states, 0);
  const std::function<void(Index)> visit = [&](Index v) {
    const auto vi = static_cast<size_t>(v);
    if (mark[vi] == 2) return;
    if (mark[vi] == 1) throw Error("ct engine: the signal graph has a cycle");
    mark[vi] = 1;
    for (int e = jac_start[vi]; e < jac_start[vi + 1]; ++e) visit(jac_col[static_cast<size_t>(e)]);
    mark[vi] = 2;
    order.push_back(v);
  };
  for (size_t v = 0; v < n_states; ++v) visit(static_cast<Index>(v));
}

}  // namespace ct_detail

// One lane between frames: its states, inputs and step, which parameters it runs, and what its
// last frame saw.
struct LaneData {
  std::vector<double> y, sampled, x_prev, x_now;
  double h_last = 0;
  int params = 0;
  std::vector<CtCrossings> cross;  // per cell (layer-major)
};

// The engine: the shared structure, its lanes, and one pack whose slots integrate them (one slot
// for a batch of one, else kPackWidth); a frame takes the lanes in turn, a slot taking the next
// lane waiting as soon as its lane has run the frame.
struct ContinuousEngine::Impl {
  Structure st;
  std::vector<CtDie> dies;
  std::vector<Params> params;  // the nominal values, or one per die
  std::vector<LaneData> lanes;
  std::vector<std::vector<core::NoiseTrack>> noise;  // per lane, per cell (empty: none)
  bool pending = true;  // reset(batch): the operating point waits for the first frame's inputs
  Index batch = 0;
  std::variant<Pack<1>, Pack<kPackWidth>> pack;  // made anew by every reset
  Index k = 0;

  template <typename F>
  void with_pack(F&& f) {
    std::visit(f, pack);
  }
  void check_rows(const core::Matrix& m, Index cols, const char* what) const {
    if (m.rows() != batch || m.cols() != cols)
      throw InputError(std::string("ct engine: ") + what + " is " + std::to_string(m.rows()) +
                       " x " + std::to_string(m.cols()) + ", the engine runs " +
                       std::to_string(batch) + " lanes x " + std::to_string(cols));
  }
  // Lane b's input parts (A) from row b of x (model units).
  void inputs(const core::Matrix& x, Index b, std::vector<double>& parts) const {
    parts.assign(static_cast<size_t>(2 * st.net.n_in()), 0.0);
    for (Index i = 0; i < st.net.n_in(); ++i) {
      const double v = x(b, i) * st.net.unit_current_a;
      parts[static_cast<size_t>(2 * i)] = std::max(v, 0.0);
      parts[static_cast<size_t>(2 * i + 1)] = std::max(-v, 0.0);
    }
  }
  // Slot b of the pack takes lane l (its parameters, states, inputs and step).
  template <typename P>
  void load(P& p, int b, size_t l) const {
    const LaneData& d = lanes[l];
    p.load(b, params[static_cast<size_t>(d.params)], d.params);
    p.noise[static_cast<size_t>(b)] = l < noise.size() && !noise[l].empty() ? &noise[l] : nullptr;
    for (size_t i = 0; i < d.y.size(); ++i) p.y[i](b) = d.y[i];
    for (size_t i = 0; i < d.x_now.size(); ++i) {
      p.x_prev[i](b) = d.x_prev[i];
      p.x_now[i](b) = d.x_now[i];
    }
    p.h_last(b) = d.h_last;
    for (size_t c = 0; c < p.cross_count.size(); ++c) {
      p.cross_count[c](b) = 0;
      p.cross_first[c](b) = -1;
    }
  }
  // Lane l takes what slot b holds.
  template <typename P>
  void store(const P& p, int b, size_t l) {
    LaneData& d = lanes[l];
    for (size_t i = 0; i < d.y.size(); ++i) {
      d.y[i] = p.y[i](b);
      d.sampled[i] = p.sample[i](b);
    }
    d.h_last = p.h_last(b);
    for (size_t c = 0; c < d.cross.size(); ++c)
      d.cross[c] = {static_cast<long long>(p.cross_count[c](b)), p.cross_first[c](b)};
  }
  void make_lanes() {
    params.clear();
    if (dies.empty()) params.push_back(make_params(st, nullptr));
    for (const CtDie& d : dies) params.push_back(make_params(st, &d));
    lanes.assign(static_cast<size_t>(batch), LaneData{});
    for (size_t l = 0; l < lanes.size(); ++l) {
      LaneData& d = lanes[l];
      d.params = params.size() == 1 ? 0 : static_cast<int>(l);
      d.y.assign(static_cast<size_t>(st.n_states()), 0.0);
      d.sampled = d.y;
      d.cross.assign(st.cells.size(), CtCrossings{});
    }
    if (batch == 1)
      pack.emplace<Pack<1>>();
    else
      pack.emplace<Pack<kPackWidth>>();
    with_pack([&](auto& p) { p.shape(st); });
  }
};

ContinuousEngine::ContinuousEngine(const core::Network& net, const CtFacts& facts,
                                   const core::FrameAxis& axis, Integrator integrator)
    : impl_(std::make_unique<Impl>()) {
  Structure& st = impl_->st;
  st.integrator = integrator;
  core::validate(net);
  axis.check();
  st.net = net;
  st.facts = facts;
  st.axis = axis;
  st.build();
}

ContinuousEngine::~ContinuousEngine() = default;
ContinuousEngine::ContinuousEngine(ContinuousEngine&&) noexcept = default;

void ContinuousEngine::set_dies(std::vector<CtDie> dies) {
  const Structure& st = impl_->st;
  const size_t cells = st.cells.size();
  for (size_t i = 0; i < dies.size(); ++i) {
    const CtDie& d = dies[i];
    if (d.nominal()) continue;
    const bool fits = d.copy.size() == st.n_copies && d.bias.size() == st.n_biases &&
                      d.cell_ith.size() == cells && d.cell_iw.size() == cells &&
                      d.cell_ig.size() == cells && d.cell_in.size() == cells;
    if (!fits)
      throw InputError("ct engine: die " + std::to_string(i) + " has " +
                       std::to_string(d.copy.size()) + " copies, " + std::to_string(d.bias.size()) +
                       " biases and " + std::to_string(d.cell_ith.size()) +
                       " cells; the circuit has " + std::to_string(st.n_copies) + ", " +
                       std::to_string(st.n_biases) + " and " + std::to_string(cells));
  }
  impl_->dies = std::move(dies);
}

void ContinuousEngine::reset(Index batch) {
  if (batch < 1)
    throw InputError("ct engine: a batch needs at least one lane (got " + std::to_string(batch) +
                     ")");
  if (impl_->dies.size() > 1 && static_cast<Index>(impl_->dies.size()) != batch)
    throw InputError("ct engine: " + std::to_string(impl_->dies.size()) + " dies for " +
                     std::to_string(batch) + " lanes");
  impl_->batch = batch;
  impl_->pending = true;  // the first step computes the operating point at its inputs
}

void ContinuousEngine::reset(const core::Matrix& x0) {
  Impl& m = *impl_;
  if (x0.cols() != m.st.net.n_in())
    throw InputError("ct engine: an input frame has " + std::to_string(x0.cols()) +
                     " values, the network takes " + std::to_string(m.st.net.n_in()));
  reset(x0.rows());
  m.make_lanes();
  m.k = 0;
  m.pending = false;
  const Structure& st = m.st;
  for (size_t l = 0; l < m.lanes.size(); ++l) {
    LaneData& d = m.lanes[l];
    m.inputs(x0, static_cast<Index>(l), d.x_now);
    d.x_prev = d.x_now;
    for (size_t c = 0; c < st.cells.size(); ++c)
      d.y[st.nodes.size() + c] = st.cells[c].init_on ? 1.0 : 0.0;
  }
  // The operating point, a pack of lanes at a time (spare slots repeat the last lane).
  m.with_pack([&](auto& p) {
    const int w = static_cast<int>(p.h_last.size());
    for (size_t first = 0; first < m.lanes.size(); first += static_cast<size_t>(w)) {
      for (int b = 0; b < w; ++b)
        m.load(p, b, std::min(first + static_cast<size_t>(b), m.lanes.size() - 1));
      p.settle(0);
      p.sample = p.y;
      for (int b = 0; b < w && first + static_cast<size_t>(b) < m.lanes.size(); ++b)
        m.store(p, b, first + static_cast<size_t>(b));
      p.real = decltype(p.real)::Constant(false);
    }
  });
}

void ContinuousEngine::set_leaky(double a) {
  if (!(a > 0 && a < 1))
    throw InputError("ct engine: a leaky cell's a must lie in (0, 1), not " + std::to_string(a));
  impl_->st.leak_tau = -impl_->st.axis.period_s / std::log(a);
}

void ContinuousEngine::set_noise(Index lane, std::vector<core::NoiseTrack> tracks, NoiseAt at) {
  Impl& m = *impl_;
  const bool lines = at == NoiseAt::lines;
  const size_t want = lines ? m.st.nodes.size() : m.st.cells.size();
  if (!tracks.empty() && tracks.size() != want)
    throw InputError("ct engine: noise for " + std::to_string(tracks.size()) +
                     (lines ? " lines, the circuit has " : " cells, the network has ") +
                     std::to_string(want));
  if (lane < 0) throw InputError("ct engine: a negative lane");
  const bool other =
      std::any_of(m.noise.begin(), m.noise.end(), [](const auto& n) { return !n.empty(); }) &&
      m.st.noise_on_lines != lines;
  if (other && !tracks.empty())
    throw InputError("ct engine: noise on the candidates and on every line in one engine");
  if (!tracks.empty()) m.st.noise_on_lines = lines;
  if (static_cast<size_t>(lane) >= m.noise.size()) m.noise.resize(static_cast<size_t>(lane) + 1);
  m.noise[static_cast<size_t>(lane)] = std::move(tracks);
}

void ContinuousEngine::set_state(Index layer, const core::Matrix& h) {
  Impl& m = *impl_;
  const Index d = m.st.net.d();
  m.check_rows(h, d, "a layer's states");
  for (size_t l = 0; l < m.lanes.size(); ++l)
    for (Index i = 0; i < d; ++i)
      m.lanes[l].y[m.st.nodes.size() + static_cast<size_t>(layer * d + i)] =
          h(static_cast<Index>(l), i) > 0 ? 1.0 : 0.0;
}

void ContinuousEngine::step(const core::Matrix& x, core::Frame& out) {
  Impl& m = *impl_;
  if (m.pending) {
    if (m.batch > 0) m.check_rows(x, m.st.net.n_in(), "an input frame");
    reset(x);
  }
  m.check_rows(x, m.st.net.n_in(), "an input frame");
  const Structure& st = m.st;
  const core::FrameAxis& axis = st.axis;
  const double frame_start = axis.frame_start(m.k), ramp_end = axis.ramp_end(m.k),
               sample = axis.sample_time(m.k), end = axis.frame_start(m.k + 1);
  for (size_t l = 0; l < m.lanes.size(); ++l) {
    LaneData& d = m.lanes[l];
    d.x_prev = d.x_now;
    m.inputs(x, static_cast<Index>(l), d.x_now);
  }
  // The frame's stops (its ramp's end, its sample instant), without repeats (no ramp).
  std::vector<double> stops{frame_start};
  for (const double at : {ramp_end, sample, end})
    if (at > stops.back()) stops.push_back(at);
  // Noise currents are linear between their samples: every lane steps onto each sample (a kink),
  // as onto the ramp's end.
  const auto with_noise =
      std::find_if(m.noise.begin(), m.noise.end(), [](const auto& n) { return !n.empty(); });
  if (with_noise != m.noise.end()) {
    const double dt = with_noise->front().dt(), eps = axis.period_s * 1e-9;
    std::vector<double> grid;
    for (auto j = static_cast<long long>(std::floor(frame_start / dt)) + 1;
         static_cast<double>(j) * dt < end - eps; ++j) {
      const double t = static_cast<double>(j) * dt;
      if (std::none_of(stops.begin(), stops.end(),
                       [&](double s) { return std::abs(s - t) <= eps; }))
        grid.push_back(t);
    }
    stops.insert(stops.end(), grid.begin(), grid.end());
    std::sort(stops.begin(), stops.end());
  }
  const auto sample_stop = static_cast<size_t>(
      std::find(stops.begin(), stops.end(), std::max(sample, frame_start)) - stops.begin());
  m.with_pack([&](auto& p) {
    const int w = static_cast<int>(p.h_last.size());
    p.frame_start = frame_start;
    std::vector<size_t> holds(static_cast<size_t>(w));  // the lane in each slot
    size_t waiting = 0;                                 // the next lane to run the frame
    for (int b = 0; b < w && waiting < m.lanes.size(); ++b, ++waiting) {
      holds[static_cast<size_t>(b)] = waiting;
      m.load(p, b, waiting);
    }
    p.integrate(stops, sample_stop, [&](int b) {
      m.store(p, b, holds[static_cast<size_t>(b)]);
      if (waiting == m.lanes.size()) return false;
      holds[static_cast<size_t>(b)] = waiting;
      m.load(p, b, waiting++);
      return true;
    });
  });
  // Each lane's frame from its sampled states.
  const double u = st.net.unit_current_a;
  const Index B = m.batch, d = st.net.d();
  out.layers.resize(static_cast<size_t>(st.net.n_layers()));
  for (auto& f : out.layers) {
    f.candidate.resize(B, d);
    f.state.resize(B, d);
    f.output.resize(B, d);
  }
  out.logits.resize(B, st.net.n_out());
  for (Index b = 0; b < B; ++b) {
    const LaneData& lane = m.lanes[static_cast<size_t>(b)];
    const auto y = [&](int node) { return lane.sampled[static_cast<size_t>(node)]; };
    const auto I = [&](int node) { return std::exp(y(node)); };
    for (Index l = 0; l < st.net.n_layers(); ++l) {
      auto& f = out.layers[static_cast<size_t>(l)];
      const auto L = static_cast<size_t>(l);
      for (Index i = 0; i < d; ++i) {
        const auto ci = static_cast<size_t>(i);
        f.candidate(b, i) = I(st.candidate_node[L][ci]) / u;
        f.state(b, i) = I(st.state_node[L][ci]) / u;
        double sum = 0;
        for (const int n : st.output[L][ci].first) sum += I(n);
        for (const int n : st.output[L][ci].second) sum -= I(n);
        f.output(b, i) = sum / u;
      }
    }
    const Params& p = m.params[static_cast<size_t>(lane.params)];
    for (Index j = 0; j < st.net.n_out(); ++j) {
      const auto J = static_cast<size_t>(j);
      const auto sum = [&](const std::vector<Term>& terms, const std::vector<double>& gains) {
        double v = 0;
        for (size_t e = 0; e < terms.size(); ++e)
          v += gains[e] * I(terms[e].node) * (1 + terms[e].slope * (y(terms[e].node) - st.ln_ref));
        return v;
      };
      const double pos = p.logit_bias[J].first + sum(st.logit[J].first, p.logit_gain[J].first);
      const double neg = p.logit_bias[J].second + sum(st.logit[J].second, p.logit_gain[J].second);
      out.logits(b, j) = (pos - neg) / u;
    }
  }
  ++m.k;
}

std::vector<std::vector<CtCrossings>> ContinuousEngine::crossings(Index lane) const {
  const Impl& m = *impl_;
  const auto d = static_cast<size_t>(m.st.net.d());
  std::vector<std::vector<CtCrossings>> out(static_cast<size_t>(m.st.net.n_layers()),
                                            std::vector<CtCrossings>(d));
  if (lane < 0 || lane >= static_cast<Index>(m.lanes.size())) return out;
  const auto& cross = m.lanes[static_cast<size_t>(lane)].cross;
  for (size_t c = 0; c < cross.size(); ++c) out[c / d][c % d] = cross[c];
  return out;
}

long long ContinuousEngine::steps() const {
  return std::visit([](const auto& p) { return p.n_steps; }, impl_->pack);
}

int ContinuousEngine::pack_width() {
  return kPackWidth;
}

long long ContinuousEngine::iterations() const {
  return std::visit([](const auto& p) { return p.n_iterations; }, impl_->pack);
}

}  // namespace bmru::models
