#include "models/continuous_engine.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

#include "continuous_impl.hpp"
#include "core/errors.hpp"
#include "models/circuit_graph.hpp"

namespace bmru::models {

using core::Index;
using State = ct_detail::State;

// The node dynamics of the circuit graph: one state per line (held logit nodes are not lines:
// the logits are summed at the sample instant), a copy's gain as a term of the line it feeds,
// a line's gate area from its diode, the copies it drives and (a candidate's p-line) the
// cell's M1.
void ContinuousEngine::Impl::build() {
  const CircuitGraph g = build_graph(net);
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
    const Term t{index[static_cast<size_t>(c.from)], g.added(c), slope};
    if (index[static_cast<size_t>(c.to)] >= 0)
      at(c.to).in.push_back(t);
    else
      held[static_cast<size_t>(c.to)].first.push_back(t);
  }
  std::vector<double> held_bias(g.lines.size(), 0.0);
  for (const auto& b : g.biases) {
    if (index[static_cast<size_t>(b.to)] >= 0)
      at(b.to).bias_a += g.added(b);
    else
      held_bias[static_cast<size_t>(b.to)] += g.added(b);
  }
  for (const auto& gc : g.cells) {
    Cell cell;
    cell.in_node = index[static_cast<size_t>(gc.candidate)];
    at(gc.candidate).area_m2 += ref_area;  // the cell's M1
    cell.out_node = index[static_cast<size_t>(gc.output)];
    cell.ith_a = gc.beta_hi_a;
    cell.iw_a = gc.width_a;
    cell.ig_a = gc.alpha_a;
    cell.half_a = cell.ig_a / 2;
    cell.q_s = facts.cell_q_up_c / (facts.cell_q_up_c + facts.cell_q_down_c);
    cell.inv_q = 1.0 / (facts.cell_q_up_c + facts.cell_q_down_c);
    cell.init_on = gc.init_on;
    cells.push_back(cell);
  }
  for (const auto& layer : g.layers) {
    std::vector<int> cand, state;
    std::vector<std::pair<int, int>> out;
    for (const int l : layer.candidate) cand.push_back(index[static_cast<size_t>(l)]);
    for (const int c : layer.state) state.push_back(cells[static_cast<size_t>(c)].out_node);
    for (const auto& [p, n] : layer.output)
      out.push_back({index[static_cast<size_t>(p)], index[static_cast<size_t>(n)]});
    candidate_node.push_back(cand);
    state_node.push_back(state);
    output.push_back(out);
  }
  for (const auto& [p, n] : g.logits) {
    logit.push_back({held[static_cast<size_t>(p)].first, held[static_cast<size_t>(n)].first});
    logit_bias_pos.push_back(held_bias[static_cast<size_t>(p)]);
    logit_bias_neg.push_back(held_bias[static_cast<size_t>(n)]);
  }
  finish_build();
}

// The lines' time constants from the facts, and the flat term and Jacobian patterns with a
// topological order of the states.
void ContinuousEngine::Impl::finish_build() {
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
  cross.assign(static_cast<size_t>(net.n_layers()),
               std::vector<CtCrossings>(static_cast<size_t>(net.d())));
  flatten();
}

