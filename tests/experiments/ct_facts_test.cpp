// The ct model's facts as JSON: the job payload round trip and `--ct-facts` overrides.
#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "experiments/fidelity.hpp"

namespace bmru::experiments {
namespace {

TEST(CtFacts, RoundTripAndOverridesNameTheFileAndField) {
  models::CtFacts f;
  f.cap_per_area_p_f_m2 = 3.1e-3;
  f.cell_q_up_c = 7e-16;
  const models::CtFacts back = ct_facts_from_json(ct_facts_to_json(f));
  EXPECT_EQ(back.cap_per_area_p_f_m2, f.cap_per_area_p_f_m2);
  EXPECT_EQ(back.cell_q_up_c, f.cell_q_up_c);
  EXPECT_EQ(back.slope_v, f.slope_v);
  f.mirror_slope_p = -4.7e-3;
  EXPECT_EQ(ct_facts_from_json(ct_facts_to_json(f)).mirror_slope_p, f.mirror_slope_p);

  models::CtFacts g = f;
  update_ct_facts(g, R"({"cell_q_down_c": 2e-14})", "my.json");
  EXPECT_EQ(g.cell_q_down_c, 2e-14);
  EXPECT_EQ(g.cell_q_up_c, f.cell_q_up_c);                         // the others stay
  update_ct_facts(g, R"({"mirror_slope_p": -0.005})", "my.json");  // gain errors have either sign
  EXPECT_EQ(g.mirror_slope_p, -0.005);
  for (const auto& [text, part] : std::vector<std::pair<std::string, std::string>>{
           {R"({"cell_q": 1})", "unknown field 'cell_q'"},
           {R"({"floor_a": 0})", "floor_a must be a positive number"},  // a line rests at ln floor
           {R"({"cell_q_up_c": -1})", "cell_q_up_c must be a non-negative number"},
           {R"({"mirror_slope_n": "x"})", "mirror_slope_n must be a finite number"},
           {R"([1, 2])", "must be a JSON object"},
           {R"({"floor_a": )", "is not valid JSON"}}) {
    try {
      update_ct_facts(g, text, "my.json");
      ADD_FAILURE() << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("my.json"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace bmru::experiments
