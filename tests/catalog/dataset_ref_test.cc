#include "catalog/dataset_ref.h"

#include "gtest/gtest.h"

namespace assay::catalog {
namespace {

TEST(DatasetRef, ParsesTheThreeForms) {
  auto latest = ParseDatasetRef("CHURN/providers");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->kind, DatasetRef::Kind::kLatest);
  EXPECT_EQ(latest->dataset.project, "CHURN");
  EXPECT_EQ(latest->dataset.name, "providers");

  auto version = ParseDatasetRef("CHURN/providers@v12");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->kind, DatasetRef::Kind::kVersion);
  EXPECT_EQ(version->version, 12);
  EXPECT_EQ(version->ToString(), "CHURN/providers@v12");

  auto hash = ParseDatasetRef("CHURN/providers@sha256:1f2e3d");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->kind, DatasetRef::Kind::kHashPrefix);
  EXPECT_EQ(hash->hash_prefix, "1f2e3d");
}

TEST(DatasetRef, RejectsMalformedReferencesWithTheForms) {
  for (const char* text :
       {"providers", "CHURN/", "/x", "churn/x", "CHURN/providers@v0", "CHURN/providers@v",
        "CHURN/providers@v1x", "CHURN/providers@latest", "CHURN/providers@sha256:abc",
        "CHURN/providers@sha256:XYZW", "CHURN/pro viders", "CHURN/a/b"}) {
    auto ref = ParseDatasetRef(text);
    EXPECT_EQ(ref.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  EXPECT_NE(ParseDatasetRef("CHURN/providers@latest").status().message().find("@v3"),
            absl::string_view::npos);
}

TEST(DatasetRef, ValidatesKeysAndNames) {
  EXPECT_TRUE(ValidateProjectKey("HCP_2026").ok());
  EXPECT_FALSE(ValidateProjectKey("2026").ok());
  EXPECT_FALSE(ValidateProjectKey(std::string(33, 'A')).ok());
  EXPECT_TRUE(ValidateDatasetName("rx.monthly-2026_v2").ok());
  EXPECT_FALSE(ValidateDatasetName("_hidden").ok());
  EXPECT_FALSE(ValidateDatasetName("a@b").ok());
}

}  // namespace
}  // namespace assay::catalog