void ContinuousEngine::Impl::flatten() {
  term_start.assign(1, 0);
  jac_start.assign(1, 0);
  for (const Node& n : nodes) {
    for (const Term& t : n.in) {
      term_node.push_back(t.node);
      term_gain.push_back(t.gain);
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

ContinuousEngine::ContinuousEngine(const core::Network& net, const CtFacts& facts,
                                   const core::FrameAxis& axis, Integrator integrator)
    : impl_(std::make_unique<Impl>()) {
  impl_->integrator = integrator;
  core::validate(net);
  axis.check();
  impl_->net = net;
  impl_->facts = facts;
  impl_->axis = axis;
  impl_->build();
}

ContinuousEngine::~ContinuousEngine() = default;
ContinuousEngine::ContinuousEngine(ContinuousEngine&&) noexcept = default;

void ContinuousEngine::reset(Index batch) {
  if (batch != 1)
    throw InputError("ct engine: it integrates one sequence at a time (batch 1, got " +
                     std::to_string(batch) + ")");
  impl_->x_now.clear();  // the first step computes the operating point at its inputs
}

void ContinuousEngine::reset(const core::Matrix& x0) {
  Impl& m = *impl_;
  if (x0.cols() != m.net.n_in())
    throw InputError("ct engine: an input frame has " + std::to_string(x0.cols()) +
                     " values, the network takes " + std::to_string(m.net.n_in()));
  m.x_now.assign(static_cast<size_t>(2 * m.net.n_in()), 0.0);
  for (Index i = 0; i < m.net.n_in(); ++i) {
    const double v = x0(0, i) * m.net.unit_current_a;
    m.x_now[static_cast<size_t>(2 * i)] = std::max(v, 0.0);
    m.x_now[static_cast<size_t>(2 * i + 1)] = std::max(-v, 0.0);
  }
  m.x_prev = m.x_now;
  m.frame_start = 0;
  m.k = 0;
  m.y = State::Zero(static_cast<Index>(m.nodes.size() + m.cells.size()));
  for (size_t c = 0; c < m.cells.size(); ++c)
    m.y(static_cast<Index>(m.nodes.size() + c)) = m.cells[c].init_on ? 1.0 : 0.0;
  m.settle(0);
  m.n_steps = 0;
  m.h_last = 0;
}

void ContinuousEngine::set_state(Index layer, const core::Matrix& h) {
  Impl& m = *impl_;
  const auto d = m.net.d();
  for (Index i = 0; i < d; ++i) {
    const size_t c = static_cast<size_t>(layer * d + i);
    m.y(static_cast<Index>(m.nodes.size() + c)) = h(0, i) > 0 ? 1.0 : 0.0;
  }
}

void ContinuousEngine::step(const core::Matrix& x, core::Frame& out) {
  Impl& m = *impl_;
  if (m.x_now.empty()) reset(x);
  m.x_prev = m.x_now;
  for (Index i = 0; i < m.net.n_in(); ++i) {
    const double v = x(0, i) * m.net.unit_current_a;
    m.x_now[static_cast<size_t>(2 * i)] = std::max(v, 0.0);
    m.x_now[static_cast<size_t>(2 * i + 1)] = std::max(-v, 0.0);
  }
  for (auto& layer : m.cross) std::fill(layer.begin(), layer.end(), CtCrossings{});
  m.frame_start = m.axis.frame_start(m.k);
  const double ramp_end = m.axis.ramp_end(m.k), sample = m.axis.sample_time(m.k),
               end = m.axis.frame_start(m.k + 1);
  m.integrate(m.frame_start, ramp_end);
  m.integrate(ramp_end, sample);
  const double u = m.net.unit_current_a;
  const auto I = [&](int node) { return std::exp(m.y(node)); };
  out.layers.resize(static_cast<size_t>(m.net.n_layers()));
  for (Index l = 0; l < m.net.n_layers(); ++l) {
    auto& f = out.layers[static_cast<size_t>(l)];
    f.candidate.resize(1, m.net.d());
    f.state.resize(1, m.net.d());
    f.output.resize(1, m.net.d());
    for (Index i = 0; i < m.net.d(); ++i) {
      f.candidate(0, i) = I(m.candidate_node[static_cast<size_t>(l)][static_cast<size_t>(i)]) / u;
      f.state(0, i) = I(m.state_node[static_cast<size_t>(l)][static_cast<size_t>(i)]) / u;
      const auto& o = m.output[static_cast<size_t>(l)][static_cast<size_t>(i)];
      f.output(0, i) = (I(o.first) - I(o.second)) / u;
    }
  }
  out.logits.resize(1, m.net.n_out());
  for (Index j = 0; j < m.net.n_out(); ++j) {
    double pos = m.logit_bias_pos[static_cast<size_t>(j)],
           neg = m.logit_bias_neg[static_cast<size_t>(j)];
    for (const ct_detail::Term& t : m.logit[static_cast<size_t>(j)].first)
      pos += m.copied(t.gain, t.slope, m.y(t.node), I(t.node));
    for (const ct_detail::Term& t : m.logit[static_cast<size_t>(j)].second)
      neg += m.copied(t.gain, t.slope, m.y(t.node), I(t.node));
    out.logits(0, j) = (pos - neg) / u;
  }
  m.integrate(sample, end);
  ++m.k;
}

const std::vector<std::vector<CtCrossings>>& ContinuousEngine::crossings() const {
  return impl_->cross;
}
long long ContinuousEngine::steps() const {
  return impl_->n_steps;
}

}  // namespace bmru::models
