#include "core/dataset_file.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "test_support.hpp"

namespace bmru::core {
namespace {

Dataset small() {
  Dataset ds;
  for (int c = 0; c < 3; ++c) {
    ds.append_clip(Matrix::Constant(4, 2, 0.5 * c));
    ds.name.push_back("clip" + std::to_string(c));
    ds.labels.push_back(c % 2);
    ds.speaker.push_back(c == 2 ? "b" : "a");
  }
  ds.classes = {"rest", "zero"};
  ds.splits = {{"speaker", {"train", "train", "test"}}, {"own", {"train", "val", "test"}}};
  ds.input_attrs = {
      {"feature_kind", std::string("mfcc")}, {"hop", std::int64_t{160}}, {"sample_rate", 16000.0}};
  return ds;
}

TEST(DatasetFile, RoundTripsEveryField) {
  test::TempDir dir;
  const Dataset ds = small();
  write_dataset(dir / "ds.h5", ds, {"9.9", "bmru test"});
  EXPECT_FALSE(std::filesystem::exists(dir / "ds.h5.part"));
  const Dataset back = read_dataset(dir / "ds.h5");
  EXPECT_EQ(back.sequences, 3);
  EXPECT_EQ(back.frames, 4);
  EXPECT_EQ(back.features, 2);
  EXPECT_EQ(back.inputs, ds.inputs);
  EXPECT_EQ(back.name, ds.name);
  EXPECT_EQ(back.labels, ds.labels);
  EXPECT_EQ(back.classes, ds.classes);
  EXPECT_EQ(back.speaker, ds.speaker);
  ASSERT_EQ(back.splits.size(), 2u);
  EXPECT_EQ(back.select("speaker", "test"), std::vector<Index>{2});
  EXPECT_EQ(back.select("own", "val"), std::vector<Index>{1});
  ASSERT_EQ(back.input_attrs.size(), 3u);
  // Attributes come back in name order, each with its type.
  EXPECT_EQ(back.input_attrs[0].name, "feature_kind");
  EXPECT_EQ(std::get<std::string>(back.input_attrs[0].value), "mfcc");
  EXPECT_EQ(std::get<std::int64_t>(back.input_attrs[1].value), 160);
  EXPECT_EQ(std::get<double>(back.input_attrs[2].value), 16000.0);
}

TEST(DatasetFile, InconsistentDatasetsAreRefusedBeforeWriting) {
  test::TempDir dir;
  Dataset ds = small();
  ds.labels[1] = 7;
  ds.splits[0].part[0] = "holdout";
  try {
    write_dataset(dir / "bad.h5", ds, {"9.9", "bmru test"});
    ADD_FAILURE() << "written";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("/labels[1] = 7"), std::string::npos) << m;
    EXPECT_NE(m.find("/split_speaker[0] = 'holdout'"), std::string::npos) << m;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.h5"));
  EXPECT_THROW(ds.append_clip(Matrix::Zero(5, 2)), InputError);
  EXPECT_THROW(small().select("voice", "test"), InputError);
  EXPECT_THROW(small().select("own", "holdout"), InputError);
}

}  // namespace
}  // namespace bmru::core
